"""Tables read from a spreadsheet (``.xlsx``, ``.ods``), rows named as the spreadsheet shows them.

A planner finds the row a message names by the number Excel, WPS or LibreOffice shows
beside it, so every message about a spreadsheet names **its rows as the sheet numbers
them**: the header on row 1 (or wherever it is), the first data row under it row 2.

GDAL's XLSX and ODS drivers read a sheet from its first row, empty rows included (an
empty row between rows of data comes back as a row of empty values; empty rows after
the data do not come back), and give each row its row number in the sheet as its FID.
They take row 1 for the header when its cells are text and row 2 holds a number;
otherwise every row comes back as data under ``Field1``, ``Field2``, ... (a title or
empty rows above the header, a sheet of text cells, a header-only sheet). Here the
header row is then found by its names, wholly empty rows are skipped (as a CSV's blank
lines are) and each data row keeps its sheet row number.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
import pyogrio

from geo.layers._report import _Ctx, _list, _Report

logger = logging.getLogger(__name__)

#: the spreadsheets GDAL reads (``.xls`` needs FreeXL, which pyogrio's wheels lack)
SHEET_SUFFIXES = (".xlsx", ".ods")
#: how far down a sheet its header row is looked for (a title, notes, empty rows above it)
HEADER_SEARCH_ROWS = 50


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index.

    Examples
    --------
    >>> column_letter(0), column_letter(25), column_letter(26), column_letter(701)
    ('A', 'Z', 'AA', 'ZZ')
    """
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Each cell as stripped text, ``""`` when empty."""
    return frame.apply(lambda col: col.astype("string").str.strip().fillna("")).astype(object)


def _numeric(text: pd.DataFrame) -> np.ndarray:
    """Which cells (as text) are numbers."""
    values = pd.to_numeric(pd.Series(text.to_numpy().ravel()), errors="coerce").to_numpy()
    return np.isfinite(values.astype("float64")).reshape(text.shape)


def read_sheet(ctx: _Ctx, layer: str, names: set[str], report: _Report) -> pd.DataFrame | None:
    """The table of one sheet under its header row; ``attrs["rows"]``: each row's number in
    the sheet. ``names``: column names the header is expected to hold (it is the first row
    with one of them, else the first non-empty row of text). None after reporting."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        read = pyogrio.read_dataframe(ctx.path, layer=layer, read_geometry=False, fid_as_index=True,
                                      use_arrow=True)
    rows = read.index.to_numpy(dtype=np.int64)
    frame = pd.DataFrame(read).reset_index(drop=True)
    generic = list(frame.columns) == [f"Field{i + 1}" for i in range(frame.shape[1])]
    if generic and len(rows) and rows[0] == 1:   # GDAL did not take row 1 for the header
        found = _header(ctx, frame, rows, names, report)
        if found is None:
            return None
        frame, rows = found
    text = _cells(frame)
    filled = (text != "").any(axis=1).to_numpy() if frame.shape[1] else np.zeros(len(frame), bool)
    frame = frame.loc[filled].reset_index(drop=True)
    frame.attrs["rows"] = rows[filled]
    return frame


def _header(ctx: _Ctx, frame: pd.DataFrame, rows: np.ndarray, names: set[str],
            report: _Report) -> tuple[pd.DataFrame, np.ndarray] | None:
    """``(data rows under the header, their sheet rows)`` of a sheet read without one."""
    top = _cells(frame.iloc[:HEADER_SEARCH_ROWS])
    numeric = _numeric(top)
    filled = (top != "").to_numpy()
    wordy = filled.any(1) & ~(numeric & filled).any(1)   # text only: a header (or a title)
    named = top.isin(names).any(axis=1).to_numpy()
    if named.any():
        at = int(np.argmax(named))
    elif wordy.any():   # the widest row of text (not a title above it)
        width = np.where(wordy, filled.sum(1), -1)
        at = int(np.argmax(width))
    else:
        return frame, rows   # no header row: the columns keep GDAL's names Field1, Field2, ...
    header = top.iloc[at].tolist()
    below = next((i for i in range(at + 1, len(top)) if filled[i].any()), None)
    blanks = [i for i, v in enumerate(header) if not v and any(header[i + 1:]) and any(header[:i])]
    if below is not None and wordy[below] and blanks:
        report.error(f"{ctx.at()} the header looks like it spans rows {rows[at]} and {rows[below]} (merged "
                     f"cells?): {_list([v for v in header if v])} over {_list([v for v in top.iloc[below] if v])}; "
                     "give the table a single header row with one name per column (e.g. "
                     f"{header[0] or 'home'}_{top.iloc[below].iloc[0] or 'x'}) and data from the row under it")
        return None
    if at:
        logger.info("%s the header is on row %d; rows above it skipped", ctx.at(), rows[at])
    columns = [v or f"Field{i + 1}" for i, v in enumerate(header)]
    data = frame.iloc[at + 1:].reset_index(drop=True)
    data.columns = columns
    return data, rows[at + 1:]
