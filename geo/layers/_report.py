"""Bookkeeping of one load: problems and warnings, where a layer comes from, messages.

Every checker reports into one :class:`_Report`; :func:`geo.layers.load_study` raises all
problems of all layers together at the end. :class:`_Layer` is one vector layer while it
is being loaded (frame, row numbers, labels for messages).
"""

from __future__ import annotations

import difflib
import logging
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
from pyproj import CRS

from geo import schema as sch
from geo._errors import CRSError, InputError, format_rows
from geo._types import LayerSource

logger = logging.getLogger(__name__)


_CONTROL = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")


def _one_line_text(message: str) -> str:
    """Control characters from the data (a newline in an id) escaped: one problem, one line.

    Without this a value such as ``"x\\nerror: ..."`` would print as two ``error:`` lines.
    """
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), message)


class _Report:
    """Problems (errors) and counted warnings of one load, each tagged."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.crs_only: list[bool] = []
        self.warnings: list[str] = []

    def error(self, message: str, *, crs: bool = False) -> None:
        self.problems.append(_one_line_text(message))
        self.crs_only.append(crs)

    def warn(self, message: str) -> None:
        message = _one_line_text(message)
        self.warnings.append(message)
        logger.warning(message)

    def raise_if_any(self) -> None:
        if self.problems:
            cls = CRSError if all(self.crs_only) else InputError
            raise cls(self.problems)


@dataclass
class _Ctx:
    """Where a layer comes from, for messages."""

    name: str
    path: Path
    shown: str
    layer: str | None = None          # shown in messages (multi-layer files)
    read_layer: str | None = None     # the layer actually read (recorded in LayerSource)
    layer_word: str = "layer"         # "sheet" in a workbook

    def at(self, field_name: str | None = None, column: str | None = None) -> str:
        where = f"layers.{self.name} ({self.shown}"
        if self.layer:
            where += f", {self.layer_word} '{self.layer}'"
        where += ")"
        if field_name:
            where += f", field '{field_name}'"
            if column and column != field_name:
                where += f" (column '{column}')"
        return where + ":"


@dataclass
class _Layer:
    """One vector layer while it is being loaded."""

    ctx: _Ctx
    source: LayerSource
    frame: gpd.GeoDataFrame           # canonical columns, geometry in ``crs``
    rows: np.ndarray                  # 1-based row numbers in the file (a CSV: its lines)
    crs: CRS | None
    labels: np.ndarray                # row label for messages (id or row number)
    by_id: bool
    geometry_ok: bool = True
    mapped: set[str] = field(default_factory=set)
    columns: list[str] = field(default_factory=list)   # every column of the file (not only those read)
    row_word: str = "row"             # "line" for a CSV (rows named by their line in the file)

    def rows_text(self, mask: np.ndarray) -> str:
        labels = self.labels[mask]
        text = format_rows(labels, word="row" if self.by_id else self.row_word)
        # numeric ids could be mistaken for row numbers: say which they are
        if self.by_id and all(str(v).isdigit() for v in labels[:10]):
            text += f" ({sch.LAYERS[self.ctx.name].id_field})"
        return text


def _shown_path(path: Path, base: Path | None) -> str:
    if base is not None:
        try:
            return os.path.relpath(path, base) if path.is_relative_to(base) else str(path)
        except ValueError:
            pass
    return str(path)


def _closest(word: str, options, n: int = 1) -> str:
    match = difflib.get_close_matches(str(word), [str(o) for o in options], n=n, cutoff=0.4)
    if not match:
        lowered = {str(o).lower(): str(o) for o in options}
        match = [lowered[str(word).lower()]] if str(word).lower() in lowered else []
    return f" (did you mean '{match[0]}'?)" if match else ""


def _list(values, limit: int = 25) -> str:
    values = [str(v) for v in values]
    more = f" (+{len(values) - limit} more)" if len(values) > limit else ""
    return ", ".join(f"'{v}'" for v in values[:limit]) + more


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _forward_warnings(ctx: _Ctx, caught, report: _Report) -> None:
    counts = Counter(" ".join(str(w.message).split()) for w in caught
                     if not issubclass(w.category, (DeprecationWarning, ResourceWarning)))
    for text, n in counts.items():
        if "Non closed ring" in text:
            continue  # reported with counts after parsing
        report.warn(f"{ctx.at()} while reading: {text}" + (f" ({n} times)" if n > 1 else ""))
