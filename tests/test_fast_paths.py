"""The fast paths of the output writers give exactly what the plain ways give.

Each test compares a vectorised writer with a brute-force reference written the
straightforward way (one value, one feature, one row at a time), on values chosen to
hit the edge cases: NaN, infinities, -0.0, float32, whole floats, huge and tiny
magnitudes, missing values of every dtype, quotes, CJK and invisible characters.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import shapely

from geo._io import write_csv
from geo.layers._fields import _folded
from geo.layers._names import _CJK_GAP, _SPACES, _nfkc
from geo.webmap._layers import _clean_value, feature_collection
from geo.webmap._assets import escape_json_text


def _mixed_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    floats = rng.normal(0, 1, n) * 10.0 ** rng.integers(-7, 12, n)
    floats[::7] = np.round(floats[::7])
    floats[::11] = np.nan
    floats[::13] = np.inf
    floats[::17] = -np.inf
    floats[3] = -0.0
    frame = pd.DataFrame({
        "f": floats,
        "f32": floats.astype(np.float32),
        "i": rng.integers(-5, 10**12, n),
        "b": rng.random(n) > 0.5,
        "s": pd.Series(rng.choice(["a", "名字", 'q"x', "<b>&", "a,b", "\u2028", "x\ny", None], n), dtype="str"),
        "o": pd.Series(rng.choice(np.array(["a", None, 1.5, 3, True, np.nan, 2.0], dtype=object), n).tolist(),
                       dtype=object),
        "I": pd.array(rng.integers(0, 9, n), dtype="Int64"),
        "c": pd.Categorical(rng.choice(["x", "y", "甲"], n)),
    })
    frame.loc[::5, "I"] = pd.NA
    return frame


def _reference_collection(geoms: np.ndarray, props: pd.DataFrame | None, style_index) -> str:
    """One json.dumps per feature, as the maps wrote it before the column-wise encoder."""
    parts = []
    rows = props.to_numpy(dtype=object) if props is not None and len(props.columns) else None
    for i, g in enumerate(geoms):
        if g is None or shapely.is_empty(g):
            continue
        rec = {} if rows is None else {c: _clean_value(v) for c, v in zip(props.columns, rows[i])}
        if style_index is not None:
            rec["_s"] = int(style_index[i])
        parts.append('{"type":"Feature","properties":'
                     + json.dumps(rec, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
                     + ',"geometry":' + shapely.to_geojson(g) + "}")
    return escape_json_text('{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}")


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("with_props,with_styles", [(True, True), (True, False), (False, True), (False, False)])
def test_feature_collection_matches_one_dumps_per_feature(seed, with_props, with_styles):
    n = 600
    rng = np.random.default_rng(seed)
    geoms = shapely.points(rng.random(n), rng.random(n))
    geoms[::19] = None
    geoms[5] = shapely.Point()
    props = _mixed_frame(n, seed) if with_props else None
    style = rng.integers(0, 4, n) if with_styles else None
    text, count = feature_collection(geoms, props, style)
    assert text == _reference_collection(geoms, props, style)
    assert count == sum(1 for g in geoms if g is not None and not shapely.is_empty(g))
    assert len(json.loads(text)["features"]) == count


@pytest.mark.parametrize("seed", [0, 3])
def test_write_csv_matches_pandas_float_format(tmp_path, seed):
    frame = _mixed_frame(500, seed).drop(columns=["b"])
    frame["whole"] = np.arange(500, dtype=float)          # whole floats: written as integers
    path = write_csv(frame, tmp_path / "t.csv")
    expected = frame.copy()
    expected["c"] = expected["c"].astype(object)
    reference = tmp_path / "ref.csv"
    expected.to_csv(reference, index=False, encoding="utf-8-sig", na_rep="", float_format="%.10g",
                    lineterminator="\n")
    assert path.read_bytes() == reference.read_bytes()
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")


def test_folded_ids_match_nfkc_lower():
    rng = np.random.default_rng(2)
    ascii_ids = pd.Series([f"H{i:05d}" if i % 3 else f"h{i:05d}" for i in range(2000)], dtype="str")
    assert _folded(ascii_ids).equals(ascii_ids.str.normalize("NFKC").str.lower())
    mixed = pd.Series(rng.choice(["Ａ1", "a1", "B２", "b2", "区Ⅲ", None, "ﬁx"], 500), dtype="str")
    assert _folded(mixed).equals(mixed.str.normalize("NFKC").str.lower())
    assert _folded(mixed).duplicated().sum() > 0


def test_chain_names_normalised_once_per_distinct_value():
    rng = np.random.default_rng(4)
    raw = pd.Series(rng.choice(["电子 信息", " ＡＩ  芯片 ", "生物医药", "ai", None], 3000), dtype="str",
                    index=np.arange(3000) * 2)
    one_by_one = (raw.str.normalize("NFKC").str.replace(_SPACES, " ", regex=True).str.strip()
                  .str.replace(_CJK_GAP, "", regex=True))
    assert _nfkc(raw).equals(one_by_one)
    assert set(_nfkc(raw).dropna()) == {"电子信息", "AI 芯片", "生物医药", "ai"}


def test_template_syntax_in_a_name_is_written_literally(tmp_path):
    """A zone name that looks like Jinja syntax reaches the page as it is (branca would
    otherwise parse every rendered script once more as a template)."""
    from tests.test_webmap import MANIFEST, make_fixture, make_settings

    from geo.webmap import write_maps

    study, results = make_fixture()
    tricky = "园{{ 1 + 1 }}区{% if x %}"
    study.zones.loc[0, "name"] = tricky
    for table in results["core_periphery"].tables.values():
        if "zone_id" in table and "name" in table:
            table.loc[table["zone_id"] == study.zones.loc[0, "zone_id"], "name"] = tricky
    written = write_maps(tmp_path, study, results, make_settings(), MANIFEST)
    page = written["core_periphery"].read_text(encoding="utf-8")
    assert tricky in page
    assert "园2区" not in page
