"""Field mapping and attribute checks: user columns -> the canonical fields of geo.schema.

Ids and text become pandas ``str`` (stripped), counts float64 (NaN where missing), roles
their canonical names; every problem is reported with field, column and rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geo import schema as sch
from geo._errors import format_rows
from geo.layers._report import _closest, _Ctx, _Layer, _list, _Report
from geo.layers._values import _CHAIN_SEP, _has_invisible, _to_text, parse_counts

if TYPE_CHECKING:
    from geo.settings import VectorLayerSettings


def _role_lookup() -> dict[str, str]:
    from geo.i18n import TERMS

    out = {}
    for role in sch.ROLES:
        zh, en = TERMS.get(role, (role, role))
        for label in (role, zh, en, en.replace("&", "")):
            out[label.strip().lower()] = role
    out.update({"r&d": "rd", "研发型": "rd", "制造型": "manufacturing", "混合": "mixed"})
    return out


_ROLES = _role_lookup()


def _resolve_fields(ctx: _Ctx, cfg: VectorLayerSettings, columns: list[str], report: _Report) -> dict[str, str] | None:
    """canonical field -> column in the file; reports missing fields."""
    schema = sch.LAYERS[ctx.name]
    if not columns:   # one problem, not one per field
        dbf = " (is the .dbf next to the .shp?)" if ctx.path.suffix.lower() == ".shp" else ""
        report.error(f"{ctx.at()} the layer has no attribute columns at all{dbf}; it needs at least "
                     f"{', '.join(schema.required)}")
        return None
    if _wrong_encoding(ctx, cfg, columns, report):
        return None
    mapping: dict[str, str] = {}
    ok = True
    lower = {}
    for c in columns:
        lower.setdefault(c.lower(), []).append(c)
    for canon in schema.fields:
        if canon in cfg.fields:
            col = cfg.fields[canon]
            if col in columns:
                mapping[canon] = col
            else:
                report.error(f"{ctx.at(canon)} column '{col}' (from layers.{ctx.name}.fields.{canon}) "
                             f"not found{_closest(col, columns)}; columns in the file: {_list(columns)}")
                ok = False
        elif canon in columns:
            mapping[canon] = canon
        elif len(lower.get(canon, [])) == 1:
            mapping[canon] = lower[canon][0]
        elif canon in schema.required:
            report.error(f"{ctx.at(canon)} required field not found: no column '{canon}'"
                         f"{_closest(canon, columns)}; columns in the file: {_list(columns)}; map "
                         f"it with layers.{ctx.name}.fields: {{{canon}: <column>}}")
            ok = False
    for group in schema.one_of:
        if not any(g in mapping for g in group) and not any(g in cfg.fields for g in group):
            report.error(f"{ctx.at()} needs one of the fields {', '.join(group)} but the file has "
                         f"none of them; columns in the file: {_list(columns)}; map one with "
                         f"layers.{ctx.name}.fields: {{{group[0]}: <column>}}")
            ok = False
    return mapping if ok else None


def _wrong_encoding(ctx: _Ctx, cfg: VectorLayerSettings, columns: list[str], report: _Report) -> bool:
    """One error, instead of one "not found" per field, when ``layers.<name>.encoding`` is
    not the encoding of the file: the field names read in it turned into other characters,
    and read in the encoding their bytes fit (:func:`~geo.layers._encoding.detect_encoding`)
    they hold columns the config names."""
    from geo.layers._encoding import detect_encoding, field_names_encoding

    missing = {col for col in cfg.fields.values() if col not in columns}
    if not cfg.encoding or not missing or all(c.isascii() for c in columns):
        return False
    if ctx.path.suffix.lower() == ".shp":   # the names' bytes as the .dbf holds them
        try:
            found, names = field_names_encoding(ctx.path, None)
        except Exception:  # noqa: BLE001 - no hint rather than a second error
            return False
    else:   # a text file decoded in the configured encoding: its names encode back to their bytes
        raw = []
        for c in columns:
            try:
                raw.append(c.encode(cfg.encoding))
            except (UnicodeEncodeError, LookupError):
                return False
        found = detect_encoding([b for b in raw if not b.isascii()])
        names = [b.decode(found) for b in raw] if found else []
    if found is None or found == "utf-8-cut" or not missing & set(names):
        return False
    report.error(f"{ctx.at()} the field names read as {cfg.encoding} (layers.{ctx.name}.encoding) are "
                 f"{_list([c for c in columns if not c.isascii()])}; read as {found} they are "
                 f"{_list([n for n in names if not n.isascii()])}, the columns the config names: set "
                 f"layers.{ctx.name}.encoding: {found} (or remove it: the encoding is then detected)")
    return True


def _rename(attrs: pd.DataFrame, mapping: dict[str, str]) -> pd.DataFrame:
    out = pd.DataFrame(index=pd.RangeIndex(len(attrs)))
    for canon, col in mapping.items():
        out[canon] = attrs[col].to_numpy() if not isinstance(attrs[col].dtype, pd.StringDtype) else attrs[col].array
    out.attrs["mapping"] = dict(mapping)
    return out


def _folded(ids: pd.Series) -> pd.Series:
    """``ids`` in NFKC, lower case: what tells ids apart that differ only in case or width.

    ASCII text is its own NFKC form, so an all-ASCII column (the common case: a million
    housing ids) is only lower-cased, in pyarrow, instead of normalised value by value."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arr = pa.array(ids.array, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):
        arr = None
    if arr is not None and pc.all(pc.string_is_ascii(arr), skip_nulls=True).as_py() is not False:
        return pd.Series(pc.ascii_lower(arr).to_pandas(), index=ids.index, dtype="str")
    return ids.str.normalize("NFKC").str.lower()


def _check_ids(layer_name: str, ctx: _Ctx, ids: pd.Series, rows: np.ndarray, report: _Report,
               word: str = "row") -> bool:
    id_field = sch.LAYERS[layer_name].id_field
    ok = True
    missing = ids.isna().to_numpy()
    if missing.any():
        report.error(f"{ctx.at(id_field)} missing ids in {format_rows(rows[missing], word=word)}; every "
                     "feature needs a unique id")
        ok = False
    lowered = _folded(ids)
    if lowered.is_unique:   # the common case: one hash pass, no exact or case duplicates
        return ok
    dup = ids.duplicated(keep=False).to_numpy() & ~missing
    if not dup.any() and ok:
        case = lowered.duplicated(keep=False).to_numpy() & ~missing
        report.warn(f"{ctx.at(id_field)} {int(case.sum())} ids differ only in upper/lower case or full/half width "
                    f"({_list(ids[case].head(6))}); they are kept as different ids")
    if dup.any():
        groups = pd.Series(rows[dup]).groupby(ids[dup].to_numpy()).agg(list)
        shown = "; ".join(f"'{k}' in {word}s {', '.join(map(str, v))}" for k, v in list(groups.items())[:10])
        more = f" (+{len(groups) - 10} more ids)" if len(groups) > 10 else ""
        report.error(f"{ctx.at(id_field)} duplicate ids (surrounding spaces ignored): {shown}{more}; "
                     "ids must be unique")
        ok = False
    return ok


def _attributes(layer: _Layer, attrs: pd.DataFrame, report: _Report) -> pd.DataFrame:
    """Canonical attribute frame: ids/text as str, counts as float64; reports problems."""
    ctx, schema = layer.ctx, sch.LAYERS[layer.ctx.name]
    mapping = attrs.attrs.get("mapping", {})
    out = pd.DataFrame(index=attrs.index)
    n = len(attrs)
    numeric = set(schema.numeric)

    for canon in attrs.columns:
        if canon in numeric:
            continue
        invisible = _has_invisible(attrs[canon], name=canon == "name")
        if invisible.any():
            report.warn(f"{ctx.at(canon, mapping.get(canon))} {int(invisible.sum())} values held "
                        "invisible characters (zero-width space, byte order mark, direction "
                        f"marks); they were removed ({layer.rows_text(invisible)})")

    ids = _to_text(attrs[schema.id_field])
    ids_ok = _check_ids(ctx.name, ctx, ids, layer.rows, report, layer.row_word)
    if ids_ok:
        layer.labels = ids.to_numpy(dtype=object)
        layer.by_id = True
    out[schema.id_field] = ids

    for canon in schema.fields:
        if canon == schema.id_field:
            continue
        col = mapping.get(canon)
        if canon not in attrs.columns:
            out[canon] = np.full(n, np.nan) if canon in numeric else pd.Series(np.full(n, None, object), dtype="str")
            continue
        if canon in numeric:
            out[canon] = _counts(layer, canon, col, attrs[canon], report)
        elif canon == "role":
            out[canon] = _roles(layer, col, attrs[canon], report)
        else:
            text = _to_text(attrs[canon], name=canon == "name")
            if canon == "chains":   # only separators (";;", "、") names no chain: missing
                text = text.where(text.str.replace(_CHAIN_SEP, "", regex=True).str.strip().ne(""), np.nan)
            miss = text.isna().to_numpy()
            if miss.any() and canon == "name":
                text = text.fillna(ids)
                report.warn(f"{ctx.at(canon, col)} {int(miss.sum())} features without a name were "
                            f"given their id as name ({layer.rows_text(miss)})")
            elif miss.any() and canon in schema.required:
                report.error(f"{ctx.at(canon, col)} missing values in {layer.rows_text(miss)}; "
                             f"fill in '{col}' for these features")
            if canon == "chains":
                commas = (text.str.contains(r"[,，]", regex=True) & ~text.str.contains(r"[;；、]", regex=True)
                          ).fillna(False).to_numpy(bool)
                if commas.any():
                    report.warn(f"{ctx.at(canon, col)} {int(commas.sum())} values contain commas but "
                                f"no ';' ({layer.rows_text(commas)}); chains are separated by ';', "
                                "'；' or '、', so each of these is read as ONE chain name")
            out[canon] = text

    for group in schema.one_of:
        present = [g for g in group if g in attrs.columns]
        if present:
            none = np.logical_and.reduce([np.isnan(out[g].to_numpy()) for g in present])
            if none.any():
                report.error(f"{ctx.at(present[0], mapping.get(present[0]))} missing "
                             f"{' and '.join(present)} in {layer.rows_text(none)}; each feature "
                             f"needs {' or '.join(group)}")
    return out


def _counts(layer: _Layer, canon: str, col: str | None, values: pd.Series, report: _Report) -> np.ndarray:
    ctx, schema = layer.ctx, sch.LAYERS[layer.ctx.name]
    v, from_text, bad = parse_counts(values)
    if bad.any():
        examples = _list(pd.Series(values[bad]).astype("str").unique()[:5])
        report.error(f"{ctx.at(canon, col)} not a number: {examples} in {layer.rows_text(bad)}; "
                     "use plain numbers")
    if from_text.any():
        text = pd.Series(values[from_text]).astype("str")
        ex = ", ".join(f"'{t}' -> {x:g}" for t, x in zip(text.head(3), v[from_text][:3]))
        report.warn(f"{ctx.at(canon, col)} {int(from_text.sum())} numbers written as text were "
                    f"interpreted ({ex})")
    inf = np.isinf(v)
    if inf.any():
        report.error(f"{ctx.at(canon, col)} infinite values in {layer.rows_text(inf)}")
    neg = v < 0
    if neg.any():
        report.error(f"{ctx.at(canon, col)} negative values in {layer.rows_text(neg)}: "
                     f"{', '.join(f'{x:g}' for x in np.unique(v[neg])[:5])}; counts must be >= 0")
    nan = np.isnan(v) & ~bad
    if nan.any() and canon in schema.required:
        report.error(f"{ctx.at(canon, col)} missing (empty or NaN) values in "
                     f"{layer.rows_text(nan)}; '{canon}' is required for every feature")
    v = v.copy()
    v[bad | inf] = np.nan
    return v


def _roles(layer: _Layer, col: str | None, values: pd.Series, report: _Report) -> pd.Series:
    text = _to_text(values)
    mapped = text.str.lower().map(_ROLES)
    unknown = (text.notna() & mapped.isna()).to_numpy()
    if unknown.any():
        report.error(f"{layer.ctx.at('role', col)} unknown roles {_list(text[unknown].unique()[:6])} "
                     f"in {layer.rows_text(unknown)}; allowed: {', '.join(sch.ROLES)} "
                     "(or 研发, 制造, 终端, 配套, 综合)")
    return pd.Series(mapped.to_numpy(dtype=object), dtype="str")
