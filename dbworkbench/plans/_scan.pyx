# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""C readers for the two commonest lines of a TEXT plan (built by ``make speedups``).

A node line's annotations, ``  (cost=A..B rows=C width=D) (actual time=E..F rows=G loops=H)``,
and a ``Buffers: shared hit=N read=M`` line make up 60 % of a big plan's
lines and, read with Python string operations, a third of its parse time.

Each function here gives exactly what its Python twin in ``_text.py`` gives
(``_usual_annotations``, ``_shared_only``), or ``NotImplemented`` when the text
is not in the plain form read here (an exponent, a sign on a count, a tab,
a digit outside ASCII, a number over 18 digits, a character beyond Latin-1
anywhere in the line): the caller then asks the twin. ``tests/plans/test_speedups.py`` holds them to that.
"""

from cpython.conversion cimport PyOS_string_to_double
from cpython.unicode cimport PyUnicode_1BYTE_DATA, PyUnicode_1BYTE_KIND, PyUnicode_GET_LENGTH, PyUnicode_KIND
from libc.string cimport memcmp, memcpy, strlen

cdef enum:
    MAX_DIGITS = 18  # an int64 holds any 18-digit count
    BUF = 48  # a sign, 18 digits, a point, 18 digits and the end
    # how a number is read: a time or cost (maybe negative, maybe fractional, always a float),
    # a count (an int), or actual rows (an int, or a float when PostgreSQL 18 prints decimals)
    TIME = 0
    COUNT = 1
    ROWS = 2


cdef struct Cursor:
    const char *p  # the characters of a Latin-1 str, one byte each
    Py_ssize_t i  # where reading is
    Py_ssize_t n  # where the text ends


cdef struct Field:
    const char *before  # the text before the number
    int kind


cdef Field COSTS[4]
COSTS[0] = Field("  (cost=", TIME)
COSTS[1] = Field("..", TIME)
COSTS[2] = Field(" rows=", COUNT)
COSTS[3] = Field(" width=", COUNT)
cdef Field ACTUALS[4]
ACTUALS[0] = Field(" (actual time=", TIME)
ACTUALS[1] = Field("..", TIME)
ACTUALS[2] = Field(" rows=", ROWS)
ACTUALS[3] = Field(" loops=", COUNT)
cdef Field BUFFERS[4]
BUFFERS[0] = Field(" hit=", COUNT)
BUFFERS[1] = Field(" read=", COUNT)
BUFFERS[2] = Field(" dirtied=", COUNT)
BUFFERS[3] = Field(" written=", COUNT)


cdef inline bint _open(Cursor *c, str s, Py_ssize_t start):
    """Point ``c`` at ``s[start:]``; False when ``s`` has characters beyond Latin-1."""
    if PyUnicode_KIND(s) != PyUnicode_1BYTE_KIND:
        return False
    c.p = <const char *>PyUnicode_1BYTE_DATA(s)
    c.i = start
    c.n = PyUnicode_GET_LENGTH(s)
    return True


cdef inline bint _lit(Cursor *c, const char *text):
    """Whether ``text`` comes next; moves past it when so."""
    cdef Py_ssize_t m = <Py_ssize_t>strlen(text)
    if c.i + m > c.n or memcmp(c.p + c.i, text, m) != 0:
        return False
    c.i += m
    return True


cdef inline bint _digit(Cursor *c, Py_ssize_t at):
    return at < c.n and b'0' <= c.p[at] <= b'9'


cdef double POWERS[19]  # exact powers of ten, 1e0 to 1e18
cdef int _power
POWERS[0] = 1.0
for _power in range(1, 19):
    POWERS[_power] = POWERS[_power - 1] * 10.0


cdef Py_ssize_t _digits(Cursor *c, long long *value):
    """Move past the digits that come next, adding them to ``value``: how many (up to MAX_DIGITS), or -1 for more."""
    cdef Py_ssize_t start = c.i
    while _digit(c, c.i):
        if c.i - start == MAX_DIGITS:
            return -1
        value[0] = value[0] * 10 + (c.p[c.i] - 48)  # 48: the code of "0"
        c.i += 1
    return c.i - start


cdef object _number(Cursor *c, int kind):
    """The number that comes next as ``float()``/``int()`` read it, or None when there is none.

    A float of at most 15 digits is its digits divided by a power of ten: both
    are exact doubles and the division is rounded correctly, which is what
    ``float()`` gives (Clinger's fast path). Longer ones go to ``float()``'s own
    reader, ``PyOS_string_to_double``.
    """
    cdef char buf[BUF]
    cdef char *end
    cdef Py_ssize_t start = c.i
    cdef Py_ssize_t whole, fraction = 0
    cdef long long digits = 0
    cdef bint negative = False
    cdef double d
    if kind == TIME and c.i < c.n and c.p[c.i] == b'-':
        negative = True
        c.i += 1
    whole = _digits(c, &digits)
    if whole <= 0:
        return None
    if kind != COUNT and c.i < c.n and c.p[c.i] == b'.' and _digit(c, c.i + 1):
        c.i += 1
        fraction = _digits(c, &digits)
        if fraction < 0 or whole + fraction > MAX_DIGITS:
            return None
    elif kind != TIME:
        return digits  # a count: unsigned, at most 18 digits
    if whole + fraction <= 15:
        d = digits / POWERS[fraction]
        return -d if negative else d
    memcpy(buf, c.p + start, c.i - start)
    buf[c.i - start] = 0
    d = PyOS_string_to_double(buf, &end, NULL)
    return d if end == buf + (c.i - start) else None


cdef list _fields(Cursor *c, Field *fields, Py_ssize_t count, bint optional):
    """The number after each field's text in turn; None where the text differs.

    ``optional``: a field whose text does not come next is None and skipped.
    """
    cdef list out = [None] * count
    cdef Py_ssize_t j
    for j in range(count):
        if not _lit(c, fields[j].before):
            if optional:
                continue
            return None
        value = _number(c, fields[j].kind)
        if value is None:
            return None
        out[j] = value
    return out


def usual_annotations(str s, Py_ssize_t k):
    """``_text._usual_annotations(s, k)``, or NotImplemented when the text is not in the form read here."""
    cdef Cursor c
    cdef list costs, actuals
    if k < 0 or not _open(&c, s, k):
        return NotImplemented
    while c.n > c.i and c.p[c.n - 1] == b' ':
        c.n -= 1
    costs = _fields(&c, COSTS, 4, False)
    if costs is None or not _lit(&c, ")"):
        return NotImplemented
    if c.i == c.n:
        return (*costs, None, None, None, None)
    if _lit(&c, " (never executed)"):
        return (*costs, 0.0, 0.0, 0, 0) if c.i == c.n else NotImplemented
    actuals = _fields(&c, ACTUALS, 4, False)
    if actuals is None or not _lit(&c, ")") or c.i != c.n:
        return NotImplemented
    return (*costs, *actuals)


def shared_only(str value):
    """``_text._shared_only(value)``, or NotImplemented when the text is not in the form read here."""
    cdef Cursor c
    cdef list counts
    if not value.startswith("shared"):
        return None
    if not _open(&c, value, 6):
        return NotImplemented
    counts = _fields(&c, BUFFERS, 4, True)
    if counts is None or c.i != c.n:
        return NotImplemented
    return tuple(counts)
