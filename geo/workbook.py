"""``tables.xlsx``: every table of a run in one Excel workbook (written with XlsxWriter).

Layout of the workbook:

- a first sheet ``contents`` (目录) listing every table: sheet, title in the study language,
  rows, columns, the CSV file that holds the same table and a one-line description of the
  table (说明, :func:`geo.i18n.table_description`);
- one sheet per table, named with the table's canonical name (the CSV name; at most 31
  characters, unique). Row 1 is the header: the column label in the study language with
  the canonical column name beside it, e.g. ``职住比 (jhr)``; frozen, with an autofilter.
- Number formats by column: thousands separators for counts (jobs, resident workers, ...)
  and metres (``#,##0``),
  percentages for shares (``0.0%``), two decimals for ratios (``0.00``), otherwise
  ``#,##0.00`` (``0.000`` for small values). Values are stored unrounded.
- Text is written as text (``write_string``): a name such as ``=1+1`` or ``0012`` is never a
  formula or a number. Missing values are empty cells.

A table with more than :data:`MAX_SHEET_ROWS` rows (e.g. one million housing points) is
listed in ``contents`` with its CSV file instead of a sheet: Excel holds at most 1,048,576
rows, and writing millions of cells would dominate the run time.
"""

from __future__ import annotations

import gc
import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from geo.schema import TABLE_LAYERS
from geo._types import AnalysisResult, Study
from geo.i18n import label, table_description, title

__all__ = ["MAX_SHEET_ROWS", "column_format", "run_tables", "sheet_names", "write_workbook"]

log = logging.getLogger(__name__)

#: Tables with more rows are listed in the contents sheet and left to their CSV file.
MAX_SHEET_ROWS = 100_000
#: Longest sheet name Excel accepts.
MAX_SHEET_NAME = 31

PERCENT_COLUMNS = {"share_linked", "attach_prob", "residential_share", "share_in_reach", "core_share",
                   "mean_residential_share", "primacy"}
COUNT_COLUMNS = {"jobs", "workers", "workers_shared", "dwellings", "population", "firms", "leader_firms",
                 "rd_platforms", "resident_workers", "workers_in_reach", "universities", "labs", "incubators"}
RATIO_COLUMNS = {"jhr", "jhr_shared", "gini", "landuse_entropy", "mean_landuse_entropy", "rank_size_slope",
                 "overall_jhr", "lq"}

TEXT = {
    "zh": {"contents": "目录", "sheet": "工作表", "table": "表", "rows": "行数", "columns": "列数",
           "csv": "CSV 文件", "note": "说明", "then": "；",
           "too_big": "行数超过 {n:,}，未放入工作簿；完整表格见 CSV 文件"},
    "en": {"contents": "contents", "sheet": "Sheet", "table": "Table", "rows": "Rows", "columns": "Columns",
           "csv": "CSV file", "note": "Description", "then": "; ",
           "too_big": "more than {n:,} rows: not in the workbook; the full table is in the CSV file"},
}


def run_tables(study: Study, results: Mapping[str, AnalysisResult]) -> dict[str, pd.DataFrame]:
    """Every table a run writes (the same names and order as ``tables/<name>.csv``)."""
    tables: dict[str, pd.DataFrame] = {}
    for name in TABLE_LAYERS:   # the input layers, as tables/<name>.csv has them
        frame = getattr(study, name, None)
        if frame is not None:
            tables[name] = frame
    for result in results.values():
        tables.update(result.tables)
    return tables


def sheet_names(names: list[str]) -> list[str]:
    """Valid, unique Excel sheet names (≤ 31 characters, no ``[]:*?/\\``) for table names.

    Examples
    --------
    >>> sheet_names(["a" * 40, "a" * 40, "x/y"])
    ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaa~2', 'x_y']
    """
    out: list[str] = []
    seen: set[str] = {"contents"}
    for name in names:
        base = re.sub(r"[\[\]:*?/\\]", "_", str(name)).strip("'") or "sheet"
        candidate, i = base[:MAX_SHEET_NAME], 1
        while candidate.lower() in seen:
            i += 1
            suffix = f"~{i}"
            candidate = base[:MAX_SHEET_NAME - len(suffix)] + suffix
        seen.add(candidate.lower())
        out.append(candidate)
    return out


def header_text(column: str, language: str, table: str | None = None) -> str:
    """``<label> (<canonical name>)``, or the name alone when it has no label (``table``:
    the output the column belongs to, for columns whose meaning depends on it)."""
    text = label(column, language, table)
    return column if text == column else f"{text} ({column})"


def column_format(name: str, values: pd.Series) -> str | None:
    """The Excel number format of a numeric column (None for text columns)."""
    if values.dtype == bool or not (pd.api.types.is_numeric_dtype(values.dtype)):
        return None
    if name in PERCENT_COLUMNS or name.endswith("_share") or name.startswith("share_"):
        return "0.0%"
    if name in RATIO_COLUMNS or name.startswith(("jhr", "area_jhr")):   # every jobs-housing ratio alike
        return "0.00"
    if name in COUNT_COLUMNS or name.startswith(("workers_", "n_")):
        return "#,##0"
    arr = pd.to_numeric(values, errors="coerce").to_numpy(float)
    finite = arr[np.isfinite(arr)]
    if not finite.size or np.all(finite == np.round(finite)) or name.endswith("_m"):
        return "#,##0"
    return "#,##0.00" if np.abs(finite).max() >= 100 else "0.000"


def _width(text: str) -> float:
    return sum(2.0 if ord(c) >= 0x2E80 else 1.0 for c in str(text))


def _column_width(header: str, shown: list[str]) -> float:
    widest = max([_width(header) * 0.9, *(_width(v) for v in shown)], default=8)
    return float(min(max(widest + 2, 8), 48))


def write_workbook(path: Path, tables: Mapping[str, pd.DataFrame], language: str = "zh", *,
                   max_rows: int = MAX_SHEET_ROWS) -> Path:
    """Write ``tables`` (name → frame; geometry columns left out) as one workbook.

    Parameters
    ----------
    path : Path
        The ``.xlsx`` file to write.
    tables : mapping of str to DataFrame
        In sheet order (see :func:`run_tables`).
    language : {"zh", "en"}
        Language of the header labels and the contents sheet.
    max_rows : int
        Tables with more rows are listed in the contents sheet only.

    Returns
    -------
    Path
    """
    with _cyclic_gc_paused():
        return _write_workbook(Path(path), tables, language, max_rows)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (reference counting goes on).

    XlsxWriter keeps one small tuple per cell until ``close()``: on the metro sample (1.5
    million cells) the collector ran some 2,300 times over them and the run's other objects
    and found nothing to free, about 1 s of the workbook's 8-10 s of CPU, and the workbook is
    the last step of such a run to end."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _write_workbook(path: Path, tables: Mapping[str, pd.DataFrame], language: str, max_rows: int) -> Path:
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    t = TEXT[language]
    names = list(tables)
    sheets = sheet_names(names)
    # shared strings (not constant_memory): each distinct text is escaped and written once
    # instead of inline in every cell; measured on metro 14.0 s CPU against 16.4 s (the
    # cells are held in memory until close, about 90 MB more there)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": False, "strings_to_formulas": False,
                                         "strings_to_numbers": False, "strings_to_urls": False,
                                         "nan_inf_to_errors": False})
    wb.set_properties({"title": "zoneatlas tables", "creator": "zoneatlas"})
    head = wb.add_format({"bold": True, "bg_color": "#E8EEF4", "bottom": 1, "text_wrap": True,
                          "valign": "top"})
    formats = {f: wb.add_format({"num_format": f}) for f in ("0.0%", "0.00", "#,##0", "#,##0.00", "0.000")}

    try:
        contents = wb.add_worksheet("contents")
        contents_rows = []
        for name, sheet in zip(names, sheets):
            frame = tables[name]
            columns = [c for c in frame.columns if c != "geometry"]
            too_big = len(frame) > max_rows
            note = [table_description(name, language)] + ([t["too_big"].format(n=max_rows)] if too_big else [])
            contents_rows.append((sheet if not too_big else "", title(name, language), len(frame),
                                  len(columns), f"tables/{name}.csv", t["then"].join(filter(None, note))))
            if too_big:  # not even copied without its geometry (a million housing points)
                log.info("tables.xlsx: %s has %d rows; listed with its CSV file only", name, len(frame))
                continue
            _write_sheet(wb.add_worksheet(sheet), frame[columns], language, head, formats, name)

        header = [t["sheet"], t["table"], t["rows"], t["columns"], t["csv"], t["note"]]
        for j, h in enumerate(header):
            contents.write_string(0, j, h, head)
        for i, row in enumerate(contents_rows, start=1):
            sheet, caption, nrows, ncols, csv, note = row
            if sheet:
                contents.write_url(i, 0, f"internal:'{sheet}'!A1", string=sheet)
            contents.write_string(i, 1, caption)
            contents.write_number(i, 2, nrows, formats["#,##0"])
            contents.write_number(i, 3, ncols, formats["#,##0"])
            contents.write_string(i, 4, csv)
            if note:
                contents.write_string(i, 5, note)
        for j, h in enumerate(header):
            shown = [str(r[j]) for r in contents_rows]
            contents.set_column(j, j, _column_width(h, shown))
        contents.freeze_panes(1, 0)
        contents.activate()
        wb.close()
    except BaseException:
        # a sheet written with constant_memory keeps its rows in a temporary file until
        # close(): on a failure, close any such file so nothing is left open or behind
        for ws in wb.worksheets():
            handle = getattr(ws, "row_data_fh", None)
            if handle is not None and not handle.closed:
                handle.close()
            name = getattr(ws, "row_data_filename", None)
            if name:
                Path(name).unlink(missing_ok=True)
        raise
    return path


def _cell_values(col: pd.Series, kind: str) -> list:
    """The column as Python values for XlsxWriter, ``None`` for an empty cell (missing, NaN, ±inf)."""
    if kind == "num":
        arr = pd.to_numeric(col, errors="coerce").to_numpy(float)
        out = arr.astype(object)
        out[~np.isfinite(arr)] = None
        return out.tolist()
    obj = col.astype(object).to_numpy()
    missing = pd.isna(obj)
    out = np.full(len(obj), None, dtype=object)
    if kind == "bool":
        out[~missing] = [bool(v) for v in obj[~missing]]
    else:   # text as text: str() of whatever is there
        out[~missing] = [v if type(v) is str else str(v) for v in obj[~missing]]
    return out.tolist()


def _write_sheet(ws, frame: pd.DataFrame, language: str, head, formats, table: str) -> None:
    columns = [str(c) for c in frame.columns]
    headers = [header_text(c, language, table) for c in columns]
    write = {"num": ws.write_number, "bool": ws.write_boolean, "text": ws.write_string}
    spec, values = [], []   # (column index, writer, format) and the column's values
    for j, c in enumerate(frame.columns):
        col = frame[c]
        if isinstance(col.dtype, pd.CategoricalDtype):
            col = col.astype(object)
        fmt = column_format(str(c), col)
        kind = "bool" if col.dtype == bool or str(col.dtype) == "boolean" else "num" if fmt is not None else "text"
        spec.append((j, write[kind], formats.get(fmt) if kind == "num" else None))
        values.append(_cell_values(col, kind))
    # widths judged on the first rows
    sample = min(len(frame), 200)
    for (j, writer, fmt), h, vals in zip(spec, headers, values):
        head_rows = [v for v in vals[:sample] if v is not None]
        shown = [f"{v:,.2f}" for v in head_rows] if writer == ws.write_number else [str(v) for v in head_rows]
        ws.set_column(j, j, _column_width(h, shown), fmt)
    ws.set_row(0, None, head)
    for j, h in enumerate(headers):
        ws.write_string(0, j, h, head)
    n = len(frame)
    # row by row; empty cells skipped
    for r, row in enumerate(zip(*values), start=1):
        for (j, writer, fmt), v in zip(spec, row):
            if v is not None:
                writer(r, j, v, fmt)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(n, 1), max(len(columns) - 1, 0))
