"""Turn pasted plan text into clean lines: no psql frames, quotes, log prefixes or footers.

Every cleaned line keeps the 1-based number of the input line it came from, so
errors can name a line of what the user pasted. All the work here is line by
line with plain string operations; the few regular expressions are anchored and
cannot backtrack badly on long lines.
"""

from __future__ import annotations

import re

_LOG_MARKER = re.compile(r"duration: \d+(?:\.\d+)? ms +plan:")
_LOG_NEW_ENTRY = re.compile(
    r"^\S.{0,200}?\b(?:LOG|ERROR|WARNING|DETAIL|STATEMENT|HINT|CONTEXT|FATAL|PANIC|INFO|NOTICE|DEBUG\d?):  ?"
)
_SYSLOG_CONT = re.compile(r"^.{0,200}?\[\d+-\d+\] ?")
_FOOTER = re.compile(r"^\s*\(\d+ [^\s()]{1,20}\)\s*$")
_EXPANDED_RECORD = re.compile(r"^-\[ RECORD \d+ \]")

_RULE_CHARS = frozenset("-─━═+┼╪╬")
_BORDERS = "|│┃║"
_CONT_MARKS = ("+", "↵")


# One cleaned line: (number of the input line it starts on, text). Plain tuples:
# a plan can have hundreds of thousands of lines.
Line = tuple[int, str]


def split_lines(text: str) -> list[Line]:
    """The input as lines, numbered from 1, with line ends and a BOM removed."""
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    parts = text.split("\n")
    return list(zip(range(1, len(parts) + 1), parts))


def strip_auto_explain(lines: list[Line]) -> tuple[list[Line], bool]:
    """Keep only the plan of the first auto_explain log entry, if there is one.

    Handles the ``LOG:  duration: 1.234 ms  plan:`` line with any log_line_prefix,
    the tab PostgreSQL puts before each continuation line of a multi-line message,
    syslog's ``[N-M]`` continuation prefixes, and stops at the next log entry.
    """
    for i, line in enumerate(lines):
        m = _LOG_MARKER.search(line[1])
        if m is None:
            continue
        out: list[Line] = []
        rest = line[1][m.end() :].strip()
        if rest:
            out.append((line[0], rest))
        for nxt in lines[i + 1 :]:
            s = nxt[1]
            if s.startswith("\t"):
                out.append((nxt[0], s[1:]))
                continue
            c = _SYSLOG_CONT.match(s)
            if c is not None and not _LOG_NEW_ENTRY.match(s[c.end() :]):
                body = s[c.end() :]
                out.append((nxt[0], body[1:] if body.startswith("\t") else body))
                continue
            if _LOG_NEW_ENTRY.match(s):
                break
            out.append((nxt[0], s))
        return out, True
    return lines, False


_RULE_LINE = re.compile(r"[-+=─━═│┃║┌┐└┘├┤┬┴┼╞╡╪╔╗╚╝╟╢╠╣╦╩╬╒╕╘╛╤╧╫╓╖╙╜|: ]*")


def _is_rule(s: str) -> bool:
    """A separator or frame line: only frame characters, with some rule characters."""
    if _RULE_LINE.fullmatch(s) is None:
        return False
    t = s.strip()
    if len(t) < 2:
        return False
    rule = sum(1 for ch in t if ch in _RULE_CHARS)
    return rule >= 2 and rule * 2 >= len(t.replace(" ", ""))


def _majority(count: int, total: int) -> bool:
    return total > 0 and count * 5 >= total * 4  # 80 %


_SAMPLE = 400  # decorations are decided on this many content lines


def clean(lines: list[Line]) -> list[Line]:
    """Remove psql and GUI decorations; keep blank lines (they matter to the TEXT parser).

    Handles: borders (``|``, ``│``, ``║``) on either side, ``+`` and ``↵`` continuation
    marks, rule lines, ``QUERY PLAN | ...`` expanded display, lines quoted as CSV cells
    (``"..."`` with doubled quotes, ``'...'``, a lone trailing quote), a whole input
    quoted as one cell, and tabs (4 spaces each). Which decorations are there is
    decided on a sample of lines, so this stays fast on long plans.
    """
    lines = _unquote(lines)
    sample = _content_sample(lines)
    # expanded display (\x): "QUERY PLAN | <line>"
    exp = [t for t in sample if _EXPANDED.match(t)]
    if exp and _majority(len(exp), len([t for t in sample if not _EXPANDED_RECORD.match(t)])):
        out = []
        for ln in lines:
            m = _EXPANDED.match(ln[1])
            if m:
                out.append((ln[0], ln[1][m.end() :]))
            elif not _EXPANDED_RECORD.match(ln[1]):
                out.append(ln)
        lines = out
        sample = _content_sample(lines)
    n = len(sample)
    left = _majority(sum(1 for t in sample if t[:1] in _BORDERS), n)
    right = _majority(sum(1 for t in sample if t.rstrip()[-1:] in _BORDERS), n)
    marks = sum(1 for t in sample if _unborder(t, left, right).rstrip().endswith(_CONT_MARKS))
    strip_marks = marks >= 2 and marks * 2 >= n
    if not (left or right or strip_marks):  # the usual case: only rule lines to blank out
        return _blank_rules(lines)
    out = []
    for ln in lines:
        s = ln[1]
        if not s or s.isspace():
            out.append(ln)
            continue
        if _is_rule(s):
            out.append((ln[0], ""))
            continue
        if left or right or strip_marks:
            s = _unborder(s, left, right)
            if strip_marks:
                r = s.rstrip()
                if r.endswith(_CONT_MARKS):
                    s = r[:-1].rstrip()
            ln = (ln[0], s)
        out.append(ln)
    return out


_FRAME_STR = "-+=─━═│┃║┌┐└┘├┤┬┴┼╞╡╪╔╗╚╝╟╢╠╣╦╩╬╒╕╘╛╤╧╫╓╖╙╜|: "


def _blank_rules(lines: list[Line]) -> list[Line]:
    """Blank out rule lines (lines stay numbered).

    A rule's first visible character is a frame character: that one look rules
    out nearly every line before the closer ones.
    """
    rows = []
    for i, ln in enumerate(lines):
        t = ln[1].lstrip()
        if t and t[0] in _FRAME_STR and not t.strip(_FRAME_STR) and _is_rule(ln[1]):
            rows.append(i)
    if not rows:
        return lines
    out = list(lines)
    for i in rows:
        out[i] = (lines[i][0], "")
    return out


def _unborder(s: str, left: bool, right: bool) -> str:
    if left and s[:1] in _BORDERS:
        s = s[1:]
        if s.startswith(" "):
            s = s[1:]
    if right:
        r = s.rstrip()
        if r[-1:] in _BORDERS:
            s = r[:-1].rstrip()
    return s


_EXPANDED = re.compile(r"^\s*QUERY PLAN\s*[|│] ?")


def _content_sample(lines: list[Line]) -> list[str]:
    out = []
    for ln in lines:
        t = ln[1]
        if t and not t.isspace() and not _is_rule(t):
            out.append(t)
            if len(out) >= _SAMPLE:
                break
    return out


def _unquote(lines: list[Line]) -> list[Line]:
    content = []
    for ln in lines:
        if ln[1] and not ln[1].isspace():
            content.append(ln)
            if len(content) >= _SAMPLE:
                break
    if not content:
        return lines
    last_line = next(ln for ln in reversed(lines) if ln[1] and not ln[1].isspace())
    stripped = [ln[1].strip() for ln in content]
    if not any(s[:1] in "\"'" or s[-1:] in "\"'" for s in stripped):
        return lines
    n = len(stripped)
    both_dq = sum(1 for s in stripped if len(s) >= 2 and s[0] == '"' and s[-1] == '"')
    if _majority(both_dq, n) and both_dq >= 1 and not _looks_like_json_lines(stripped):
        return [_strip_quotes(ln, '"', both=True) for ln in lines]
    both_sq = sum(1 for s in stripped if len(s) >= 2 and s[0] == "'" and s[-1] == "'")
    if _majority(both_sq, n):
        return [_strip_quotes(ln, "'", both=True) for ln in lines]
    tail_dq = sum(1 for s in stripped if s.endswith('"') and not s.startswith('"'))
    if _majority(tail_dq, n) and not _looks_like_json_lines(stripped):
        return [(ln[0], ln[1].rstrip()[:-1]) if ln[1].rstrip().endswith('"') else ln for ln in lines]
    # one CSV cell holding the whole plan: "[ ... ]" with doubled quotes inside
    first, last = content[0], last_line
    f, la = first[1].strip(), last[1].strip()
    if f.startswith('"') and la.endswith('"') and (first is not last or len(f) > 1):
        out = []
        for ln in lines:
            s = ln[1]
            if ln is first:
                s = s.lstrip()[1:]
            if ln is last:
                s = s.rstrip()[:-1]
            out.append((ln[0], s.replace('""', '"')))
        return out
    return lines


def _looks_like_json_lines(stripped: list[str]) -> bool:
    """JSON members like ``"Node Type": "Seq Scan",`` also start and end with a quote."""
    return sum(1 for s in stripped if s.startswith('"') and '":' in s) * 2 >= len(stripped)


def _strip_quotes(ln: Line, q: str, *, both: bool) -> Line:
    s = ln[1].strip()
    if len(s) >= 2 and s[0] == q and s[-1] == q:
        s = s[1:-1]
        if q == '"':
            s = s.replace('""', '"')
        return (ln[0], s)
    if s.startswith(q) and both:
        return (ln[0], s[1:].replace('""', '"') if q == '"' else s[1:])
    if s.endswith(q) and both:
        return (ln[0], s[:-1])
    return ln


def is_footer(s: str) -> bool:
    """psql's ``(3 rows)`` in any language."""
    return _FOOTER.match(s) is not None
