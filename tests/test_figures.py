"""Print-ready figures read as a reader would: image size and resolution, PDF page size,
legend entries, a real CJK title (no tofu), labels that do not collide, the font error."""

from __future__ import annotations

import io
import itertools
import os
import warnings

import numpy as np
import pytest
from PIL import Image

from geo._errors import ConfigError

pytest.importorskip("pypdf")
from pypdf import PdfReader  # noqa: E402

ANALYSES = ("balance", "collaboration", "core_periphery", "chains", "commuting")
# paper sizes by hand (ISO 216, millimetres) and the units readers use
A3_LANDSCAPE_PX = (420 / 25.4 * 300, 297 / 25.4 * 300)     # 4960.6 × 3507.9
A3_LANDSCAPE_PT = (420 / 25.4 * 72, 297 / 25.4 * 72)       # 1190.55 × 841.89
A4_PORTRAIT_PT = (210 / 25.4 * 72, 297 / 25.4 * 72)        # 595.28 × 841.89
A2_LANDSCAPE_PT = (594 / 25.4 * 72, 420 / 25.4 * 72)


def _has_cjk_font() -> bool:
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    for entry in font_manager.fontManager.ttflist:
        try:
            if ord("职") in FT2Font(entry.fname).get_charmap():
                return True
        except (OSError, RuntimeError):
            continue
    return False


# skipped without a CJK font, except in CI (``CI`` set), where .ci/run installs fonts-noto-cjk
needs_cjk = pytest.mark.skipif(not _has_cjk_font() and not os.environ.get("CI"),
                               reason="no CJK font installed (Debian: fonts-noto-cjk)")


@pytest.fixture(scope="module")
def run_out(small_run):
    settings, report = small_run
    return settings, report


def _texts(fig, gid_prefix: str) -> list[str]:
    out = [t.get_text() for t in fig.texts if (t.get_gid() or "").startswith(gid_prefix)]
    for ax in fig.axes:
        out += [t.get_text() for t in ax.texts if (t.get_gid() or "").startswith(gid_prefix)]
    return out


# ---------------------------------------------------------------------------
# files of a run


@needs_cjk
@pytest.mark.parametrize("name", ANALYSES)
def test_png_is_a3_landscape_at_300_dpi(run_out, name):
    _, report = run_out
    path = report.output_dir / "figures" / f"{name}.png"
    with Image.open(path) as im:
        w, h = im.size
        dpi = im.info["dpi"]
        assert abs(w - A3_LANDSCAPE_PX[0]) <= 1 and abs(h - A3_LANDSCAPE_PX[1]) <= 1
        assert dpi == pytest.approx((300, 300), abs=0.01)
        small = np.asarray(im.convert("RGB").reduce(8))
    # a drawn page: not blank, mostly light paper with dark ink somewhere
    assert (small.mean(axis=2) < 80).mean() > 0.001
    assert (small.mean(axis=2) > 200).mean() > 0.3


@needs_cjk
@pytest.mark.parametrize("name", ANALYSES)
def test_pdf_has_one_a3_page_with_title_and_legend(run_out, name):
    settings, report = run_out
    reader = PdfReader(report.output_dir / "figures" / f"{name}.pdf")
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(A3_LANDSCAPE_PT[0], abs=0.5)
    assert float(box.height) == pytest.approx(A3_LANDSCAPE_PT[1], abs=0.5)
    text = reader.pages[0].extract_text()
    title_word = {"balance": "职住平衡", "collaboration": "跨区协同", "core_periphery": "中心—外围格局",
                  "chains": "强链补链", "commuting": "通勤实况"}[name]
    assert title_word in text
    assert "图例" in text           # legend heading
    assert "数据来源" in text        # source line
    assert "公里" in text            # scale bar unit
    assert "北" in text              # north arrow


@needs_cjk
def test_atlas_links_figures_and_workbook(run_out):
    _, report = run_out
    page = (report.output_dir / "index.html").read_text(encoding="utf-8")
    for name in ANALYSES:
        for ext in ("png", "pdf"):
            assert f'href="figures/{name}.{ext}"' in page
            assert (report.output_dir / "figures" / f"{name}.{ext}").is_file()
    assert 'href="tables.xlsx"' in page
    assert "figures/balance.png" in report.manifest["outputs"]
    assert "tables.xlsx" in report.manifest["outputs"]
    assert {"figures", "workbook"} <= set(report.manifest["timings_s"])


# ---------------------------------------------------------------------------
# the figure objects


@needs_cjk
def test_legend_has_the_web_map_classes_and_colours(run_out):
    from matplotlib.colors import to_hex

    from geo.figures import build_figure
    from geo.i18n import label

    settings, report = run_out
    fig = build_figure("balance", report.study, report.results["balance"], settings, report.manifest)
    items = _texts(fig, "legend_item")
    # class names and the limits of the default balanced range [0.8, 1.25], written by hand
    for expected in ("就业富余 (> 1.25)", "职住平衡 (0.8–1.25)", "居住富余 (< 0.8)", "通勤范围内无居住", "创新街区"):
        assert expected in items
    legend_ax = next(ax for ax in fig.axes if ax.get_gid() == "legend")
    faces = {to_hex(p.get_facecolor()) for p in legend_ax.patches}
    # the PuOr balance colours of the web map (DESIGN: same colours on web, QGIS and print)
    assert {"#e66101", "#f7f7f7", "#5e3c99", "#4d4d4d"} <= faces
    map_ax = next(ax for ax in fig.axes if ax.get_gid() != "legend")
    drawn = {to_hex(c) for coll in map_ax.collections for c in np.atleast_2d(coll.get_facecolor())}
    assert {"#e66101", "#5e3c99"} & drawn
    # the workplaces coloured by the class the web map leads with: their area's (area_class)
    from geo import styles

    wp = report.results["balance"].tables["balance_workplaces"]
    assert f"{label('balance_workplaces', 'zh')} — {label('area_class', 'zh')}" in _texts(fig, "legend_title")
    on_top = {to_hex(c) for coll in map_ax.collections if coll.get_zorder() == 4
              for c in np.atleast_2d(coll.get_facecolor())}
    assert on_top == {styles.BALANCE_CLASS_COLORS[c] for c in wp["area_class"].dropna().unique()}
    assert set(wp["area_class"]) != set(wp["balance_class"])     # the two measures tell apart here

    fig = build_figure("collaboration", report.study, report.results["collaboration"], settings)
    items = _texts(fig, "legend_item")
    for expected in ("主承载 + 协同地", "研发 + 制造", "终端 + 配套", "同链协作"):
        assert expected in items
    for chain in set(report.study.zones["chain"]):
        assert chain in items

    fig = build_figure("core_periphery", report.study, report.results["core_periphery"], settings)
    items = _texts(fig, "legend_item")
    assert "极核" in items and "孤立" in items
    titles = _texts(fig, "legend_title")
    assert any(t.startswith("增长极核") for t in titles)
    # as the web map opens: the pole territories drawn, the attachment links not (switched off there)
    assert "极核辐射范围" in titles and not any(t.startswith(label("core_periphery_links", "zh")) for t in titles)

    # chains: the chain the web map opens on, its roles, its gap star and the leaders' reach
    from geo.analysis.chains import initial_chain

    chains = report.results["chains"]
    chain = initial_chain(chains.tables["chain_completeness"], chains.tables["chain_gaps"])
    fig = build_figure("chains", report.study, chains, settings)
    title = next(t for t in fig.texts if t.get_gid() == "title").get_text()
    assert title.endswith(f"— {chain}")
    zones = chains.tables["chain_zones"]
    roles = set(zones.loc[zones["chain"] == chain, "role"].dropna())
    items = _texts(fig, "legend_item")
    assert {label(r, "zh") for r in roles} <= set(items)
    assert chain in items            # the gap-list star


@needs_cjk
@pytest.mark.parametrize("name", ANALYSES)
def test_labels_do_not_collide_and_stay_in_the_frame(run_out, name):
    from geo.figures import build_figure

    settings, report = run_out
    fig = build_figure(name, report.study, report.results[name], settings)
    renderer = fig.canvas.get_renderer()
    map_ax = next(ax for ax in fig.axes if ax.get_gid() != "legend")
    frame = map_ax.get_window_extent(renderer)
    labels = [t for t in map_ax.texts if t.get_gid() == "map_label"]
    assert labels, "no feature or district labelled"
    boxes = [t.get_window_extent(renderer) for t in labels]
    for b in boxes:
        assert frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1
    for (i, a), (j, b) in itertools.combinations(enumerate(boxes), 2):
        assert not a.overlaps(b), f"labels {labels[i].get_text()!r} and {labels[j].get_text()!r} overlap"
    names = {t.get_text() for t in labels}
    assert names & set(report.study.districts["name"])   # district names are labelled


@needs_cjk
def test_housing_is_aggregated_not_drawn_point_by_point(run_out):
    from geo.figures import build_figure

    settings, report = run_out
    fig = build_figure("balance", report.study, report.results["balance"], settings)
    map_ax = next(ax for ax in fig.axes if ax.get_gid() != "legend")
    artists = len(map_ax.collections) + len(map_ax.patches) + len(map_ax.lines)
    paths = sum(len(c.get_paths()) for c in map_ax.collections)
    assert len(report.study.housing) > 1000
    assert artists < 50 and paths < 100


@needs_cjk
@pytest.mark.parametrize(("paper", "orientation", "size_pt"),
                         [("A4", "portrait", A4_PORTRAIT_PT), ("A2", "landscape", A2_LANDSCAPE_PT)])
def test_paper_and_orientation(run_out, tmp_path, paper, orientation, size_pt):
    from geo.figures import build_figure, save_figure

    settings, report = run_out
    fig = build_figure("core_periphery", report.study, report.results["core_periphery"], settings,
                       paper=paper, orientation=orientation)
    png, pdf = save_figure(fig, tmp_path, "cp")
    box = PdfReader(pdf).pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(size_pt, abs=0.5)
    with Image.open(png) as im:
        assert im.size[0] == pytest.approx(size_pt[0] / 72 * 300, abs=1)
        assert im.size[1] == pytest.approx(size_pt[1] / 72 * 300, abs=1)
    # the legend fits on the page (portrait: below the map)
    legend_ax = next(ax for ax in fig.axes if ax.get_gid() == "legend")
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    for t in legend_ax.texts:
        b = t.get_window_extent(renderer)
        assert page.x0 <= b.x0 and b.x1 <= page.x1 + 1 and page.y0 <= b.y0 and b.y1 <= page.y1


# ---------------------------------------------------------------------------
# CJK text


def _title_pixels(fig) -> np.ndarray:
    """The rendered title region of a figure as a grey array."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    title = next(t for t in fig.texts if t.get_gid() == "title")
    b = title.get_window_extent(renderer)
    img = np.asarray(fig.canvas.buffer_rgba())[..., :3].mean(axis=2)
    h = img.shape[0]
    return img[int(h - b.y1):int(h - b.y0), int(b.x0):int(b.x1)]


@needs_cjk
def test_cjk_title_is_rendered_with_a_font_that_has_the_glyphs(run_out, monkeypatch):
    from fontTools.ttLib import TTCollection, TTFont
    from matplotlib import font_manager

    from geo.figures import _fonts, build_figure

    settings, report = run_out
    fig = build_figure("balance", report.study, report.results["balance"], settings)
    title = next(t for t in fig.texts if t.get_gid() == "title")
    text = title.get_text()
    cjk = [c for c in text if 0x4E00 <= ord(c) <= 0x9FFF]   # ideographs (punctuation may exist in Latin fonts)
    assert cjk, text
    # 1. the font matplotlib resolves for the title holds every CJK character (read with fontTools)
    path = font_manager.findfont(title.get_fontproperties(), fallback_to_default=False)
    font = TTCollection(path).fonts[0] if path.lower().endswith(".ttc") else TTFont(path)
    cmap = font.getBestCmap()
    assert all(ord(c) in cmap for c in cjk), path
    # 2. the title looks different from a render with a Latin-only font (tofu boxes)
    real = _title_pixels(fig)
    monkeypatch.setattr(_fonts, "font_families", lambda language, required: ["DejaVu Sans"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # matplotlib warns about each missing glyph
        tofu_fig = build_figure("balance", report.study, report.results["balance"], settings)
        tofu = _title_pixels(tofu_fig)
    # the CJK part is the end of the title ("... — 职住平衡"): compare its last quarter
    a = real[:, -real.shape[1] // 4:]
    b = tofu[:, -tofu.shape[1] // 4:]
    rows, cols = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    differs = np.abs(a[:rows, -cols:] - b[:rows, -cols:]) > 60
    assert differs.mean() > 0.05
    # a real CJK font draws each character differently; tofu draws the same box for each
    assert len(set(_glyph_bitmaps(title.get_fontproperties(), cjk))) == len(set(cjk))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tofu_title = next(t for t in tofu_fig.texts if t.get_gid() == "title")
        assert len(set(_glyph_bitmaps(tofu_title.get_fontproperties(), cjk))) == 1


def _glyph_bitmaps(props, chars) -> list[bytes]:
    """Each character rendered alone at 40 pt with ``props`` (cropped ink, as bytes)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    out = []
    for c in dict.fromkeys(chars):
        fig = Figure(figsize=(1, 1), dpi=100)
        FigureCanvasAgg(fig)
        fig.text(0.5, 0.5, c, fontproperties=props, fontsize=40, ha="center", va="center")
        fig.canvas.draw()
        ink = np.asarray(fig.canvas.buffer_rgba())[..., :3].mean(axis=2) < 128
        ys, xs = np.nonzero(ink)
        out.append(ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1].tobytes() if len(ys) else b"")
    return out


def _latin_only(monkeypatch):
    from matplotlib import font_manager

    from geo.figures import _fonts

    latin = [e for e in font_manager.fontManager.ttflist if e.name.startswith("DejaVu")]
    monkeypatch.setattr(_fonts, "_font_entries", lambda rescan=False: latin)
    _fonts.find_cjk_font.cache_clear()


def test_no_cjk_font_is_one_clear_error(small_study, monkeypatch, capsys):
    from geo.cli import main
    from geo.figures import _fonts, check_fonts
    from geo.settings import load_settings

    _latin_only(monkeypatch)
    try:
        settings = load_settings(small_study)
        assert settings.study.language == "zh"
        with pytest.raises(ConfigError) as exc:
            check_fonts(settings)
        assert len(exc.value.problems) == 1
        message = exc.value.problems[0]
        assert "fonts-noto-cjk" in message and "figures: false" in message and str(small_study) in message

        assert main(["validate", "-c", str(small_study)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert [line for line in err if "fonts-noto-cjk" in line] == [err[0]]
        assert err[0].startswith("error: ") and "Traceback" not in "\n".join(err)

        out = small_study.parent / "never_written"
        assert main(["run", "-c", str(small_study), "-o", str(out), "-q"]) == 2
        assert not out.exists()
        assert "fonts-noto-cjk" in capsys.readouterr().err

        # figures off, or an English study: no font needed
        settings.print.figures = False
        check_fonts(settings)
        settings.print.figures = True
        settings.study.language = "en"
        check_fonts(settings)
    finally:
        _fonts.find_cjk_font.cache_clear()


def test_print_settings_defaults_and_unknown_keys():
    from geo.settings import settings_from_dict

    s = settings_from_dict({"layers": {"zones": {"path": "z.gpkg"}}}, base_dir=".")
    assert (s.print.paper, s.print.orientation, s.print.figures, s.print.workbook) == ("A3", "landscape", True, True)
    with pytest.raises(ConfigError) as exc:
        settings_from_dict({"layers": {"zones": {"path": "z.gpkg"}}, "print": {"papper": "A4"}}, base_dir=".")
    assert "print.papper" in str(exc.value) and "paper" in str(exc.value)
    with pytest.raises(ConfigError):
        settings_from_dict({"layers": {"zones": {"path": "z.gpkg"}}, "print": {"paper": "A5"}}, base_dir=".")


def test_outputs_switched_off(small_study_copy):
    import yaml

    from geo.pipeline import run
    from geo.settings import load_settings

    data = yaml.safe_load(small_study_copy.read_text(encoding="utf-8"))
    data["print"] = {"figures": False, "workbook": False}
    small_study_copy.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    report = run(load_settings(small_study_copy), only="balance", output_dir=small_study_copy.parent / "out")
    assert not (report.output_dir / "figures").exists()
    assert not (report.output_dir / "tables.xlsx").exists()
    page = (report.output_dir / "index.html").read_text(encoding="utf-8")
    assert "figures/" not in page and "tables.xlsx" not in page


def test_png_writer_round_trips_through_pillow():
    from geo.figures._png import png_bytes

    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, size=(37, 53, 4), dtype=np.uint8)
    with Image.open(io.BytesIO(png_bytes(rgba, 300))) as im:
        assert im.size == (53, 37) and im.mode == "RGB"
        assert np.array_equal(np.asarray(im), rgba[..., :3])
        assert im.info["dpi"] == pytest.approx((300, 300), abs=0.01)


def test_a_minimal_english_study_with_odd_names(tmp_path):
    """Zones and a few housing points only (district ids on the zones, no districts or innovation districts),
    names with ``$`` (matplotlib math markup) and ``=``: every figure is written and the
    names print literally."""
    import geopandas as gpd
    import shapely

    from geo.figures import build_figure, write_figures
    from geo.layers import load_study
    from geo.pipeline import run_analyses
    from tests._layer_fixtures import CRS, X0, Y0, housing_gdf, settings_for, write

    names = ["$x^2$ Park", "=1+1 Zone", "Plain Zone", "Core Zone"]
    zones = gpd.GeoDataFrame(
        {"id": ["Z1", "Z2", "Z3", "Z4"], "name": names, "chain": ["ev", "ev", "bio", "ev"],
         "district": ["D1", "D2", "D2", "D1"], "jobs": [1000, 5000, 200, 9000]},
        geometry=[shapely.box(X0 + i * 4000, Y0, X0 + i * 4000 + 1500, Y0 + 1500) for i in range(4)], crs=CRS)
    write(zones, tmp_path / "zones.gpkg")
    write(housing_gdf(), tmp_path / "housing.gpkg")
    settings = settings_for(tmp_path, {
        "study": {"name": "Tiny $study$", "language": "en"}, "crs": {"working": CRS},
        "layers": {"zones": {"path": "zones.gpkg", "fields": {"zone_id": "id", "district_id": "district"}},
                   "housing": {"path": "housing.gpkg", "fields": {"housing_id": "id"}}}})
    study = load_study(settings)
    results = run_analyses(study, settings)
    written = write_figures(tmp_path / "figures", study, results, settings)
    assert set(written) == set(ANALYSES) - {"commuting"}   # no OD table in this study
    for png, pdf in written.values():
        assert png.stat().st_size > 10_000 and len(PdfReader(pdf).pages) == 1
    fig = build_figure("core_periphery", study, results["core_periphery"], settings)
    title = next(t for t in fig.texts if t.get_gid() == "title")
    assert title.get_text() == "Tiny $study$ — Core–periphery layout"
    text = PdfReader(written["core_periphery"][1]).pages[0].extract_text()
    assert "Tiny $study$" in text
    labels = {t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == "map_label"}
    assert labels <= set(names) and labels


@needs_cjk
def test_a_long_study_name_still_fits_the_page(run_out):
    from geo.figures import build_figure

    settings, report = run_out
    long_settings = settings.model_copy(deep=True)
    long_settings.study.name = "某某市国土空间总体规划（2021—2035年）产业功能区与创新街区专题研究" * 3
    fig = build_figure("balance", report.study, report.results["balance"], long_settings, paper="A4")
    renderer = fig.canvas.get_renderer()
    for gid in ("title", "source"):
        text = next(t for t in fig.texts if t.get_gid() == gid)
        box = text.get_window_extent(renderer)
        assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1, gid


def test_housing_hexagons_are_computed_once_per_study_and_settings(small_study):
    """The QGIS package, the print figure and the web map share one hexagon aggregation."""
    import geo.webmap.balance as wb
    from geo.layers import load_study
    from geo.settings import load_settings

    settings = load_settings(small_study)
    study = load_study(settings)
    calls = []
    real = wb._housing_hexagons

    def counted(*args):
        calls.append(1)
        return real(*args)

    wb._housing_hexagons, saved = counted, wb._housing_hexagons
    try:
        first, size = wb.housing_hexagons(study, settings)
        again, size2 = wb.housing_hexagons(study, settings)
        assert len(calls) == 1 and size2 == size
        assert again is not first and again.equals(first)   # each caller its own copy
        again["workers"] = 0.0
        assert wb.housing_hexagons(study, settings)[0]["workers"].equals(first["workers"])
        # other settings: computed anew, workers scale with workers_per_dwelling
        other = settings.model_copy(deep=True)
        other.balance.workers_per_dwelling = settings.balance.workers_per_dwelling * 2
        doubled, _ = wb.housing_hexagons(study, other)
        assert len(calls) == 2
        assert doubled["workers"].sum() == pytest.approx(2 * first["workers"].sum())
        assert first["workers"].sum() == pytest.approx(
            study.housing["dwellings"].astype(float).sum() * settings.balance.workers_per_dwelling)
    finally:
        wb._housing_hexagons = saved


@needs_cjk
def test_pages_drawn_on_one_shared_renderer_equal_pages_drawn_alone(run_out, tmp_path):
    """write_figures draws every page on one Agg renderer (one page buffer, text measured
    once): each page, drawn after others on it, has the pixels and PDF of that page drawn
    alone, and the PNG round-trips the drawn buffer."""
    from geo.figures import build_figure, save_figure, write_figures
    from geo.figures._page import shared_renderers

    settings, report = run_out
    names = ("core_periphery", "balance", "chains")
    results = {n: report.results[n] for n in names}
    together = write_figures(tmp_path / "together", report.study, results, settings)
    for name in names:
        alone = build_figure(name, report.study, results[name], settings)
        png, pdf = save_figure(alone, tmp_path / "alone", name)
        drawn = np.asarray(alone.canvas.buffer_rgba())[..., :3]
        with Image.open(png) as a, Image.open(together[name][0]) as b:
            assert np.array_equal(np.asarray(a), drawn)
            assert np.array_equal(np.asarray(b), drawn), name
        assert together[name][1].read_bytes() == pdf.read_bytes()
    # the renderer is shared inside, not outside
    with shared_renderers():
        a, b = (build_figure(n, report.study, results[n], settings) for n in names[:2])
        assert a.canvas.get_renderer() is b.canvas.get_renderer()
    assert a.canvas.get_renderer() is not b.canvas.get_renderer()
