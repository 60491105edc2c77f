"""Text that is not valid UTF-8: detected and decoded, or one clear error.

GDAL hands GeoJSON, GeoPackage, FlatGeobuf, CSV (and shapefiles whose ``.cpg`` says
UTF-8) through unchanged, so text saved in GBK, GB18030 or Big5 reaches Arrow as bytes
that are not UTF-8. Here such values are taken as raw bytes and decoded:

* with ``layers.<name>.encoding`` when it is configured (and not UTF-8); values that do
  not decode with it are an error naming the field and rows;
* otherwise with the legacy Chinese encoding the bytes make sense in (GBK/GB18030 or
  Big5, judged by how many decoded characters are common Chinese characters), with a
  counted warning naming the encoding used; when no encoding fits, an error names the
  field, the rows and the ``encoding:`` to set.

Values that are valid UTF-8 stay as they are (a GeoPackage with a few pasted GBK values).
"""

from __future__ import annotations

import codecs
import re
from functools import lru_cache

import numpy as np
import pyarrow as pa

from geo._errors import format_rows
from geo.layers._report import _Ctx, _Report

#: the legacy encodings tried, in order of preference on a tie
CANDIDATES = ("gb18030", "big5")
_MIN_SHARE = 0.7      # share of common characters a right decoding reaches
_MIN_MARGIN = 0.15    # ... and by how much it must beat the other candidate
_MIN_SHARE_ALONE = 0.5   # ... when the other candidate cannot decode the bytes at all
_ALL_COMMON = 0.98       # a decoding in which (nearly) every character is common
_MIN_MARGIN_ALL_COMMON = 0.1   # ... needs a smaller lead (short names: 区县名称 and the like)


@lru_cache(maxsize=65536)
def _is_common(ch: str) -> bool:
    """A frequent CJK character or CJK punctuation (GB2312 level 1 or Big5 level 1)."""
    try:
        gb = ch.encode("gb2312")
        if len(gb) == 2 and (0xB0 <= gb[0] <= 0xD7 or 0xA1 <= gb[0] <= 0xA3):
            return True
    except UnicodeEncodeError:
        pass
    try:
        b5 = ch.encode("big5")
        if len(b5) == 2 and 0xA1 <= b5[0] <= 0xC6:
            return True
    except UnicodeEncodeError:
        pass
    return False


def common_share(texts: list[str]) -> float:
    """Share of the non-ASCII characters of ``texts`` that are common CJK characters."""
    chars = [ch for t in texts for ch in t if not ch.isascii()]
    if not chars:
        return 0.0
    return sum(_is_common(ch) for ch in chars) / len(chars)


def _decode_all(raw: list[bytes], encoding: str) -> list[str] | None:
    try:
        return [b.decode(encoding) for b in raw]
    except (UnicodeDecodeError, LookupError):
        return None


def _clear_winner(scores: dict[str, float]) -> str | None:
    """The encoding whose decoded text is most plausible, when it is plausible enough and
    clearly ahead of every other candidate that decodes; else None."""
    if not scores:
        return None
    best = max(scores, key=scores.get)
    others = [s for e, s in scores.items() if e != best]
    margin = _MIN_MARGIN if scores[best] < _ALL_COMMON else _MIN_MARGIN_ALL_COMMON
    if scores[best] < (_MIN_SHARE if others else _MIN_SHARE_ALONE) or (
            others and scores[best] - max(others) < margin):
        return None
    return best


def detect_encoding(raw: list[bytes]) -> str | None:
    """The legacy Chinese encoding ``raw`` decodes in sensibly (``gbk``, ``gb18030``, ``big5``), or None."""
    scores = {}
    for enc in CANDIDATES:
        texts = _decode_all(raw, enc)
        if texts is not None:
            scores[enc] = common_share(texts)
    best = _clear_winner(scores)
    if best is None:
        return None
    if best == "gb18030" and _decode_all(raw, "gbk") is not None:
        return "gbk"   # the name planners know; GB18030 is its superset
    return best


def _family(encoding: str) -> str:
    name = codecs.lookup(encoding).name
    return "gb" if name in ("gbk", "gb18030", "gb2312") else name


def _utf8_ok(b: bytes) -> bool:
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def fix_text_columns(ctx: _Ctx, table: pa.Table, configured: str | None, fields: dict[str, str],
                     report: _Report) -> pa.Table | None:
    """Decode the string columns of ``table`` holding values that are not valid UTF-8.

    ``fields`` maps a column of the file to its canonical field name (for messages).
    Returns the table with those columns decoded, or None after reporting an error.
    """
    bad_cols: dict[str, tuple[list, np.ndarray]] = {}
    for name in table.column_names:
        col = table.column(name)
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            continue
        try:
            col.validate(full=True)
            continue
        except pa.ArrowInvalid:
            pass
        raw = col.cast(pa.large_binary() if pa.types.is_large_string(col.type) else pa.binary()).to_pylist()
        bad = np.array([b is not None and not _utf8_ok(b) for b in raw], bool)
        bad_cols[name] = (raw, bad)
    if not bad_cols:
        return table

    explicit = configured is not None and codecs.lookup(configured).name != "utf-8"
    all_bad = [b for raw, bad in bad_cols.values() for b, x in zip(raw, bad) if x]
    joint = configured if explicit else detect_encoding(all_bad)
    ok = True
    decoded: list[tuple[str, str]] = []
    for name, (raw, bad) in bad_cols.items():
        where = ctx.at(fields.get(name, name), name)
        rows = format_rows(np.flatnonzero(bad) + 1)
        col_bad = [raw[i] for i in np.flatnonzero(bad)]
        hint = detect_encoding(col_bad)
        encoding = joint if joint is not None else hint
        texts = None if encoding is None else _decode_all(col_bad, encoding)
        if texts is None:
            if explicit:
                fix = (f"set layers.{ctx.name}.encoding: {hint}" if hint and hint != configured else
                       f"layers.{ctx.name}.encoding is {configured}: set the file's real encoding "
                       "there (e.g. gbk, gb18030, big5 or cp1252) or save the file as UTF-8")
                report.error(f"{where} {int(bad.sum())} values are not valid {configured} text "
                             f"({rows}); {fix}")
            else:
                said = (f" (layers.{ctx.name}.encoding is {configured})" if configured else "")
                report.error(f"{where} {int(bad.sum())} values are not valid UTF-8 text{said} "
                             f"({rows}) and their encoding could not be recognised; set "
                             f"layers.{ctx.name}.encoding to the file's encoding (e.g. encoding: gbk, "
                             "gb18030, big5 or cp1252) or save the file as UTF-8")
            ok = False
            continue
        if explicit and hint is not None and _family(hint) != _family(configured):
            report.warn(f"{where} {int(bad.sum())} values ({rows}) were decoded as {configured} "
                        f"(layers.{ctx.name}.encoding) but read as {hint.upper()}: check the "
                        "encoding setting")
        values = [None if b is None or x else b.decode("utf-8") for b, x in zip(raw, bad)]
        for i, text in zip(np.flatnonzero(bad), texts):
            values[i] = text
        idx = table.column_names.index(name)
        table = table.set_column(idx, name, pa.array(values, type=pa.large_string()))
        decoded.append((f"field '{fields.get(name, name)}' {int(bad.sum())} ({rows})", encoding))
    if ok and decoded and not explicit:
        encodings = sorted({enc for _, enc in decoded})
        said = (f"layers.{ctx.name}.encoding is {configured} but " if configured else "")
        report.warn(f"{ctx.at()} {said}{len(all_bad)} text values are not valid UTF-8 "
                    f"({'; '.join(t for t, _ in decoded)}); they read as "
                    f"{' / '.join(e.upper() for e in encodings)} and were decoded so (set "
                    f"layers.{ctx.name}.encoding: {encodings[0]} to make this explicit, or save "
                    "the file as UTF-8)")
    return table if ok else None


_SAMPLE_CHARS = 200_000


def _sample_share(text: str) -> float:
    chars = [ch for ch in text[: 4 * _SAMPLE_CHARS] if not ch.isascii()][:_SAMPLE_CHARS]
    return common_share(["".join(chars)])


_LATIN = re.compile("[\u00a0-\u024f\u1e00-\u1eff]")
_CJK_OR_FULLWIDTH = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def looks_like_legacy(raw: bytes) -> bool:
    """Valid UTF-8 by accident: GBK text such as ``住宅`` (D7A1 D5AC) is also valid UTF-8.

    True when the UTF-8 reading has non-ASCII characters but neither Chinese nor
    accented Latin letters, and the bytes read as common Chinese text (90 %) in
    GBK/GB18030 or Big5.
    """
    text = raw.decode("utf-8")
    if text.isascii() or _CJK_OR_FULLWIDTH.search(text) or _LATIN.search(text):
        return False   # accented Latin (café: C3 A9 is also GBK 茅) is real UTF-8 text
    found = _detect_text(raw)
    return found is not None and _sample_share(found[1]) >= 0.9


def transcode_text_file(ctx: _Ctx, raw: bytes, configured: str | None, report: _Report) -> str | None:
    """The text of a plain-text GIS file (GeoJSON, CSV) that is not UTF-8, decoded.

    A UTF-16 file (byte order mark) is decoded silently; otherwise the configured
    ``encoding:`` is used, or the legacy Chinese encoding the text makes sense in (a
    warning naming it). Returns None after reporting an error when nothing fits.
    """
    if raw[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    explicit = configured is not None and codecs.lookup(configured).name != "utf-8"
    if explicit:
        try:
            return raw.decode(configured)
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            hint = _detect_text(raw)
            fix = (f"set layers.{ctx.name}.encoding: {hint[0]}" if hint and hint[0] != configured
                   else f"set layers.{ctx.name}.encoding to the file's real encoding or save it as UTF-8")
            report.error(f"{ctx.at()} the file is not valid {configured} text (line {line}, "
                         f"byte {exc.start}); {fix}")
            return None
    found = _detect_text(raw)
    if found is None:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
        said = f" (layers.{ctx.name}.encoding is {configured})" if configured else ""
        report.error(f"{ctx.at()} the file is not UTF-8 text{said} (first bad byte on line {line}) "
                     f"and its encoding could not be recognised; set layers.{ctx.name}.encoding "
                     "to the file's encoding (e.g. encoding: gbk, gb18030, big5 or cp1252) or save "
                     "it as UTF-8")
        return None
    encoding, text = found
    said = f"layers.{ctx.name}.encoding is {configured} but " if configured else ""
    report.warn(f"{ctx.at()} {said}the file is not UTF-8 text; it reads as {encoding.upper()} and "
                f"was decoded as {encoding} (set layers.{ctx.name}.encoding: {encoding} to make "
                "this explicit, or save the file as UTF-8)")
    return text


def _detect_text(raw: bytes) -> tuple[str, str] | None:
    """``(encoding, text)`` of a whole legacy-encoded file, or None (same rule as values)."""
    scores, texts = {}, {}
    for enc in CANDIDATES:
        try:
            texts[enc] = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        scores[enc] = _sample_share(texts[enc])
    best = _clear_winner(scores)
    if best is None:
        return None
    if best == "gb18030":
        try:
            raw.decode("gbk")
            return "gbk", texts[best]
        except UnicodeDecodeError:
            pass
    return best, texts[best]


def field_names_encoding(path, layer: str | None) -> tuple[str | None, list[str]]:
    """The encoding of a shapefile's field names when they are not what GDAL assumed.

    Returns ``(encoding, names)``: ``gbk`` / ``big5`` (the names read in it) when that is
    how they read as Chinese, ``utf-8-cut`` when they are UTF-8 cut inside a character
    (a 10-byte DBF name: ``names`` shows where), else ``(None, names as bytes shown)``.
    """
    import pyogrio

    names = [str(n) for n in pyogrio.read_info(path, layer=layer, encoding="ISO-8859-1")["fields"]]
    raw = [n.encode("latin-1") for n in names]
    cut = []
    for b in raw:
        try:
            b.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.reason != "unexpected end of data":
                break
            cut.append(b.decode("utf-8", errors="ignore") + "…")
    else:
        if cut:
            return "utf-8-cut", cut
    legacy = [b for b in raw if not b.isascii()]
    encoding = detect_encoding(legacy)
    if encoding is None:
        return None, [repr(b)[2:-1] for b in legacy]
    return encoding, [b.decode(encoding) for b in raw]


def utf8_despite_declared(path, layer: str | None, declared: str) -> bool:
    """A shapefile whose ``.cpg`` names a legacy encoding but whose text is UTF-8 Chinese.

    Reads up to 2000 features' text undecoded; True when every non-ASCII value is valid
    UTF-8 holding Chinese, and the declared encoding reads it as clearly rarer characters.
    """
    import pyogrio

    try:
        _, table = pyogrio.read_arrow(path, layer=layer, read_geometry=False, max_features=2000,
                                      encoding="utf-8")
    except UnicodeDecodeError:    # field names that are not UTF-8: neither is the file
        return False
    raw: list[bytes] = []
    for col in table.columns:
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            binary = col.cast(pa.large_binary() if pa.types.is_large_string(col.type) else pa.binary())
            raw.extend(b for b in binary.to_pylist() if b and not b.isascii())
    if not raw:
        return False
    texts = _decode_all(raw, "utf-8")
    if texts is None or not any(_CJK_OR_FULLWIDTH.search(t) for t in texts):
        return False
    legacy = _decode_all(raw, declared)
    return legacy is None or common_share(texts) - common_share(legacy) > 0.3
