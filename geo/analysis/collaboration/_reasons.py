"""Pair types (main site + partner, R&D + manufacturing, terminal + supporting, peer)
and the one-line reason of each pair in the study language."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from geo.i18n import label
from geo.schema import ROLES


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if len(text) > 1 and not text[1].isupper() and text[1] != "&" else text


def _lookup(values: Any, mapping: dict[str, Any]) -> np.ndarray:
    """``mapping[v]`` for each value (None when missing or unmapped), as an object array.

    Factorizes first, so the dict is consulted once per distinct value.
    """
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    table = np.array([mapping.get(u) if isinstance(u, str) else None for u in uniques] + [None], dtype=object)
    return table[codes]


def _is(values: Any, key: str) -> np.ndarray:
    return _lookup(values, {key: True}).astype(bool)


def classify_pairs(
    role_a: Any,
    role_b: Any,
    *,
    position_a: Any = None,
    position_b: Any = None,
) -> np.ndarray:
    """Pair type of each pair, by precedence.

    1. ``main_partner``: one zone is ``core`` and the other ``periphery`` (``position_*``
       from the core–periphery analysis; skipped when None);
    2. ``rd_manufacturing``: zone roles are {rd, manufacturing};
    3. ``terminal_supporting``: zone roles are {terminal, supporting};
    4. ``peer``: anything else (same role, ``mixed``, missing roles, two cores, ...).

    Parameters
    ----------
    role_a, role_b : array-like of str
        Zone roles (``rd``, ``manufacturing``, ``terminal``, ``supporting``, ``mixed``
        or missing).
    position_a, position_b : array-like of str, optional
        ``core`` / ``periphery`` / missing.

    Returns
    -------
    ndarray of str (object)
    """
    a = {k: _is(role_a, k) for k in ("rd", "manufacturing", "terminal", "supporting")}
    b = {k: _is(role_b, k) for k in ("rd", "manufacturing", "terminal", "supporting")}
    out = np.full(len(a["rd"]), "peer", dtype=object)
    out[(a["terminal"] & b["supporting"]) | (a["supporting"] & b["terminal"])] = "terminal_supporting"
    out[(a["rd"] & b["manufacturing"]) | (a["manufacturing"] & b["rd"])] = "rd_manufacturing"
    if position_a is not None and position_b is not None:
        core_a, core_b = _is(position_a, "core"), _is(position_b, "core")
        per_a, per_b = _is(position_a, "periphery"), _is(position_b, "periphery")
        out[(core_a & per_b) | (per_a & core_b)] = "main_partner"
    return out


def _chain_phrase(chain: str, language: str) -> str:
    if language == "zh":
        return chain if chain.endswith("链") else f"{chain}产业链"
    return chain if chain.lower().endswith("chain") else f"{chain} chain"


_ZH_TYPE = {
    "main_partner": "主承载 + 协同地",
    "rd_manufacturing": "研发 + 制造协同",
    "terminal_supporting": "终端 + 配套协同",
    "peer": "同链协作",
}


def _combine(*codes: np.ndarray) -> np.ndarray:
    """One dense integer code per distinct combination of the given code arrays."""
    key = np.zeros(len(codes[0]), dtype=np.int64)
    for c in codes:
        c = np.asarray(c, dtype=np.int64) + 1  # factorize gives -1 for missing
        key = np.unique(key * (int(c.max(initial=0)) + 1) + c, return_inverse=True)[1].astype(np.int64)
    return key


def _representatives(key: np.ndarray) -> np.ndarray:
    """A row position for each code of ``key`` (codes 0..K-1)."""
    rep = np.zeros(int(key.max(initial=-1)) + 1, dtype=np.int64)
    rep[key] = np.arange(len(key))
    return rep


def _reasons(
    chain: np.ndarray, name_a: np.ndarray, name_b: np.ndarray, role_a: np.ndarray, role_b: np.ndarray,
    pos_a: np.ndarray | None, pos_b: np.ndarray | None, ptype: np.ndarray, distance_m: np.ndarray,
    language: str,
) -> np.ndarray:
    """Array core of :func:`pair_reasons` (object arrays in, object array of str out).

    A sentence is prefix (chain, both sides) + distance text + pair-type text. Each
    part is built once per distinct value and the sentences once per distinct
    combination, then gathered: many pairs share one string object, which keeps
    memory and time low for hundreds of thousands of pairs.
    """
    n = len(ptype)
    if n == 0:
        return np.zeros(0, dtype=object)
    none = np.full(n, None, dtype=object)
    pos_a = none if pos_a is None else np.asarray(pos_a, dtype=object)
    pos_b = none if pos_b is None else np.asarray(pos_b, dtype=object)
    ptype = np.asarray(ptype, dtype=object)
    main = _is(ptype, "main_partner")
    # terms in the study language, lower-cased inside an English sentence
    terms = {k: label(k, language) if language == "zh" else _lower_first(label(k, language))
             for k in (*ROLES, "core", "periphery")}
    if language != "zh":
        terms["core"], terms["periphery"] = "core", "periphery"
    word_a = _lookup(np.where(main, pos_a, role_a), terms)
    word_b = _lookup(np.where(main, pos_b, role_b), terms)
    name_a = np.asarray(name_a, dtype=object)
    name_b = np.asarray(name_b, dtype=object)
    # the leading side (R&D, terminal, core) first
    lead_b = (
        (_is(ptype, "rd_manufacturing") & _is(role_b, "rd"))
        | (_is(ptype, "terminal_supporting") & _is(role_b, "terminal"))
        | (main & _is(pos_b, "core"))
    )
    first_name, second_name = np.where(lead_b, name_b, name_a), np.where(lead_b, name_a, name_b)
    first_word, second_word = np.where(lead_b, word_b, word_a), np.where(lead_b, word_a, word_b)
    chain = np.asarray(chain, dtype=object)

    # 1. prefix: chain and both sides, once per distinct combination
    parts = (chain, first_name, first_word, second_name, second_word)
    prefix_key = _combine(*(pd.factorize(v)[0] for v in parts))
    rep = _representatives(prefix_key)
    c, fn, fw, sn, sw = (v[rep] for v in parts)
    chain_text = _lookup(c, {x: _chain_phrase(x, language) for x in pd.unique(c) if isinstance(x, str)})

    def side(name: np.ndarray, word: np.ndarray) -> np.ndarray:
        known = pd.notna(word)
        out = name.copy() if language == "zh" else "a zone in " + name
        if known.any():
            if language == "zh":
                out[known] = name[known] + "“" + word[known] + "”"
            else:
                out[known] = word[known] + " in " + name[known]
        return out

    if language == "zh":
        prefix = chain_text + "：" + side(fn, fw) + "与" + side(sn, sw)
    else:
        prefix = chain_text + ": " + side(fn, fw) + " and " + side(sn, sw) + ", "

    # 2. distance text, once per distinct rounded distance (0.1 km; 0.01 km below 0.1 km)
    km = np.asarray(distance_m, dtype=float) / 1000.0
    tenths = np.rint(km * 10)
    hundredths = np.rint(km * 100)
    dist_key = np.where(km <= 0.0, -1.0, np.where(tenths >= 1, tenths * 10, hundredths))
    dist_values, dist_code = np.unique(dist_key, return_inverse=True)
    texts = []
    for v in dist_values:  # distinct distances only (a few hundred)
        if v < 0:
            texts.append("毗邻" if language == "zh" else "adjacent")
        else:
            km_text = f"{v / 100:.1f}" if v >= 10 else f"{v / 100:.2f}"
            texts.append(f"相距 {km_text} 公里" if language == "zh" else f"{km_text} km apart")
    dist_text = np.array(texts, dtype=object)

    # 3. pair-type text
    type_code, type_values = pd.factorize(ptype)
    if language == "zh":
        kind = np.array(["，" + _ZH_TYPE.get(t, t) for t in type_values], dtype=object)
    else:
        kind = np.array([f" ({_lower_first(label(t, language))})" for t in type_values], dtype=object)

    # 4. sentences, once per distinct (prefix, distance, type)
    key = _combine(prefix_key, dist_code, type_code)
    rep = _representatives(key)
    sentences = prefix[prefix_key[rep]] + dist_text[dist_code[rep]]
    np.add(sentences, kind[type_code[rep]], out=sentences)  # in place: one temporary string at a time
    return sentences[key]


def pair_reasons(pairs: pd.DataFrame, *, language: str = "zh") -> pd.Series:
    """One sentence per pair saying why the two zones should collaborate.

    Parameters
    ----------
    pairs : DataFrame
        Columns ``chain``, ``district_name_a``, ``district_name_b``, ``role_a``,
        ``role_b``, ``pair_type``, ``distance_m`` and, for main-partner pairs,
        ``position_a`` / ``position_b`` (``core`` / ``periphery``).
    language : {'zh', 'en'}

    Returns
    -------
    Series of str on ``pairs``' index. The leading side (R&D, terminal or core) is
    named first; main-partner pairs name core/periphery, other pairs the zone roles
    (omitted when unknown). Distance in km with one decimal (two below 0.1 km);
    touching zones are "adjacent" (毗邻).

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"chain": ["电子信息"], "district_name_a": ["双流区"],
    ...     "district_name_b": ["高新区"], "role_a": ["manufacturing"], "role_b": ["rd"],
    ...     "pair_type": ["rd_manufacturing"], "distance_m": [3210.0]})
    >>> pair_reasons(p, language="zh").iloc[0]
    '电子信息产业链：高新区“研发”与双流区“制造”相距 3.2 公里，研发 + 制造协同'
    """
    def col(name: str) -> np.ndarray | None:
        if name not in pairs:
            return None
        return pairs[name].astype(object).where(pairs[name].notna(), None).to_numpy(dtype=object)

    n = len(pairs)
    none = np.full(n, None, dtype=object)
    text = _reasons(
        col("chain"), col("district_name_a"), col("district_name_b"),
        col("role_a") if "role_a" in pairs else none, col("role_b") if "role_b" in pairs else none,
        col("position_a"), col("position_b"), col("pair_type"),
        pairs["distance_m"].to_numpy(dtype=float), language,
    )
    return pd.Series(text, index=pairs.index, dtype="str")
