"""Industry chains and chain-leader firms (强链补链): completeness, the gap list (补链清单),
specialisation and the reach of chain-leader firms (链主企业).

Definitions (DESIGN.md, "Industry chains and chain-leader firms"):

* A role (rd, manufacturing, terminal, supporting) is **present** in a chain when a zone
  or a firm of the chain has it; ``mixed`` is present in no specific role
  (:func:`chain_roles`).
* **Within reach**: straight-line distance ``<= chains.reach_m`` (boundary to boundary
  for zones, 0 inside; points for firms), through one :class:`Reach` object; with
  ``layers.roads`` travel time ``<= chains.reach_min`` instead (:class:`NetworkReach`: the
  faster direction of DESIGN.md's travel time between two workplaces, a firm joining the
  network at its nearest node like a home).
* :func:`chain_completeness`: role coverage, spatial completeness, leader coverage and
  their geometric mean.
* :func:`chain_gaps`: missing and distant roles, with up to 3 candidate zones nearest the
  chain's highest-scoring zone (score as in core–periphery:
  :func:`geo.analysis.core_periphery.strength_score` with ``core_periphery.weights``).
* :func:`chain_lq`: location quotient per district × chain from zone jobs, and the
  Krugman specialisation index per district (plain numpy: PySAL has no such index).
* :func:`leader_firms`: same-chain firms, their jobs and zones within reach of each leader.

Modules
-------
``_reach``   the :class:`Reach` object (which features lie within reach of which)
``_tables``  the tables
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from geo._errors import CRSError
from geo._types import AnalysisResult, Study
from geo.analysis.chains._reach import NetworkReach, Reach, reach_from_settings
from geo.analysis.chains._tables import (
    CHAIN_ROLES,
    MAX_CANDIDATES,
    chain_completeness,
    chain_gaps,
    chain_lq,
    chain_roles,
    chain_zones,
    leader_firms,
    ranked_chains,
)
from geo.analysis.core_periphery import strength_score

__all__ = ["CHAIN_ROLES", "MAX_CANDIDATES", "NetworkReach", "Reach", "chain_completeness", "chain_gaps", "chain_lq",
           "chain_roles", "initial_chain", "leader_firms", "opening_chain", "reach_from_settings", "run"]

log = logging.getLogger(__name__)

NAME = "chains"


def _mean(values: pd.Series) -> float | None:
    v = pd.to_numeric(values, errors="coerce")
    return None if v.notna().sum() == 0 else round(float(v.mean()), 4)


def initial_chain(comp: pd.DataFrame, gaps: pd.DataFrame) -> str:
    """The chain the web map opens on (and the print figure and the QGIS theme show), from the
    tables ``chain_completeness`` and ``chain_gaps``: the least complete chain with a gap
    candidate (the demo shows a gap), else rank 1; ``""`` without chains."""
    with_cand = set(gaps.loc[gaps["candidates"].notna(), "chain"]) if len(gaps) else set()
    order = comp.sort_values("rank", ascending=False)
    for c in order["chain"]:
        if c in with_cand:
            return str(c)
    return str(comp.sort_values("rank")["chain"].iloc[0]) if len(comp) else ""


def opening_chain(result: AnalysisResult | None) -> str:
    """:func:`initial_chain` of a chains result (``""`` without one)."""
    if result is None or "chain_completeness" not in result.tables:
        return ""
    comp = result.tables["chain_completeness"]
    gaps = result.tables.get("chain_gaps")
    return initial_chain(comp, gaps if gaps is not None else pd.DataFrame(columns=["chain", "candidates"]))


def run(study: Study, settings: Any) -> AnalysisResult:
    """Run the chains analysis.

    Parameters
    ----------
    study : Study
        Validated inputs in a projected metre CRS; ``firms`` optional.
    settings : Settings
        Its ``chains`` (reach), ``core_periphery.weights`` (score of the top zone) and
        ``study.language`` (gap reasons) are used.

    Returns
    -------
    AnalysisResult
        ``tables``: ``chain_zones`` (polygons), ``chain_roles``, ``chain_completeness``, ``chain_gaps``,
        ``chain_gap_candidates`` (polygons), ``chain_lq``, ``chain_specialisation`` and,
        with firms, ``leader_firms`` (points).
    """
    zones = study.zones
    if zones.crs is None or not zones.crs.is_projected:
        raise CRSError(f"chains: zones must be in a projected CRS in metres (got {zones.crs})")
    reach = reach_from_settings(settings, getattr(study, "network", None))
    language = getattr(getattr(settings, "study", None), "language", "zh")
    weights = settings.core_periphery.weights
    firms = study.firms
    score, _used, _dropped = strength_score(zones, weights)
    warnings: list[str] = []

    if reach.kind == "network" and firms is not None and len(firms):
        # leaders against zones (leader coverage, zones_within) and firms (firms_within): one set of searches
        lead = firms[firms["tier"] == "leader"]
        names = pd.factorize(pd.concat([lead["chain"], zones["chain"], firms["chain"]]).astype(str))[0]
        nl, nz = len(lead), len(zones)
        reach.prefetch(lead.geometry.values.to_numpy(), [zones.geometry.values.to_numpy(),
                                                         firms.geometry.values.to_numpy()],
                       names[:nl], [names[nl:nl + nz], names[nl + nz:]])
    roles = chain_roles(zones, firms)
    detail: dict = {}
    completeness = chain_completeness(zones, firms, roles, reach, score=score, zone_detail=detail)
    gaps, candidates = chain_gaps(zones, firms, study.innovation_districts, roles, reach, score=score,
                                  language=language)
    lq, spec = chain_lq(zones)
    tables: dict[str, pd.DataFrame] = {
        "chain_zones": chain_zones(zones, detail),
        "chain_roles": roles, "chain_completeness": completeness, "chain_gaps": gaps,
        "chain_gap_candidates": candidates, "chain_lq": lq, "chain_specialisation": spec,
    }
    if firms is not None:
        lf = leader_firms(firms, zones, reach)
        tables["leader_firms"] = lf
        if len(lf) == 0:
            warnings.append("chains: the firms layer has no leader firms (tier 'leader' / 链主); "
                            "leader_coverage is 0 and leader_firms is empty")
    summary: dict[str, Any] = {
        "reach_kind": reach.kind, "reach_m": reach.reach_m,
        "reach_min": reach.reach_min if reach.kind == "network" else None,
        "chains": len(completeness),
        "firms": None if firms is None else len(firms),
        "leader_firms_n": None if firms is None else int((firms["tier"] == "leader").sum()),
        "mean_completeness": _mean(completeness["completeness"]),
        "complete_chains": int((completeness["roles_missing"].isna()).sum()),
        "gaps_missing": int((gaps["kind"] == "missing").sum()),
        "gaps_distant": int((gaps["kind"] == "distant").sum()),
        "ranking": ranked_chains(completeness),
    }
    if firms is not None and len(tables["leader_firms"]):
        lf = tables["leader_firms"]
        summary["mean_firms_within_per_leader"] = round(float(lf["firms_within"].mean()), 2)
        within = lf["firms_within"].sum()
        summary["share_within_other_district"] = (round(float(lf["firms_other_district"].sum() / within), 4)
                                                  if within else None)
    log.info("chains: %d chains, %d gaps", len(completeness), len(gaps))
    return AnalysisResult(name=NAME, tables=tables, summary=summary, warnings=warnings)
