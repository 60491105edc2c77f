"""The Python API for notebooks and scripts (re-exported by :mod:`geo`).

Each function does what the matching part of ``zoneatlas run`` does, so that every table
it returns equals the CLI's ``tables/<name>.csv``.

Examples
--------
>>> import geo
>>> study = geo.load_study("config.yaml", overrides={"balance": {"radius_m": 3000}})  # doctest: +SKIP
>>> bal = geo.balance(study)                                                          # doctest: +SKIP
>>> bal.tables["balance_workplaces"].head()                                           # doctest: +SKIP
>>> bal.explore()   # the folium map of balance.html, for Jupyter                     # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geo._types import AnalysisResult, Study

__all__ = ["Result", "balance", "chains", "collaboration", "core_periphery", "load_study", "run"]


@dataclass
class Result(AnalysisResult):
    """An analysis result of the Python API: :class:`AnalysisResult` plus the study it
    came from, so that :meth:`explore` can draw it.

    ``tables`` maps each output name to a GeoDataFrame (spatial layer) or DataFrame,
    ``summary`` holds the key figures written to run.json, ``warnings`` the messages a
    run would print.
    """

    study: Study | None = field(default=None, repr=False)

    def explore(self):
        """The interactive folium map of this analysis: the same map as ``<name>.html``.

        Returns
        -------
        folium.Map
            Displayed inline by Jupyter; ``.save("x.html")`` writes it.
        """
        from geo.webmap import build_maps

        return build_maps(self.study, {self.name: self}, _settings(self.study))[self.name]


def _settings(study: Study):
    if study.settings is None:
        raise ValueError("this Study has no settings; load it with geo.load_study(config)")
    return study.settings


def load_study(config: str | Path, overrides: dict[str, Any] | None = None) -> Study:
    """Read and validate a config file and every layer it names.

    Parameters
    ----------
    config : str or Path
        ``config.yaml``; relative paths in it resolve against its folder.
    overrides : dict, optional
        Settings to change, nested like the YAML, e.g. ``{"balance": {"radius_m": 3000}}``;
        validated exactly like the file.

    Returns
    -------
    Study
        Layers in the working CRS; ``study.settings`` holds the validated settings.

    Raises
    ------
    geo.ZoneAtlasError
        Bad config or layers (``ConfigError`` / ``InputError``), with the same one-line
        messages ``zoneatlas validate`` prints.
    """
    from geo._deps import check_dependencies
    from geo.layers import load_study as _load
    from geo.settings import load_settings

    check_dependencies()
    settings = load_settings(config, overrides=overrides)
    study = _load(settings)
    study.settings = settings
    return study


def _analyse(study: Study, name: str) -> Result:
    from geo.pipeline import run_analyses

    result = run_analyses(study, _settings(study), [name])[name]
    return Result(name=result.name, tables=result.tables, summary=result.summary,
                  warnings=result.warnings, study=study)


def balance(study: Study) -> Result:
    """Jobs–housing balance of every workplace and district (``balance.html``'s tables)."""
    return _analyse(study, "balance")


def collaboration(study: Study) -> Result:
    """Cross-district collaboration pairs, zones and chains; computes the core–periphery
    roles its pair types need, so the tables equal a full run's."""
    return _analyse(study, "collaboration")


def core_periphery(study: Study) -> Result:
    """Growth poles, Huff attachment of periphery zones and the summary figures."""
    return _analyse(study, "core_periphery")


def chains(study: Study) -> Result:
    """Industry chains: roles present, completeness, the gap list (补链清单), location
    quotients and the reach of chain-leader firms (``chains.html``'s tables)."""
    return _analyse(study, "chains")


def commuting(study: Study) -> Result:
    """Observed commuting (``layers.commuting``): indicators per workplace and district,
    flows between districts, commute sheds and t_obs / t_min / t_max (``commuting.html``'s
    tables).

    Raises
    ------
    geo.ConfigError
        The study has no ``layers.commuting``.
    """
    from geo._errors import ConfigError

    if study.commuting is None:
        raise ConfigError("commuting: layers.commuting is not configured; add the observed home -> work "
                          "flows (docs/input-data.md)")
    return _analyse(study, "commuting")


def run(config: str | Path, output_dir: str | Path | None = None, *,
        only: str | list[str] | None = None, overrides: dict[str, Any] | None = None,
        progress: bool = False):
    """Exactly what ``zoneatlas run`` does: analyse and write every output.

    Parameters
    ----------
    config : str or Path
        ``config.yaml``.
    output_dir : str or Path, optional
        Output folder (default: ``output.dir`` of the config).
    only : str or list of str, optional
        A subset of the analyses (default all).
    overrides : dict, optional
        Settings to change, as for :func:`load_study`.
    progress : bool
        Show a progress bar.

    Returns
    -------
    geo.pipeline.RunReport
        ``output_dir``, the ``manifest`` (run.json) and the analysis ``results``.
    """
    from geo._deps import check_dependencies
    from geo.pipeline import run as _run
    from geo.settings import load_settings

    check_dependencies()
    settings = load_settings(config, overrides=overrides)
    return _run(settings, only=only, output_dir=Path(output_dir) if output_dir else None,
                progress=progress)
