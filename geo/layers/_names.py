"""Chain names as one vocabulary across the zones and innovation-district layers.

Chain names are matched by equality (zones of one chain, the innovation districts that
list it), so spellings that a reader takes for the same name must be the same string:

* Unicode NFKC: full-width ``ＡＩ`` -> ``AI``, ideographic and no-break spaces -> space;
* runs of whitespace collapsed to one space, none between two Chinese characters
  (``文化 创意`` -> ``文化创意``; surrounding ones and invisible characters
  are already gone, see :func:`geo.layers._values._to_text`);
* spellings that differ only by upper/lower case, or by traditional and simplified
  characters (``生物醫藥`` / ``生物医药``, compared through OpenCC's ``t2s`` conversion),
  become the most frequent spelling (counted over zones and innovation-district mentions
  together; on a tie the first met; the firms follow that spelling and decide only for a
  chain no zone or innovation district names). A study written in traditional characters
  throughout keeps them.
* ``t2s`` is many-to-one (``乾`` and ``幹`` both become ``干``): spellings are merged only
  when they are consistent, i.e. wherever two of them differ one has the simplified
  character (``生物醫藥`` / ``生物醫药`` / ``生物医药``). Two distinct traditional
  characters at one place (``乾燥`` / ``幹燥``) are two names: every spelling of that
  simplified name stays a chain of its own, and a warning names them
  (:func:`_consistent_keys`).

Every change is one counted warning listing the merged variants.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pandas as pd

from geo.layers._report import _Layer, _Report
from geo.layers._values import _CHAIN_SEP

_SPACES = re.compile(r"\s+")
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")


def _nfkc(values: pd.Series) -> pd.Series:
    """NFKC, runs of spaces as one, stripped, no space between two CJK characters; worked
    out once per distinct text (a chain name repeats across thousands of firms)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    out = pd.Series(uniques).str.normalize("NFKC").str.replace(_SPACES, " ", regex=True).str.strip()
    out = out.str.replace(_CJK_GAP, "", regex=True)
    return pd.Series(out.array.take(codes, allow_fill=True), index=values.index)


def _simplified(keys: pd.Series) -> pd.Series:
    """``keys`` with traditional characters as simplified ones (OpenCC ``t2s``), worked out
    once per distinct text; text without Chinese characters as it is."""
    import opencc

    convert = opencc.OpenCC("t2s").convert
    codes, uniques = pd.factorize(keys, use_na_sentinel=True)
    out = [convert(u) if re.search(r"[\u3400-\u9fff]", u) else u for u in uniques]
    return pd.Series(pd.array(out, dtype=object).take(codes, allow_fill=True), index=keys.index)


def _consistent(a: str, b: str, simplified: str) -> bool:
    """Whether two spellings with one ``t2s`` form (``simplified``) can be the same name:
    one is that simplified form, or wherever they differ one has its simplified character
    (not two distinct traditional characters, as ``乾`` / ``幹`` for ``干``)."""
    if simplified in (a, b):
        return True
    if not len(a) == len(b) == len(simplified):
        return False
    return all(x == y or simplified[i] in (x, y) for i, (x, y) in enumerate(zip(a, b)))


def _consistent_keys(forms: pd.Series, keys: pd.Series) -> tuple[pd.Series, list[tuple[str, list[str], str, str]]]:
    """``keys`` (t2s of ``forms``) with the keys of inconsistent spellings split: each of
    their forms its own key. Also, per key split, ``(key, its forms, a, b)`` with ``a`` /
    ``b`` two forms that cannot be one name."""
    pairs = pd.DataFrame({"form": forms.to_numpy(), "key": keys.to_numpy()}).drop_duplicates()
    split: list[tuple[str, list[str], str, str]] = []
    for key, group in pairs.groupby("key", sort=False)["form"]:
        names = list(group)
        clash = next(((a, b) for i, a in enumerate(names) for b in names[i + 1:] if not _consistent(a, b, key)),
                     None)
        if clash is not None:
            split.append((key, names, *clash))
    if not split:
        return keys, []
    apart = keys.isin([key for key, *_ in split]).to_numpy()
    keys = keys.copy()
    keys[apart] = "\x00" + forms[apart]      # a key no t2s form can be
    return keys, split


def _shown(name: str) -> str:
    """A name with characters that do not show (other spaces, full width) made visible."""
    return "".join(ch if ch == " " or (ch.isprintable() and not ch.isspace()) else
                   f"\\u{ord(ch):04x}" for ch in name)


def _where(values: set[str], single: dict[str, _Layer], innov: _Layer | None,
           lists: pd.Series | None) -> list[str]:
    """``zones rows Z1, Z4``: where chain names in ``values`` are used, per layer."""
    out = [f"{name} {layer.rows_text(layer.frame['chain'].isin(list(values)).to_numpy())}"
           for name, layer in single.items() if layer.frame["chain"].isin(list(values)).any()]
    if lists is not None and innov is not None:
        rows = lists[lists.isin(list(values))].index.unique()
        if len(rows):
            mask = np.zeros(len(innov.frame), bool)
            mask[innov.frame.index.get_indexer(rows)] = True
            out.append(f"innovation_districts {innov.rows_text(mask)}")
    return out


def _unify_chains(layers: dict[str, _Layer], report: _Report) -> None:
    """Normalise ``zones.chain``, ``firms.chain`` and ``innovation_districts.chains`` in place
    (see module doc): one spelling of each chain across every layer that names chains."""
    single = {name: layers[name] for name in ("zones", "firms")
              if layers.get(name) is not None and "chain" in layers[name].frame}
    innov = layers.get("innovation_districts")
    parts: dict[str, pd.Series] = {name: layer.frame["chain"].dropna() for name, layer in single.items()}
    lists = None
    if innov is not None and "chains" in innov.frame:
        chains = innov.frame["chains"].dropna()
        lists = chains.str.split(_CHAIN_SEP).explode().str.strip()
        lists = lists[lists.ne("")]
        parts["innovation_districts"] = lists
    if not parts:
        return
    raw = pd.concat(list(parts.values()), ignore_index=True).astype("str")
    if raw.empty:
        return
    # the zones and the innovation districts set the spelling; the firms (often thousands of
    # rows) follow it, and decide only for a chain no zone or innovation district names
    sets = np.concatenate([np.full(len(part), name != "firms") for name, part in parts.items()])
    norm = _nfkc(raw)
    form = norm.str.casefold()
    key, apart = _consistent_keys(form, _simplified(form))
    uses = Counter(form.to_numpy())
    for simple, names, a, b in apart:
        shown = ", ".join(f"'{_shown(n)}' ({uses[n]})" for n in sorted(names, key=lambda n: -uses[n]))
        found = _where(set(raw[form.isin(names)]), single, innov, lists)
        report.warn(f"chain names: {shown} all simplify to '{_shown(simple)}' (OpenCC t2s), but '{_shown(a)}' "
                    f"and '{_shown(b)}' differ by two different traditional characters that share one "
                    "simplified form, so they may be different chains: every one of these spellings was "
                    "kept as a chain of its own; if some are one chain, spell it alike in every layer "
                    f"(in {'; '.join(found)})")
    # the most frequent normalised spelling of each key (case, traditional/simplified); ties: first met
    counts = pd.DataFrame({"key": key.to_numpy(), "norm": norm.to_numpy(), "sets": sets,
                           "order": np.arange(len(norm))})
    best = (counts.groupby(["key", "norm"], sort=False)
            .agg(n_sets=("sets", "sum"), n=("order", "size"), first=("order", "min")).reset_index()
            .sort_values(["key", "n_sets", "n", "first"], ascending=[True, False, False, True])
            .drop_duplicates("key").set_index("key")["norm"])
    canon = dict(zip(raw.to_numpy(), key.map(best).to_numpy()))
    changed = {r: c for r, c in canon.items() if r != c}
    if not changed:
        return

    uses = Counter(raw.to_numpy())
    merged: dict[str, list[str]] = {}
    for r, c in changed.items():
        merged.setdefault(c, []).append(r)
    shown = []
    for c, variants in list(merged.items())[:8]:
        vs = ", ".join(f"'{_shown(v)}' ({uses[v]})" for v in sorted(variants, key=lambda v: -uses[v]))
        shown.append(f"{vs} -> '{c}'")
    more = f" (+{len(merged) - 8} more names)" if len(merged) > 8 else ""
    total = sum(uses[v] for v in changed)

    where = []
    for name, layer in single.items():
        chain = layer.frame["chain"]
        hit = chain.isin(list(changed)).to_numpy()
        if hit.any():
            layer.frame["chain"] = chain.map(lambda v: changed.get(v, v) if isinstance(v, str) else v).astype("str")
            where.append(f"{name} {layer.rows_text(hit)}")
    if lists is not None:
        hit_rows = lists[lists.isin(list(changed))].index.unique()
        if len(hit_rows):
            col = innov.frame["chains"]
            new = col.copy()
            for i in hit_rows:   # only the innovation districts touched: a handful of rows
                names = [p.strip() for p in _CHAIN_SEP.split(col[i]) if p.strip()]
                new[i] = ";".join(dict.fromkeys(changed.get(n, n) for n in names))
            innov.frame["chains"] = new.astype("str")
            mask = np.zeros(len(col), bool)
            mask[col.index.get_indexer(hit_rows)] = True
            where.append(f"innovation_districts {innov.rows_text(mask)}")
    report.warn(f"chain names: {total} values that differ only by upper/lower case, full/half "
                f"width, spaces or traditional/simplified characters were merged: {'; '.join(shown)}{more} "
                f"(in {'; '.join(where)})")


#: what else people put between chain names (the separators are ; ； 、): commas (warned about
#: when the layer is read), slashes, bars, plus signs, ampersands, spaces
_OTHER_SEP = re.compile(r"[\s/／|｜+＋&＆]+")


def _split_known(text: str, known: set[str]) -> list[str] | None:
    """``text`` as two or more names of ``known`` one after the other, or None."""
    ends: dict[int, list[str]] = {0: []}
    for i in range(len(text)):
        if i in ends:
            for name in known:
                if text.startswith(name, i) and i + len(name) not in ends:
                    ends[i + len(name)] = [*ends[i], name]
    found = ends.get(len(text))
    return found if found is not None and len(found) >= 2 else None


def _warn_glued_chains(layers: dict[str, _Layer], report: _Report) -> None:
    """An innovation district's chain that no zone has but that reads as zone chains written
    without ';' between them (``电子信息/轨道交通``, ``电子信息 轨道交通``): one warning, since
    as written it is one chain of its own and the district serves neither of the two."""
    zones, innov = layers.get("zones"), layers.get("innovation_districts")
    if zones is None or innov is None or "chains" not in innov.frame or "chain" not in zones.frame:
        return
    known = set(zones.frame["chain"].dropna())
    glued: dict[str, list[str]] = {}
    rows = np.zeros(len(innov.frame), bool)
    for i, value in enumerate(innov.frame["chains"]):
        for name in ([] if not isinstance(value, str) else [p.strip() for p in _CHAIN_SEP.split(value)]):
            if name in known or not name or "," in name or "，" in name:
                continue
            parts = _split_known(_OTHER_SEP.sub("", name), {_OTHER_SEP.sub("", k) for k in known})
            if parts is not None:
                glued[name] = parts
                rows[i] = True
    if glued:
        shown = "; ".join(f"'{_shown(g)}' reads as {', '.join(repr(p) for p in parts)}"
                          for g, parts in list(glued.items())[:5])
        report.warn(f"{innov.ctx.at('chains', innov.source.aliases.get('chains'))} chains that no zone has "
                    f"but that read as zone chains without ';' between them ({shown}; "
                    f"{innov.rows_text(rows)}): separate chains with ';', '；' or '、'; as written each is "
                    "one chain of its own, which no zone shares")
