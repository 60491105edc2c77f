"""The fresh-machine contract: declared dependencies, CLI help, installation problems,
``validate`` warnings, partial runs, and the Python API of the README."""

from __future__ import annotations

import ast
import re
import shutil
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT, run_cli

GEO = ROOT / "geo"


def _declared(extra: str | None = None) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower().replace("_", "-") for r in reqs}


def _imported_top_level() -> set[str]:
    """Top-level modules imported anywhere in geo/ (absolute imports, not geo itself)."""
    names = set()
    for path in GEO.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n != "geo" and n not in sys.stdlib_module_names}


def test_every_imported_module_is_a_declared_dependency():
    dists = metadata.packages_distributions()
    declared = _declared()
    undeclared = {}
    for module in _imported_top_level():
        providers = {d.lower().replace("_", "-") for d in dists.get(module, [module])}
        if not providers & declared:
            undeclared[module] = sorted(providers)
    assert not undeclared, f"imported by geo/ but not in pyproject dependencies: {undeclared}"


def test_every_declared_dependency_is_used():
    dists = metadata.packages_distributions()
    provided_by = {}
    for module, names in dists.items():
        for name in names:
            provided_by.setdefault(name.lower().replace("_", "-"), set()).add(module)
    imported = _imported_top_level()
    unused = [d for d in _declared() if not provided_by.get(d, {d}) & imported]
    assert not unused, f"declared in pyproject but never imported by geo/: {unused}"


def test_dependency_table_matches_imports():
    from geo._deps import RUNTIME_MODULES

    assert set(RUNTIME_MODULES) == _imported_top_level()


def test_bare_command_lists_the_commands():
    proc = run_cli()
    assert proc.returncode == 0, proc.stderr
    for command in ("run", "validate", "sample"):
        assert re.search(rf"^\s+{command}\s+\S", proc.stdout, re.M), proc.stdout
    assert "quick start" in proc.stdout


@pytest.mark.parametrize("command", ["run", "validate", "sample"])
def test_subcommand_help_describes_and_shows_defaults(command):
    proc = run_cli(command, "--help")
    assert proc.returncode == 0
    usage, _, rest = proc.stdout.partition("\n\n")
    description = rest.split("\n\n")[0]
    assert len(description.split()) >= 10, f"no description for {command}: {proc.stdout}"
    if command in ("run", "validate"):
        assert "(default: config.yaml)" in proc.stdout
    else:
        assert "(default: city)" in proc.stdout and "(default: 0)" in proc.stdout


def _run_blocked(module: str, *args: str) -> tuple[int, str]:
    """Run the CLI in a fresh interpreter where ``module`` cannot be imported."""
    import subprocess

    code = (f"import sys; sys.modules[{module!r}] = None\n"
            "from geo.cli import main\nsys.exit(main(sys.argv[1:]))")
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    return proc.returncode, proc.stderr


@pytest.mark.parametrize("module, package", [("pyarrow", "pyarrow"), ("yaml", "pyyaml"),
                                             ("xstatic.pkg.leaflet", "xstatic-leaflet")])
def test_missing_package_is_an_installation_problem(small_study, module, package):
    code, stderr = _run_blocked(module, "validate", "-c", str(small_study))
    assert code == 1, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert package in lines[0] and f"pip install {package}" in lines[0]
    assert "Traceback" not in stderr and "read_arrow" not in stderr


def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning: ")]


def test_validate_lists_every_warning_run_prints(small_study, tmp_path):
    validate = run_cli("validate", "-c", small_study)
    run = run_cli("run", "-c", small_study, "-o", tmp_path / "out")
    assert validate.returncode == 0 and run.returncode == 0, (validate.stderr, run.stderr)
    printed = _warnings(run.stderr)
    assert printed, "the small sample is expected to produce warnings"
    assert sorted(_warnings(validate.stderr)) == sorted(printed)
    assert len(printed) == len(set(printed)), f"a warning printed twice: {printed}"
    assert f"{len(printed)} warning(s)" in validate.stdout
    # the summary lists every map the run wrote, and the QGIS project
    out = tmp_path / "out"
    listed = run.stdout.splitlines()[1:]
    assert listed == [f"  {out / name}" for name in ("index.html", "balance.html", "collaboration.html",
                                                      "core_periphery.html", "chains.html", "commuting.html",
                                                      "qgis/zoneatlas.qgz")], run.stdout
    assert not (tmp_path / "maps").exists() and not (small_study.parent / "maps").exists()


def test_partial_run_gives_the_full_runs_tables(small_run, tmp_path):
    _, full = small_run
    proc = run_cli("run", "-c", small_run[0].config_path, "-o", tmp_path / "only",
                   "--only", "collaboration", "-q")
    assert proc.returncode == 0, proc.stderr
    pairs = pd.read_csv(full.output_dir / "tables" / "collaboration_pairs.csv", encoding="utf-8-sig")
    assert (pairs["pair_type"] == "main_partner").any(), "test needs main_partner pairs to mean anything"
    for name in ("collaboration_pairs", "collaboration_zones", "collaboration_chains"):
        ours = (tmp_path / "only" / "tables" / f"{name}.csv").read_bytes()
        assert ours == (full.output_dir / "tables" / f"{name}.csv").read_bytes(), name
    assert not (tmp_path / "only" / "tables" / "core_periphery_zones.csv").exists()


def _readme_python_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Python API", 1)[1]
    return section.split("```python", 1)[1].split("```", 1)[0]


def test_readme_python_api_example_runs_and_equals_the_cli(tmp_path, monkeypatch):
    from geo._io import write_csv

    study_dir = tmp_path / "study"
    study_dir.mkdir()
    shutil.copy(ROOT / "config.yaml", study_dir / "config.yaml")
    shutil.copytree(ROOT / "layers", study_dir / "layers")
    monkeypatch.chdir(study_dir)
    namespace: dict = {}
    exec(compile(_readme_python_example(), "README.md", "exec"), namespace)  # noqa: S102

    import folium

    assert isinstance(namespace["m"], folium.Map)
    html = namespace["m"].get_root().render()
    assert "L.map" in html or "L.map(" in html
    report = namespace["report"]
    assert report.manifest["parameters"]["balance"]["radius_m"] == 3000
    tables = report.output_dir / "tables"
    compared = 0
    for result in (namespace["bal"], namespace["col"], namespace["cp"], namespace["ch"], namespace["cm"]):
        assert result.tables, result.name
        for name, table in result.tables.items():
            api_csv = write_csv(table, tmp_path / "api" / f"{name}.csv")
            assert api_csv.read_bytes() == (tables / f"{name}.csv").read_bytes(), name
            compared += 1
    assert compared >= 14
    # the override took effect: workers is the 3 km count, not the default 5 km one (with the
    # sample's roads and reach: network, the primary count is the one of balance.minute)
    bw = namespace["bal"].tables["balance_workplaces"]
    minute = report.manifest["parameters"]["balance"]["minute"]
    primary = f"workers_{minute:g}min" if report.manifest["reach"] == "network" else "workers_3000"
    assert (bw["workers"].fillna(-1) == bw[primary].fillna(-1)).all()
    assert (bw["workers_3000"] <= bw["workers_5000"]).all() and (bw["workers_3000"] < bw["workers_5000"]).any()


def test_api_bad_input_raises_zoneatlas_error_with_cli_messages(small_study_copy):
    import geo

    with pytest.raises(geo.ConfigError) as info:
        geo.load_study(small_study_copy, overrides={"balance": {"radius_mm": 3}})
    assert isinstance(info.value, geo.ZoneAtlasError)
    cli = run_cli("validate", "-c", small_study_copy)   # the file itself is fine
    assert cli.returncode == 0
    assert any("balance.radius_mm: unknown key" in p and "radius_m" in p for p in info.value.problems)


def test_public_names_are_only_the_documented_api():
    import geo

    assert set(geo.__all__) == {"AnalysisResult", "ConfigError", "InputError", "Result", "Study",
                                "ZoneAtlasError", "balance", "chains", "collaboration", "commuting", "compare", "core_periphery",
                                "load_study", "run"}
    for name in geo.__all__:
        assert getattr(geo, name) is not None


def test_no_module_imports_another_packages_private_module():
    """Layering: a writer or analysis never reaches into another package's ``_`` module
    (shared catalogues live below all of them: geo/styles.py, geo/i18n.py, geo/basemaps.py)."""
    offenders = []
    for path in GEO.rglob("*.py"):
        own = path.relative_to(GEO).parts[0] if len(path.relative_to(GEO).parts) > 1 else None
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                     else [])
            for name in names:
                parts = name.split(".")
                if parts[0] != "geo" or len(parts) < 3:
                    continue
                private = next((i for i, p in enumerate(parts) if p.startswith("_")), None)
                if private is not None and private >= 2 and parts[1] != own:
                    offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert not offenders, offenders


def test_no_module_much_over_600_lines():
    sizes = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines()) for p in GEO.rglob("*.py")}
    assert max(sizes.values()) <= 650, sorted(sizes.items(), key=lambda kv: -kv[1])[:3]
