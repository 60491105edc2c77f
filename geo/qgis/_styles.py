"""The QML styles of each package layer: palettes and breaks of :mod:`geo.styles`,
labels of :mod:`geo.i18n`, as on the web maps."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np
import pandas as pd

from geo import styles
from geo._types import Study
from geo.i18n import SECTOR_NAMES, label, title
from geo.styles import px_to_mm
from geo.qgis._chains_styles import CHAIN_LAYERS, chain_styles
from geo.qgis._commuting_styles import COMMUTING_LAYERS, commuting_styles, workplace_renderer
from geo.qgis._derived import derived_styles
from geo.qgis._layers import BOUNDARIES, HEAVY_POINTS, ExportLayer
from geo.qgis._network_styles import NETWORK_LAYERS, network_styles
from geo.qgis._qml import (
    NO_DATA_LABEL,
    Category,
    LayerStyle,
    Range,
    categorized_renderer,
    fill_symbol,
    finite,
    graduated_renderer,
    line_symbol,
    marker_symbol,
    missing_fill,
    null_renderer,
    order_by,
    rgba,
    simple_labeling,
    single_renderer,
)

#: The style of ``districts`` that draws their names only (the map themes' districts).
NAMES_STYLE = "names"

#: Polygon fill opacity of the styled layers (the basemap shows through), as on the
#: web maps: zones 0.8, workplaces and scores 0.85, district choropleth 0.6.
FILL_ALPHA = 0.8
_ALPHA_STRONG = 0.85
_ALPHA_DISTRICTS = 0.6
_ALPHA_PERIPHERY = 0.45


_LABEL_ALIAS_SOURCE = {"zh": "（原字段 {}）", "en": " (source column {})"}


#: Titles and aliases of the package's own layers and fields that :mod:`geo.i18n` does not name.
PACKAGE_TERMS: dict[str, tuple[str, str]] = {
    "balance_housing_density": ("居住就业人口密度（六边形网格）", "Resident workers (hexagon density)"),
    "balance_catchments": ("通勤范围", "Catchments"),
    "core_periphery_poles": ("增长极核", "Growth poles"),
    "core_periphery_territories": ("极核辐射范围", "Pole territories"),
    "chain_gap_points": ("补链清单（主承载区）", "Gap list (at the strongest zone)"),
    "chain_leader_reach": ("链主企业辐射范围", "Leader firms' reach"),
    "missing": ("缺失环节", "Missing roles"),
    "distant": ("距离过远环节", "Distant roles"),
    "reach_m": ("辐射半径（米）", "Reach (m)"),
    "points": ("居住点数", "Housing features"),
    "radius_m": ("通勤半径（米）", "Radius (m)"),
    BOUNDARIES: ("行政区界线", "District boundaries"),
    "shared": ("两区共有界线", "Shared by two districts"),
}


#: Layer titles where the layer's name is also a field with another meaning
#: (``leader_firms`` the layer of firms, ``leader_firms`` the count field of zones).
def layer_title(name: str, language: str) -> str:
    """The title of a package layer in the layer tree and legends."""
    text = title(name, language)
    return term(name, language) if text == name else text


def term(key: str, language: str, table: str | None = None) -> str:
    """Layer titles and field aliases: :func:`geo.i18n.label` (of the column in ``table``),
    else :data:`PACKAGE_TERMS`."""
    text = label(key, language, table)
    if text == key and key in PACKAGE_TERMS:
        zh, en = PACKAGE_TERMS[key]
        return zh if language == "zh" else en
    return text


def zone_chain_colors(study: Study) -> dict[str, str]:
    """Chain colours as the web maps assign them: from every chain of the zones."""
    return styles.chain_colors(study.zones["chain"]) if "chain" in study.zones else {}


def _fmt(value: float) -> str:
    if not np.isfinite(value):
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _range_labels(edges: Sequence[float]) -> list[str]:
    return [f"{_fmt(lo)} – {_fmt(hi)}" for lo, hi in pairwise(edges)]


def field_aliases(layer: ExportLayer, study: Study, language: str) -> dict[str, str]:
    """Field → alias in the study language; input fields also name the user's column."""
    source = study.sources.get(layer.name) if layer.group == "inputs" else None
    original = source.aliases if source is not None else {}
    out = {}
    for col in _field_names(layer)[1:]:
        text = term(col, language, layer.name)
        user_col = original.get(col)
        if user_col and user_col != col:
            text += _LABEL_ALIAS_SOURCE.get(language, " ({})").format(user_col)
        if text != col:
            out[col] = text
    return out


#: Text fields holding codes of a fixed vocabulary: shown with their i18n labels.
CODED_FIELDS = ("balance_class", "area_class", "strategy", "pair_type", "role", "zone_role", "kind", "tier",
                "candidate_kind", "measured", "method")
#: Fields holding the id of a feature of an input layer: shown with that feature's name
#: (field → (input layer, its id field)); not in the layer that owns the id.
ID_FIELDS = {
    "district_id": ("districts", "district_id"), "district_a": ("districts", "district_id"),
    "district_b": ("districts", "district_id"), "nearest_partner_district": ("districts", "district_id"),
    "core_id": ("zones", "zone_id"), "zone_a": ("zones", "zone_id"), "zone_b": ("zones", "zone_id"),
    "nearest_partner_id": ("zones", "zone_id"), "top_zone_id": ("zones", "zone_id"),
    "main_core_id": ("zones", "zone_id"), "nearest_innov_id": ("innovation_districts", "innov_id"),
}
#: At most this many entries in one value map (a larger vocabulary stays raw).
MAX_VALUE_MAP = 5000
#: Fields of one layer holding codes whose words are not among the i18n terms:
#: (layer, field) → {code: (zh, en)}.
LAYER_CODES: dict[tuple[str, str], dict[str, tuple[str, str]]] = {
    ("roads", "class"): dict(styles.ROAD_CLASS_NAMES),
    ("roads", "oneway"): {"yes": ("单行（顺画线方向）", "one-way (digitised direction)"),
                          "-1": ("单行（逆画线方向）", "one-way (against the digitised direction)"),
                          "no": ("双向", "both ways")},
    ("commuting_directions", "direction"): SECTOR_NAMES,
}


def value_maps(layer: ExportLayer, study: Study, language: str) -> dict[str, dict[str, str]]:
    """Field → {code: label} for the coded and id fields of ``layer`` (QGIS value maps), so
    the attribute table and identify show what the web popups show."""
    frame = layer.frame
    out: dict[str, dict[str, str]] = {}
    for col in CODED_FIELDS:
        if col in frame and not pd.api.types.is_numeric_dtype(frame[col].dtype):
            codes = sorted({str(v) for v in frame[col].dropna().unique()})
            labels = {c: label(c, language) for c in codes}
            if any(text != c for c, text in labels.items()) and len(labels) <= MAX_VALUE_MAP:
                out[col] = labels
    for (name, col), words in LAYER_CODES.items():
        if layer.name == name and col in frame:
            codes = {str(v) for v in frame[col].dropna().unique()}
            out[col] = {c: words[c][0 if language == "zh" else 1] if c in words else c for c in sorted(codes)}
    for col, (source, id_field) in ID_FIELDS.items():
        table = getattr(study, source, None)
        if col not in frame or table is None or "name" not in table or (layer.name == source and col == id_field):
            continue
        names = dict(zip(table[id_field].astype(str), table["name"].astype(str)))
        codes = {str(v) for v in frame[col].dropna().unique()}
        entries = {c: f"{names[c]} ({c})" for c in sorted(codes) if c in names}
        if entries and len(entries) <= MAX_VALUE_MAP:
            out[col] = entries
    return out


def _unique_aliases(aliases: dict[str, str]) -> dict[str, str]:
    """Two fields never share an alias: a repeated one names its field too."""
    seen: dict[str, int] = {}
    for text in aliases.values():
        seen[text] = seen.get(text, 0) + 1
    return {col: (f"{text} ({col})" if seen[text] > 1 else text) for col, text in aliases.items()}


def _field_names(layer: ExportLayer) -> list[str]:
    cols = [c for c in layer.frame.columns
            if not (layer.spatial and c == layer.frame.geometry.name)]
    return ["fid", *cols]


def _polygon_categories(colors: dict[str, str], language: str, outline: str = styles.ZONE_OUTLINE,
                        fill_alpha: float = FILL_ALPHA, missing: str | None = None,
                        texts: dict[str, str] | None = None) -> list[Category]:
    """One category per colour, outlined 1 px as on the web maps, labelled ``texts`` (default:
    the value's i18n label); ``missing`` also draws the other values (NULL) in that colour."""
    mm = px_to_mm(1.0)
    texts = texts or {}
    cats = [Category(value, texts.get(value) or label(value, language),
                     fill_symbol(color, outline, fill_alpha=fill_alpha, outline_width_mm=mm))
            for value, color in colors.items()]
    if missing is not None:
        cats.append(Category(None, NO_DATA_LABEL, fill_symbol(missing, outline, fill_alpha=fill_alpha,
                                                              outline_width_mm=mm)))
    return cats


def _polygon_by_category(field_name: str, colors: dict[str, str], language: str,
                         outline: str = styles.ZONE_OUTLINE, fill_alpha: float = FILL_ALPHA,
                         texts: dict[str, str] | None = None) -> object:
    return categorized_renderer(field_name, _polygon_categories(colors, language, outline, fill_alpha,
                                                                texts=texts))


def _graduated_ranges(edges: Sequence[float], colors: Sequence[str], outline: str,
                      fill_alpha: float = FILL_ALPHA, labels: Sequence[str] | None = None) -> list[Range]:
    """Polygon classes between ``edges``, outlined 1 px as on the web maps."""
    labels = labels or _range_labels(edges)
    return [Range(lo, hi, text, fill_symbol(color, outline, fill_alpha=fill_alpha, outline_width_mm=px_to_mm(1.0)))
            for (lo, hi), text, color in zip(pairwise(edges), labels, colors)]


def _graduated_fill(field_name: str, edges: Sequence[float], colors: Sequence[str],
                    outline: str, fill_alpha: float = FILL_ALPHA, labels: Sequence[str] | None = None) -> object:
    return graduated_renderer(field_name, _graduated_ranges(edges, colors, outline, fill_alpha, labels))


def _edges(values, breaks: Sequence[float]) -> list[float]:
    """Class edges: data min/max close the ends (never inside the fixed breaks)."""
    vals = finite(values)
    if not breaks:
        lo, hi = (min(vals), max(vals)) if vals else (0.0, 0.0)
        return [lo, hi]
    lo = min([*vals, float(breaks[0])]) if vals else float(breaks[0])
    hi = max([*vals, float(breaks[-1])]) if vals else float(breaks[-1])
    return [lo, *map(float, breaks), hi]


def _quantile_graduated(frame: pd.DataFrame, field_name: str, outline: str,
                        fill_alpha: float = FILL_ALPHA) -> object:
    values = frame.get(field_name, [])
    breaks = styles.graduated_breaks(finite(values), k=5)
    edges = _edges(values, breaks)
    return _graduated_fill(field_name, edges, styles.ramp(len(edges) - 1), outline, fill_alpha)


def _case_color(field_name: str, colors: dict[str, str], default: str) -> str:
    whens = " ".join(f"WHEN \"{field_name}\" = '{key}' THEN '{rgba(color)}'" for key, color in colors.items())
    return f"CASE {whens} ELSE '{rgba(default)}' END"


def layer_styles_for(layer: ExportLayer, *, study: Study, language: str, balanced_range: Sequence[float],
                     chain_colors: dict[str, str], pole_colors: dict[str, str] | None = None) -> list[LayerStyle]:
    """The styles of one layer; the first is the default. ``balanced_range`` (the run's
    ``balance.balanced_range``) goes into the balance classes' labels, as on the web legend.

    Tables get one style holding only field aliases (used in the project).
    """
    aliases = _unique_aliases(field_aliases(layer, study, language))
    coded = value_maps(layer, study, language)
    fields = _field_names(layer)
    # optional columns empty in this run stay in the data, hidden in the attribute table
    empty = tuple(c for c in fields[1:] if len(layer.frame) and c in layer.frame
                  and not (layer.spatial and c == layer.frame.geometry.name) and layer.frame[c].isna().all())
    frame = layer.frame
    kind = layer.geometry_kind
    name = layer.name

    def style(style_name: str, renderer, labeling=None, opacity: float = 1.0, description: str = "") -> LayerStyle:
        return LayerStyle(style_name, renderer, labeling, fields=fields, aliases=aliases,
                          opacity=opacity, description=description or layer_title(name, language), value_maps=coded,
                          hidden_fields=empty)

    if not layer.spatial:
        return [style("default", None)]
    has_name = "name" in frame.columns
    name_labels = simple_labeling("name", geometry=kind) if has_name else None
    # the balance classes with the ratios they stand for, as the web legend
    balance_texts = {c: styles.balance_class_text(c, language, balanced_range) for c in styles.BALANCE_CLASSES}

    if name == "districts":
        district_names = (simple_labeling("name", geometry="polygon", size_pt=11, color=styles.DISTRICT_OUTLINE)
                          if has_name else None)
        # on its own (e.g. added from the GeoPackage) outlined; the map themes draw the outlines
        # with district_boundaries, each boundary once, and the districts for their names only
        return [style("default", single_renderer(
            fill_symbol(None, styles.DISTRICT_OUTLINE, outline_width_mm=px_to_mm(1.6), outline_style="dash")),
            district_names), style(NAMES_STYLE, null_renderer(), district_names)]
    if name == BOUNDARIES:
        # as the web maps outline the districts: 1.6 px, dashed 6 4 px, opacity 0.9
        return [style("default", single_renderer(line_symbol(
            styles.DISTRICT_OUTLINE, px_to_mm(1.6), alpha=0.9, dash_mm=(px_to_mm(6.0), px_to_mm(4.0)))))]
    if name in ("zones", "collaboration_zones") and "chain" in frame:
        return [style("chain", _polygon_by_category("chain", chain_colors, language), name_labels)]
    if name == "innovation_districts":
        return [style("default", single_renderer(
            fill_symbol(styles.INNOVATION_COLOR, styles.INNOVATION_COLOR, fill_alpha=0.3,
                        outline_width_mm=px_to_mm(2.5), outline_style="dash")), name_labels)]   # as on collaboration.html
    if name == "housing":
        if kind == "point":
            housing = style("default", single_renderer(marker_symbol(styles.HOUSING_COLOR, 0.8)))
            if len(frame) > HEAVY_POINTS:
                housing.min_scale = 100_000
            return [housing]
        return [style("default", single_renderer(
            fill_symbol(styles.HOUSING_COLOR, styles.HOUSING_COLOR, fill_alpha=0.4,
                        outline_width_mm=px_to_mm(0.5))))]
    if name == "balance_workplaces" and "balance_class" in frame:
        # innovation districts outlined in their colour over the class fill, as on the web map
        # (zones 1 px, innovation districts 2.5 px)
        # the web map leads with the area measure (area_class) where the run has it
        leads = [c for c in ("area_class", "balance_class") if c in frame]
        out = [style(col, workplace_renderer(frame, col, _polygon_categories(
            styles.BALANCE_CLASS_COLORS, language, fill_alpha=_ALPHA_STRONG, missing=styles.MISSING_COLOR,
            texts=balance_texts), language), name_labels) for col in leads]
        if "jhr" in frame:    # the innovation districts outlined here too; no ratio: grey
            out.append(style("jhr", workplace_renderer(frame, "jhr", _graduated_ranges(
                _edges(frame["jhr"], styles.JHR_BREAKS), styles.JHR_COLORS, styles.ZONE_OUTLINE,
                fill_alpha=_ALPHA_STRONG, labels=styles.jhr_class_texts()), language,
                missing=missing_fill(styles.ZONE_OUTLINE, _ALPHA_STRONG)), name_labels))
        return out
    if name == "balance_districts" and "jhr" in frame:
        # as balance.html: a district without a ratio grey (0.4)
        out = [style("jhr", workplace_renderer(frame, "jhr", _graduated_ranges(
            _edges(frame["jhr"], styles.JHR_BREAKS), styles.JHR_COLORS, styles.DISTRICT_OUTLINE,
            fill_alpha=_ALPHA_DISTRICTS, labels=styles.jhr_class_texts()), language,
            missing=missing_fill(styles.DISTRICT_OUTLINE, 0.4)), name_labels)]
        if "balance_class" in frame:
            out.append(style("balance_class", _polygon_by_category(
                "balance_class", styles.BALANCE_CLASS_COLORS, language, styles.DISTRICT_OUTLINE,
                fill_alpha=_ALPHA_DISTRICTS, texts=balance_texts), name_labels))
        return out
    if name == "collaboration_pairs" and "strength" in frame:
        return _pair_styles(frame, style, language)
    if name == "core_periphery_zones":
        out = []
        # the web map's initial view first: zones coloured by the pole they attach to
        if {"zone_id", "core_id", "role"} <= set(frame.columns):
            out.append(style("core_id", _by_attached_core(frame, language), name_labels))
        if "strategy" in frame:
            out.append(style("strategy", _polygon_by_category("strategy", styles.STRATEGY_COLORS, language),
                             name_labels))
        if "role" in frame:
            out.append(style("role", _polygon_by_category("role", styles.ROLE_COLORS, language), name_labels))
        if "score" in frame:
            out.append(style("score", _quantile_graduated(frame, "score", styles.ZONE_OUTLINE, _ALPHA_STRONG),
                             name_labels))
        if out:
            return out
    if name in NETWORK_LAYERS and kind is not None:
        return network_styles(name, frame, style, language)
    if name in COMMUTING_LAYERS and kind is not None:
        return commuting_styles(name, frame, style, language)
    derived = derived_styles(name, frame, style, language, edges_for=_edges, range_labels=_range_labels,
                             pole_colors=pole_colors)
    if derived is not None:
        return derived
    if name in CHAIN_LAYERS and kind is not None:
        return chain_styles(name, frame, style, language, HEAVY_POINTS)
    if name == "core_periphery_links":
        # as on the web map: each link in the colour of its pole, wider as it is likelier
        # (the attachment probability's classes; px 0.7 w + 0.5)
        widths = [px_to_mm(w * 0.7 + 0.5) for w in styles.LINE_WIDTHS]
        b = styles.ATTACH_PROB_BREAKS
        width = ("CASE " + " ".join(f'WHEN "attach_prob" <= {hi!r} THEN {w!r}' for hi, w in zip(b, widths))
                 + f" ELSE {widths[len(b)]!r} END") if "attach_prob" in frame else None
        plain = line_symbol(styles.STRATEGY_COLORS["collaborative_subordinate"], widths[0], alpha=0.9,
                            width_expression=width)
        if pole_colors and "core_id" in frame:
            names = {str(z): str(n) for z, n in zip(study.zones["zone_id"], study.zones["name"])} \
                if study.zones is not None and "name" in study.zones else {}
            cats = [Category(core, names.get(core, core), line_symbol(color, widths[0], alpha=0.9,
                                                                      width_expression=width))
                    for core, color in pole_colors.items()]
            cats.append(Category(None, "—", plain))
            return [style("core_id", categorized_renderer('"core_id"', cats))]
        return [style("default", single_renderer(plain))]
    # any other spatial layer: a numeric mix field graduated, else one plain symbol
    for col in ("landuse_entropy", "score"):
        if col in frame and kind == "polygon":
            return [style(col, _quantile_graduated(frame, col, styles.ZONE_OUTLINE), name_labels)]
    return [style("default", single_renderer(_plain_symbol(kind)), name_labels)]


def _by_attached_core(frame: pd.DataFrame, language: str):
    """Zones coloured by the core they attach to (cores by their own id), as the web
    map's default core–periphery view: cores with a thick black outline, isolated zones
    grey and dashed."""
    core_color = styles.pole_colors(frame)   # the web map's colour for the same pole
    names = dict(zip(frame["zone_id"].astype(str), frame["name"].astype(str))) if "name" in frame else {}
    expression = ("CASE WHEN \"role\" = 'core' THEN \"zone_id\" "
                  "WHEN \"strategy\" = 'isolated' THEN '' ELSE coalesce(\"core_id\", '') END"
                  if "strategy" in frame else
                  "CASE WHEN \"role\" = 'core' THEN \"zone_id\" ELSE coalesce(\"core_id\", '') END")
    outline_dd = {
        "outlineWidth": f"CASE WHEN \"role\" = 'core' THEN {px_to_mm(styles.CORE_OUTLINE_WIDTH)!r} "
                        f"ELSE {px_to_mm(1.0)!r} END",
        "outlineColor": f"CASE WHEN \"role\" = 'core' THEN '{rgba(styles.CORE_OUTLINE)}' "
                        f"ELSE '{rgba(styles.ZONE_OUTLINE)}' END",
    }

    def by_role(color: str) -> dict[str, str]:
        # the pole itself strong, its periphery lighter (web map: 0.85 / 0.45)
        fill = (f"CASE WHEN \"role\" = 'core' THEN '{rgba(color, _ALPHA_STRONG)}' "
                f"ELSE '{rgba(color, _ALPHA_PERIPHERY)}' END")
        return {**outline_dd, "fillColor": fill}

    cats = [Category(core, names.get(core, core),
                     fill_symbol(color, styles.ZONE_OUTLINE, fill_alpha=_ALPHA_STRONG, outline_width_mm=px_to_mm(1.0),
                                 data_defined=by_role(color)))
            for core, color in core_color.items()]
    # the empty value also catches NULL: QGIS' "all other values" category
    cats.append(Category(None, label("isolated", language),
                         fill_symbol(styles.STRATEGY_COLORS["isolated"], styles.ISOLATED_OUTLINE, fill_alpha=0.55,
                                     outline_width_mm=px_to_mm(2.0), outline_style="dash")))
    return categorized_renderer(expression, cats)


def _plain_symbol(kind: str | None):
    if kind == "point":
        return marker_symbol(styles.CATEGORICAL[4], 2.0, outline="#ffffff", outline_width_mm=0.2)
    if kind == "line":
        return line_symbol(styles.CATEGORICAL[4], px_to_mm(styles.LINE_WIDTHS[0]))
    return fill_symbol(styles.CATEGORICAL[1], styles.ZONE_OUTLINE, fill_alpha=FILL_ALPHA,
                       outline_width_mm=px_to_mm(1.0))


def _strength_index_width(strength: pd.Series) -> str:
    """QGIS expression: line width (mm) of a recommended pair by its strength index class,
    the web map's weak / medium / strong widths (:data:`geo.styles.STRENGTH_WIDTHS`)."""
    s = pd.to_numeric(strength, errors="coerce").to_numpy(float)
    logs = np.log(s[np.isfinite(s) & (s > 0)])
    w = [px_to_mm(v) for v in styles.STRENGTH_WIDTHS]
    if not logs.size or logs.max() - logs.min() <= 0:
        # every pair equally strong: index 100 (strong), as geo.styles.strength_index
        return f'CASE WHEN "strength" > 0 THEN {w[2]!r} ELSE {w[0]!r} END'
    lo, span = float(logs.min()), float(logs.max() - logs.min())
    index = f'round(100 * (ln("strength") - {lo!r}) / {span!r})'
    return (f'CASE WHEN "strength" > 0 THEN (CASE WHEN {index} >= 67 THEN {w[2]!r} '
            f'WHEN {index} >= 34 THEN {w[1]!r} ELSE {w[0]!r} END) ELSE {w[0]!r} END')


def _pair_styles(frame: pd.DataFrame, style, language: str) -> list[LayerStyle]:
    """Collaboration pairs as on the web map: recommended pairs coloured by pair type,
    as wide as their strength index class; the other candidate pairs thin and dashed, drawn
    below. Two styles: ``pair_type`` (default, categorized, width data-defined) and
    ``strength`` (graduated widths by quantile class, colour data-defined)."""
    recommended = frame["recommended"] if "recommended" in frame else pd.Series(True, frame.index)
    recommended = recommended.astype("boolean").fillna(False).astype(bool)
    values = frame.loc[recommended, "strength"] if recommended.any() else frame["strength"]
    breaks = styles.graduated_breaks(finite(values), k=len(styles.LINE_WIDTHS))
    edges = _edges(frame["strength"], breaks)
    widths_mm = [px_to_mm(w) for w in styles.LINE_WIDTHS]
    other_mm = px_to_mm(1.0)      # the other candidate pairs: 1 px on the web map
    has_flag = "recommended" in frame
    color_expr = (_case_color("pair_type", styles.PAIR_TYPE_COLORS, styles.PAIR_TYPE_COLORS["peer"])
                  if "pair_type" in frame else None)
    dash_expr = "CASE WHEN \"recommended\" THEN 'solid' ELSE 'dash' END" if has_flag else None

    def width_for(i: int) -> float:
        return widths_mm[min(i, len(widths_mm) - 1)]

    ranges = []
    for i, ((lo, hi), text) in enumerate(zip(pairwise(edges), _range_labels(edges))):
        width_expr = f'CASE WHEN "recommended" THEN {width_for(i)!r} ELSE {other_mm!r} END' if has_flag else None
        ranges.append(Range(lo, hi, text, line_symbol(
            styles.PAIR_TYPE_COLORS["peer"], width_for(i), color_expression=color_expr,
            width_expression=width_expr, style_expression=dash_expr, alpha=0.9)))
    # the recommended pairs drawn over the other candidates, as on the web map
    ordered = (lambda r: order_by(r, '"recommended"')) if has_flag else (lambda r: r)
    out = [style("strength", ordered(graduated_renderer("strength", ranges, method="GraduatedSize")))]
    if "pair_type" in frame:
        # the web map's default: colour by pair type, width by the 0-100 strength index
        # (log position among all candidate pairs): weak / medium / strong
        width_expr = _strength_index_width(frame["strength"])
        if has_flag:
            width_expr = f'CASE WHEN "recommended" THEN {width_expr} ELSE {other_mm!r} END'
        cats = [Category(key, label(key, language),
                         line_symbol(color, px_to_mm(styles.STRENGTH_WIDTHS[1]), width_expression=width_expr,
                                     style_expression=dash_expr, alpha=0.9))
                for key, color in styles.PAIR_TYPE_COLORS.items()]
        out.insert(0, style("pair_type", ordered(categorized_renderer("pair_type", cats))))
    return out
