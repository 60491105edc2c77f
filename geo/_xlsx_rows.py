"""Data rows of an XlsxWriter worksheet written a column at a time instead of a cell at a time.

XlsxWriter keeps every cell as a small Python object (``write_number`` / ``write_string``)
and turns each into XML one by one when the workbook is saved: about 4 µs of Python per cell,
most of the time of ``tables.xlsx`` (a metro run has over a million cells). Here a sheet's
data rows (below its header) are held as the table's columns; the shared strings are
registered with the workbook in the order XlsxWriter would register them cell by cell, and
the rows are rendered column by column when the sheet is saved, in the same XML that
XlsxWriter writes for those cells (``tests/test_workbook.py`` compares the two byte for byte,
so an XlsxWriter version that writes rows differently fails there, not in a reader's hands).

Everything else of the sheet (header row, column widths and formats, frozen pane,
autofilter) stays XlsxWriter's own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

__all__ = ["DataColumn", "RowsWorksheet", "fits"]

#: Longest text written here; XlsxWriter truncates strings over 32,767 UTF-16 units, so a
#: sheet with longer text goes through its per-cell path (which truncates as it always did).
MAX_TEXT = 16_383


@dataclass
class DataColumn:
    """One column of a sheet's data rows.

    ``kind`` ``num``: ``values`` float, written where finite; ``text``: object array of
    ``str`` or ``None`` (empty); ``bool``: object array of ``bool`` or ``None``. ``fmt``: the
    cells' XlsxWriter Format (or None).
    """

    kind: str
    values: np.ndarray
    fmt: object = None


def fits(ws, columns: list[DataColumn]) -> bool:
    """Whether ``columns`` can be written here: ``ws`` a :class:`RowsWorksheet` on an
    XlsxWriter with the internals used (else its per-cell path), no text longer than
    :data:`MAX_TEXT`."""
    if not (isinstance(ws, RowsWorksheet) and not ws.constant_memory
            and all(hasattr(Worksheet, m) for m in ("_write_rows", "_check_dimensions"))
            and hasattr(getattr(ws, "str_table", None), "_get_shared_string_index")):
        return False
    for c in columns:
        if c.kind == "text":
            present = c.values[pd.notna(c.values)]
            if len(present) and max(map(len, present)) > MAX_TEXT:
                return False
    return True


class RowsWorksheet(Worksheet):
    """A worksheet whose rows below the header are given as columns with :meth:`set_data`."""

    def __init__(self) -> None:
        super().__init__()
        self.data_columns: list[DataColumn] | None = None
        self.data_sst: list[np.ndarray | None] = []
        self.data_rows = 0

    def set_data(self, columns: list[DataColumn], n: int) -> None:
        """Rows 2 … n + 1 (Excel numbering) from ``columns``, the header row written already.

        Registers the text with the workbook's shared strings now, in row-major order of
        first occurrence (what writing cell by cell does), so that the workbook's string
        table is the same; the XML is made when the workbook is saved.
        """
        if self.constant_memory:   # inline strings, rows flushed as written: not this path
            raise ValueError("RowsWorksheet needs constant_memory off")
        firsts, owners, strings, codes_of, offsets = [], [], [], {}, {}
        string_cells = total = 0
        for j, c in enumerate(columns):
            if c.kind != "text":
                continue
            codes, uniques = pd.factorize(c.values, use_na_sentinel=True)
            present = codes >= 0
            string_cells += int(present.sum())
            codes_of[j], offsets[j] = codes, total
            # factorize numbers the strings by first occurrence: their first rows in order
            firsts.append(np.flatnonzero(present)[np.unique(codes[present], return_index=True)[1]])
            owners.append(np.full(len(uniques), j))
            strings.append(np.asarray(uniques, dtype=object))
            total += len(uniques)
        index = np.zeros(total + 1, dtype=np.int64)   # one more: code -1 (empty) reads the last
        if total:
            order = np.lexsort((np.concatenate(owners), np.concatenate(firsts)))   # by row, then column
            register = self.str_table._get_shared_string_index
            index[order] = np.fromiter(map(register, np.concatenate(strings)[order].tolist()), np.int64, total)
            self.str_table.count += string_cells - total   # one count per string cell, as cell by cell
        self.data_sst = [index[np.where(codes_of[j] >= 0, codes_of[j] + offsets[j], total)] if j in codes_of
                         else None for j in range(len(columns))]
        self.data_columns = columns
        self.data_rows = n
        filled = self._filled()
        if filled.any():
            last = int(np.flatnonzero(filled.any(axis=1))[-1])
            self._check_dimensions(last + 1, 0)

    def _filled(self) -> np.ndarray:
        """(rows, columns) mask of the cells that are written."""
        out = np.zeros((self.data_rows, len(self.data_columns or [])), dtype=bool)
        for j, c in enumerate(self.data_columns or []):
            out[:, j] = np.isfinite(c.values) if c.kind == "num" else pd.notna(c.values)
        return out

    def _write_rows(self) -> None:
        if self.data_columns is None:
            super()._write_rows()
            return
        last, self.dim_rowmax = self.dim_rowmax, 0
        try:
            super()._write_rows()   # the header row, as XlsxWriter writes it
        finally:
            self.dim_rowmax = last
        self.fh.write(self._render())

    def _render(self) -> str:
        n, columns = self.data_rows, self.data_columns or []
        if not n or not columns:
            return ""
        filled = self._filled()
        numbers = np.arange(2, n + 2).astype(str)
        body = np.full(n, "", dtype=object)
        for j, c in enumerate(columns):
            ok = filled[:, j]
            if not ok.any():
                continue
            col, rows = xl_col_to_name(j), numbers[ok].tolist()
            style = f' s="{c.fmt._get_xf_index()}"' if c.fmt is not None else ""
            if c.kind == "num":
                cells = [f'<c r="{col}{r}"{style}><v>{v:.16G}</v></c>' for r, v in zip(rows, c.values[ok].tolist())]
            elif c.kind == "text":
                cells = [f'<c r="{col}{r}"{style} t="s"><v>{v}</v></c>'
                         for r, v in zip(rows, self.data_sst[j][ok].tolist())]
            else:
                cells = [f'<c r="{col}{r}"{style} t="b"><v>{1 if v else 0}</v></c>'
                         for r, v in zip(rows, c.values[ok].tolist())]
            part = np.full(n, "", dtype=object)
            part[ok] = cells
            body += part
        # spans: the first and last used column of each block of 16 rows (the header, all
        # columns, is in the first block)
        used = filled.any(axis=1)
        ncol = filled.shape[1]
        first = np.where(used, filled.argmax(axis=1), ncol)
        last = np.where(used, ncol - 1 - filled[:, ::-1].argmax(axis=1), -1)
        block = np.arange(1, n + 1) // 16
        lo = np.full(block[-1] + 1, ncol)
        hi = np.full(block[-1] + 1, -1)
        np.minimum.at(lo, block, first)
        np.maximum.at(hi, block, last)
        lo[0], hi[0] = 0, ncol - 1
        spans = np.char.add(np.char.add((lo + 1).astype(str), ":"), (hi + 1).astype(str))[block]
        keep = np.flatnonzero(used)
        return "".join([f'<row r="{r}" spans="{s}">{b}</row>'
                        for r, s, b in zip(numbers[keep].tolist(), spans[keep].tolist(), body[keep].tolist())])
