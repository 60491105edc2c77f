"""Rows of a CSV file named by their line, as a planner finds them (docs/input-data.md).

A CSV is opened in a text editor or in Excel / WPS to find a row a message names, and
pandas' own parser errors quote lines (``Expected 5 fields in line 7``). So every message
about a CSV names **lines of the file**: the header is line 1, the first data row under
it line 2; blank lines count, and a value with line breaks inside its quotes counts as
one line (Excel's row numbers, and pandas' numbering). GIS layers keep their 1-based row
(feature) numbers.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np

#: What a message calls the rows of a CSV when their lines could not be worked out (the
#: parser and this count disagree): data rows, 1 = the first row under the header.
DATA_ROW = "data row"


def csv_lines(data: bytes | str, n_rows: int, sep: str = ",") -> np.ndarray | None:
    """The line of the file (1-based, the header on its line) of each of the ``n_rows``
    data rows pandas or GDAL read from ``data``; None when they cannot be matched.

    Examples
    --------
    >>> csv_lines(b"a,b\\n1,2\\n3,4\\n", 2).tolist()
    [2, 3]
    >>> csv_lines('a,b\\n1,"x\\ny"\\n\\n3,4\\n', 2).tolist()   # a quoted line break; a blank line
    [2, 4]
    """
    if n_rows == 0:
        return np.zeros(0, dtype=np.int64)
    newline = b"\n" if isinstance(data, bytes) else "\n"
    physical = data.count(newline) + (0 if data.endswith(newline) else 1)
    if physical == n_rows + 1:    # no blank line, no line break inside a value: the fast path
        return np.arange(2, n_rows + 2, dtype=np.int64)
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data.lstrip("\ufeff")
    lines: list[int] = []
    header = False
    for line, fields in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=sep), start=1):
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue   # blank lines: skipped by the parsers, counted as lines
        if header:
            lines.append(line)
        header = True
    return np.asarray(lines, dtype=np.int64) if len(lines) == n_rows else None


def csv_separator(head: str, suffix: str) -> str:
    """The separator of a CSV from its first line: tab for ``.tsv``, else the most frequent
    of ``,`` ``;`` and tab (GDAL's automatic choice)."""
    if suffix.lower() == ".tsv":
        return "\t"
    first = head.split("\n", 1)[0]
    return max((",", ";", "\t"), key=first.count)


def csv_head(data: bytes | str, sep: str = ",") -> tuple[list[str], tuple[int, int] | None]:
    """The header's names as written (pandas renames a repeated name ``x`` to ``x.1``) and
    ``(line, number of values)`` of the first data row under it (the row pandas reads as an
    index when it has more values than the header), None without one. Reads only that far.

    Examples
    --------
    >>> csv_head(b"a,b,a\\n\\n1,2,3,4\\n5,6\\n")
    (['a', 'b', 'a'], (3, 4))
    """
    reader = _rows(data, sep)
    header: list[str] | None = None
    before = 0
    for fields in reader:
        start, before = before + 1, reader.line_num
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        if header is not None:
            return header, (start, len(fields))
        header = fields
    return header or [], None


def too_many_values(line: int, expected: int, saw: int) -> str:
    """What a row with more values than the header is called (pandas' parser error, and
    a first row pandas would silently read as an index)."""
    return (f"line {line} has {saw} values but the header has {expected}; a separator inside a value "
            "that is not in quotes?")


def _rows(data: bytes | str, sep: str):
    """csv.reader over ``data`` (bytes decoded as they are read)."""
    stream = (io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", errors="replace", newline="")
              if isinstance(data, bytes) else io.StringIO(data.lstrip("\ufeff"), newline=""))
    return csv.reader(stream, delimiter=sep)


def extra_values(data: bytes | str, sep: str = ",") -> str | None:
    """The rows with more values than the header, in the words of :func:`too_many_values`
    (GDAL's CSV driver drops such values without a word: a value such as 1,200 not in
    quotes becomes 1, and the 200 is lost); None when there is none.

    Examples
    --------
    >>> extra_values(b"a,b\\n1,2\\n3,4,5\\n6,7\\n")
    'line 3 has 3 values but the header has 2; a separator inside a value that is not in quotes?'
    >>> extra_values(b'a,b\\n"1,5",2\\n3,4,\\n') is None
    True
    """
    header, _ = csv_head(data, sep)
    if max(map(len, _rows(data, sep)), default=0) <= len(header):   # one pass in C: the usual case
        return None
    wide: list[tuple[int, int]] = []
    reader = _rows(data, sep)
    before = 0
    for fields in reader:
        start, before = before + 1, reader.line_num
        if len(fields) > len(header) and any(v.strip() for v in fields[len(header):]):
            wide.append((start, len(fields)))   # (not a line that merely ends in a separator)
    if not wide:
        return None
    line, saw = wide[0]
    if len(wide) == 1:
        return too_many_values(line, len(header), saw)
    return (f"{len(wide)} lines have more values than the header's {len(header)} ("
            f"{', '.join(str(ln) for ln, _ in wide[:10])}{' ...' if len(wide) > 10 else ''}; line {line} has "
            f"{saw}); a separator inside a value that is not in quotes?")


_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_OPEN_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")


def parser_message(text: str) -> str:
    """pandas' CSV parser error in the numbering of :func:`csv_lines` (its ``line N`` is
    already a line; its ``row N`` counts from 0) and in words a planner can act on."""
    text = " ".join(text.split())
    found = _FIELDS.search(text)
    if found:
        expected, line, saw = map(int, found.groups())
        return too_many_values(line, expected, saw)
    found = _OPEN_QUOTE.search(text)
    if found:
        return (f"the quoted value starting on line {int(found.group(1)) + 1} is not closed "
                "(a \" without its closing \"); close it or remove the quote")
    return text
