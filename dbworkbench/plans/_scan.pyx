# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""C readers for the two commonest lines of a TEXT plan (built by ``make speedups``).

A node line's annotations, ``  (cost=A..B rows=C width=D) (actual time=E..F rows=G loops=H)``,
and a ``Buffers: shared hit=N read=M`` line make up 60 % of a big plan's
lines and, read with Python string operations, a third of its parse time.

Each function here gives exactly what its Python twin in ``_text.py`` gives
(``_usual_annotations``, ``_shared_only``), or ``NotImplemented`` when the text
is not in the plain ASCII form read here (an exponent, a sign on a count,
a tab, a digit outside ASCII, a number over 18 digits): the caller then asks
the twin. ``tests/plans/test_speedups.py`` holds them to that.
"""

from cpython.conversion cimport PyOS_string_to_double
from libc.stdlib cimport strtoll

cdef enum:
    MAX_DIGITS = 18  # an int64 holds any 18-digit count
    BUF = 48  # a sign, 18 digits, a point, 18 digits and the end
    ZERO = 48  # the characters compared, as code points
    NINE = 57
    MINUS = 45
    POINT = 46
    SPACE = 32


cdef inline bint _lit(str s, Py_ssize_t n, Py_ssize_t *i, str lit):
    """Whether ``lit`` is at ``s[i]``; moves ``i`` past it when so."""
    cdef Py_ssize_t m = len(lit)
    cdef Py_ssize_t j
    if i[0] + m > n:
        return False
    for j in range(m):
        if s[i[0] + j] != lit[j]:
            return False
    i[0] += m
    return True


cdef Py_ssize_t _digits(str s, Py_ssize_t n, Py_ssize_t *i, char *buf, Py_ssize_t *k):
    """Copy the ASCII digits at ``s[i]`` into ``buf[k]``: how many (up to MAX_DIGITS), or -1 for more."""
    cdef Py_ssize_t count = 0
    cdef long c  # a code point
    while i[0] < n:
        c = <long>s[i[0]]
        if c < ZERO or c > NINE:
            break
        count += 1
        if count > MAX_DIGITS:
            return -1
        buf[k[0]] = <char>c
        k[0] += 1
        i[0] += 1
    return count


cdef object _number(str s, Py_ssize_t n, Py_ssize_t *i, bint signed, bint fraction, bint as_float):
    """``-?digits(.digits)?`` at ``s[i]`` as ``float()``/``int()`` read it, or None when it is not there.

    ``signed``: a leading minus is allowed; ``fraction``: a fractional part is
    allowed (and then makes a float); ``as_float``: a float even without one.
    """
    cdef char buf[BUF]
    cdef Py_ssize_t k = 0
    cdef bint is_float = as_float
    cdef char *end
    if signed and i[0] < n and <long>s[i[0]] == MINUS:
        buf[k] = b'-'
        k += 1
        i[0] += 1
    if _digits(s, n, i, buf, &k) <= 0:
        return None
    if fraction and i[0] + 1 < n and <long>s[i[0]] == POINT and ZERO <= <long>s[i[0] + 1] <= NINE:
        is_float = True
        buf[k] = b'.'
        k += 1
        i[0] += 1
        if _digits(s, n, i, buf, &k) < 0:
            return None
    buf[k] = 0
    if not is_float:
        return strtoll(buf, NULL, 10)  # unsigned, at most 18 digits: only counts are read as ints
    d = PyOS_string_to_double(buf, &end, NULL)
    return d if end == buf + k else None


# how a number is read: a time or cost (maybe negative, maybe fractional, always a float),
# a count (an int), or actual rows (an int, or a float when PostgreSQL 18 prints decimals)
cdef enum:
    TIME = 0
    COUNT = 1
    ROWS = 2

COSTS = ((u"  (cost=", TIME), (u"..", TIME), (u" rows=", COUNT), (u" width=", COUNT))
ACTUALS = ((u" (actual time=", TIME), (u"..", TIME), (u" rows=", ROWS), (u" loops=", COUNT))


cdef list _fields(str s, Py_ssize_t n, Py_ssize_t *i, tuple fields):
    """The number after each (text, kind) of ``fields`` in turn, then a ``)``; None where the line differs."""
    cdef list out = []
    cdef int kind
    for text, kind in fields:
        if not _lit(s, n, i, text):
            return None
        value = _number(s, n, i, kind == TIME, kind != COUNT, kind == TIME)
        if value is None:
            return None
        out.append(value)
    return out if _lit(s, n, i, u")") else None


def usual_annotations(str s, Py_ssize_t k):
    """``_text._usual_annotations(s, k)``, or NotImplemented when the text is not in the form read here."""
    cdef Py_ssize_t n = len(s)
    cdef Py_ssize_t i = k
    cdef list costs, actuals
    if k < 0:
        return NotImplemented
    while n > i and <long>s[n - 1] == SPACE:
        n -= 1
    costs = _fields(s, n, &i, COSTS)
    if costs is None:
        return NotImplemented
    if i == n:
        return (*costs, None, None, None, None)
    if _lit(s, n, &i, u" (never executed)"):
        return (*costs, 0.0, 0.0, 0, 0) if i == n else NotImplemented
    actuals = _fields(s, n, &i, ACTUALS)
    if actuals is None or i != n:
        return NotImplemented
    return (*costs, *actuals)


def shared_only(str value):
    """``_text._shared_only(value)``, or NotImplemented when the text is not in the form read here."""
    cdef Py_ssize_t n = len(value)
    cdef Py_ssize_t i = 0
    cdef list out = [None, None, None, None]
    cdef Py_ssize_t slot
    cdef object got
    if not _lit(value, n, &i, u"shared"):
        return None
    for slot, word in enumerate((u" hit=", u" read=", u" dirtied=", u" written=")):
        if _lit(value, n, &i, word):
            got = _number(value, n, &i, False, False, False)
            if got is None:
                return NotImplemented
            out[slot] = got
    if i != n:
        return NotImplemented
    return tuple(out)
