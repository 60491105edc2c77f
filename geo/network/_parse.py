"""Road classes, speeds and one-way values of a roads layer (DESIGN.md "Roads and travel time").

Pure parsing: a roads frame in, one speed (km/h) and one direction code per road out.
Direction codes: ``1`` = digitised direction only, ``-1`` = against it, ``0`` = both ways.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from geo._errors import InputError, format_rows
from geo.schema import CLASS_ALIASES, road_class_name
from geo.schema import DEFAULT_CLASS_SPEEDS_KMH as _SCHEMA_SPEEDS

#: Default speeds (km/h) per canonical class, as in DESIGN.md's ``network.class_speeds_kmh``.
DEFAULT_CLASS_SPEEDS_KMH: dict[str, float] = dict(_SCHEMA_SPEEDS)

#: a unit written after a speed (after NFKC: full-width digits and letters are plain)
_SPEED_UNIT = r"\s*(km/hr?|kmh|kph|公里/小?时|千米/小?时|公里每小时|千米每小时)$"

_FORWARD = {"yes", "true", "1", "ft", "t"}
_BACKWARD = {"tf", "-1"}
_BOTH = {"no", "false", "0", "b", ""}
ONEWAY_HELP = "yes|true|1|FT|T (digitised direction only), TF|-1 (against it), no|false|0|B or empty (both ways)"


def _norm_text(value: object) -> str | None:
    """A cell as stripped text; None for missing values (None, NaN, pd.NA)."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return str(value).strip()


def canonical_class(value: object, class_speeds_kmh: Mapping[str, float]) -> str | None:
    """The class name a road's ``class`` value stands for, None when missing/unknown.

    English names are matched case-insensitively; Chinese names map to their English
    class; any key of ``class_speeds_kmh`` (e.g. a user-defined ``busway``) is known too.
    """
    text = _norm_text(value)
    if text is None or text == "":
        return None
    return road_class_name(text, class_speeds_kmh)


def parse_oneway(values: pd.Series, *, source: str = "roads", field: str = "oneway") -> np.ndarray:
    """Direction code per road: 1 forward only, -1 backward only, 0 both ways.

    Raises
    ------
    InputError
        On any value outside DESIGN.md's list (case-insensitive), naming the rows.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    per_unique = np.zeros(len(uniques) + 1, dtype=np.int8)   # last slot: missing -> both
    bad: dict[str, list[object]] = {}
    for k, value in enumerate(uniques):          # distinct values only, not roads
        text = _norm_text(value)
        low = "" if text is None else text.lower()
        if low in _FORWARD:
            per_unique[k] = 1
        elif low in _BACKWARD:
            per_unique[k] = -1
        elif low not in _BOTH:
            bad[str(text)] = list(values.index[codes == k])
    out = per_unique[codes]
    if bad:
        lows = {"" if _norm_text(v) is None else _norm_text(v).lower() for v in uniques}
        # Geofabrik's OpenStreetMap shapefiles: F forward, T backward (!), B both. T here
        # means the digitised direction, so recoding only F would reverse their T roads
        geofabrik = ("; these look like Geofabrik's codes (F forward, T backward, B both): recode F as FT "
                     "and T as TF, both at once" if lows <= {"f", "t", "b", ""} and "f" in lows else "")
        raise InputError([
            f"{source}: field '{field}': unknown one-way value {text!r} in {format_rows(rows)}; "
            f"use {ONEWAY_HELP}{geofabrik}"
            for text, rows in bad.items()
        ])
    return out


def road_speeds_kmh(roads: pd.DataFrame, *, class_speeds_kmh: Mapping[str, float],
                    default_speed_kmh: float, source: str = "roads") -> tuple[np.ndarray, np.ndarray]:
    """Speed (km/h) and canonical class (object array, None when absent) of every road.

    A road's own ``speed_kmh`` wins; else its class's speed; else ``default_speed_kmh``
    when it has no class. An unknown class, or a speed that is not a positive number,
    is an error naming the rows.
    """
    n = len(roads)
    problems: list[str] = []
    classes = np.full(n, None, dtype=object)
    speeds = np.full(n, float(default_speed_kmh))
    if "class" in roads.columns:
        codes, uniques = pd.factorize(roads["class"], use_na_sentinel=True)
        cls_u = np.full(len(uniques) + 1, None, dtype=object)
        spd_u = np.full(len(uniques) + 1, float(default_speed_kmh))
        unknown: dict[str, list[object]] = {}
        for k, value in enumerate(uniques):      # distinct values only, not roads
            text = _norm_text(value)
            if text is None or text == "":
                continue
            key = canonical_class(value, class_speeds_kmh)
            if key is None or key not in class_speeds_kmh:
                unknown[text] = list(roads.index[codes == k])
                continue
            cls_u[k] = key
            spd_u[k] = float(class_speeds_kmh[key])
        classes = cls_u[codes]
        speeds = spd_u[codes].copy()
        known = ", ".join(sorted(set(class_speeds_kmh) | set(CLASS_ALIASES)))
        for text, rows in unknown.items():
            problems.append(
                f"{source}: field 'class': unknown road class {text!r} in {format_rows(rows)}; "
                f"known classes: {known}; add it with a speed under network.class_speeds_kmh")
    if "speed_kmh" in roads.columns:
        given = roads["speed_kmh"]
        if pd.api.types.is_numeric_dtype(given.dtype):
            numeric = given.to_numpy(dtype=float, na_value=np.nan)
        else:   # text: "６０", "60 km/h", "60公里/小时" read as 60
            text = (given.astype("string").str.normalize("NFKC").str.strip()
                    .str.replace(_SPEED_UNIT, "", regex=True, case=False))
            numeric = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        missing = given.isna().to_numpy()
        not_number = ~missing & ~np.isfinite(numeric)
        not_positive = ~missing & np.isfinite(numeric) & (numeric <= 0)
        if not_number.any():
            shown = ", ".join(repr(v) for v in list(dict.fromkeys(given[not_number].astype(str)))[:5])
            problems.append(f"{source}: field 'speed_kmh': not a number ({shown}) in "
                            f"{format_rows(roads.index[not_number])}; give km/h as a positive number "
                            "(a unit km/h, 公里/小时 or 千米/时 after it is read)")
        if not_positive.any():
            problems.append(f"{source}: field 'speed_kmh': speed ≤ 0 in "
                            f"{format_rows(roads.index[not_positive])}; give km/h as a positive number")
        use = ~missing & np.isfinite(numeric) & (numeric > 0)
        speeds[use] = numeric[use]
    if not (np.isfinite(default_speed_kmh) and default_speed_kmh > 0):
        problems.append(f"network.default_speed_kmh: {default_speed_kmh!r} is not a positive speed (km/h)")
    bad_cls = [k for k, v in class_speeds_kmh.items() if not (np.isfinite(float(v)) and float(v) > 0)]
    if bad_cls:
        problems.append(f"network.class_speeds_kmh: speeds of {', '.join(map(str, bad_cls))} are not positive (km/h)")
    if problems:
        raise InputError(problems)
    return speeds, classes
