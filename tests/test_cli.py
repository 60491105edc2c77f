"""The command line through the real entry point: exit codes, error lines, outputs."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from geo._io import STAGING_PREFIX
from tests.conftest import ROOT, run_cli, tree_digest


def test_help_and_version():
    assert run_cli("--help").returncode == 0
    out = run_cli("--version")
    assert out.returncode == 0 and "zoneatlas" in out.stdout


def test_sample_then_validate_then_run(tmp_path):
    study = tmp_path / "study"
    made = run_cli("sample", "-o", study, "--scale", "small", "--seed", "3")
    assert made.returncode == 0, made.stderr
    config = study / "config.yaml"
    assert config.is_file()

    checked = run_cli("validate", "-c", config)
    assert checked.returncode == 0, checked.stderr
    assert "ok:" in checked.stdout
    assert not (study / "maps").exists(), "validate must write nothing"

    before = tree_digest(study)
    out = tmp_path / "out"
    done = run_cli("run", "-c", config, "-o", out, "-q")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    for name in ("index.html", "balance.html", "collaboration.html", "core_periphery.html", "run.json",
                 "qgis/zoneatlas.gpkg", "qgis/zoneatlas.qgz", "tables/balance_workplaces.csv",
                 "tables/collaboration_pairs.csv", "tables/core_periphery_zones.csv"):
        assert (out / name).is_file(), name
    assert tree_digest(study) == before, "inputs must never be modified"

    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert manifest["analyses"] == ["core_periphery", "collaboration", "balance", "chains", "commuting"]
    assert manifest["counts"]["zones"] > 0
    hashed = {entry["path"] for entry in manifest["inputs"]}
    assert "config.yaml" in hashed and any(p.endswith("sample.gpkg") for p in hashed)
    assert all(len(entry["sha256"]) == 64 for entry in manifest["inputs"])
    assert {"load layers", "balance", "maps", "QGIS package"} <= set(manifest["timings_s"])
    assert manifest["parameters"]["balance"]["radius_m"] == 5000


def test_only_runs_selected_analyses(small_study, tmp_path):
    out = tmp_path / "out"
    done = run_cli("run", "-c", small_study, "-o", out, "--only", "balance")
    assert done.returncode == 0, done.stderr
    assert (out / "balance.html").is_file()
    assert done.stdout.splitlines()[1:] == [f"  {out / n}" for n in ("index.html", "balance.html",
                                                                     "qgis/zoneatlas.qgz")], done.stdout
    assert not (out / "collaboration.html").exists()
    assert not (out / "tables" / "core_periphery_zones.csv").exists()
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["analyses"] == ["balance"]


def test_unknown_only_is_exit_2(small_study, tmp_path):
    done = run_cli("run", "-c", small_study, "-o", tmp_path / "o", "--only", "balanse")
    assert done.returncode == 2
    assert done.stderr.startswith("error: --only") and "balance" in done.stderr
    assert not (tmp_path / "o").exists()


def test_missing_config_is_exit_2_without_traceback(tmp_path):
    done = run_cli("run", "-c", tmp_path / "nope.yaml")
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "nope.yaml" in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_config_each_problem_one_line(small_study_copy, tmp_path):
    data = yaml.safe_load(small_study_copy.read_text(encoding="utf-8"))
    data["balance"]["radius_m"] = -1
    data["balance"]["raduis"] = 3
    data["collaboration"]["max_distance_m"] = 0
    small_study_copy.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    done = run_cli("validate", "-c", small_study_copy)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("error: ") for line in lines), lines
    assert any("did you mean 'radius_m'" in line for line in lines)


@pytest.mark.parametrize("where", ["after", "before"])
def test_debug_shows_traceback(tmp_path, where):
    args = ["validate", "-c", tmp_path / "nope.yaml"]
    done = run_cli(*(args + ["--debug"] if where == "after" else ["--debug"] + args))
    assert done.returncode == 2
    assert "Traceback" in done.stderr


def test_usage_errors_for_a_bad_seed_and_every_analysis_in_the_help():
    from geo.pipeline import ANALYSES

    for seed in ("-1", "x"):
        done = run_cli("sample", "-o", "never-written", "--seed", seed)
        assert done.returncode == 2 and f"invalid seed value: '{seed}'" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    shown = " ".join(run_cli("run", "--help").stdout.split())
    assert f"subset of {','.join(sorted(ANALYSES, key=['balance', 'collaboration', 'core_periphery', 'chains', 'commuting'].index))}" in shown


def test_quiet_before_or_after_the_command(cli_in_process):
    """-q silences the summary and the warnings wherever it stands (a parser default on the
    flag once made the command's copy of it overwrite a -q given before the command).
    In this process: the parser is the console script's (its own interpreter adds nothing here)."""
    loud = cli_in_process("validate", "-c", ROOT / "config.yaml")
    assert loud.returncode == 0 and loud.stdout.startswith("ok: ") and "warning: " in loud.stderr
    for args in (["-q", "validate", "-c", ROOT / "config.yaml"], ["validate", "-q", "-c", ROOT / "config.yaml"]):
        quiet = cli_in_process(*args)
        assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", ""), args


def test_failed_run_keeps_previous_outputs(small_study_copy, small_run, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(small_run[1].output_dir, out)     # a previous run's outputs
    (out / "my_notes.txt").write_text("mine", encoding="utf-8")
    before = tree_digest(out)

    data = yaml.safe_load(small_study_copy.read_text(encoding="utf-8"))
    data["layers"]["zones"]["fields"]["jobs"] = "no_such_column"
    small_study_copy.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    failed = run_cli("run", "-c", small_study_copy, "-o", out)
    assert failed.returncode == 2
    assert "no_such_column" in failed.stderr and "Traceback" not in failed.stderr
    assert tree_digest(out) == before
    leftovers = [p.name for p in [*out.parent.iterdir(), *out.iterdir()] if p.name.startswith(STAGING_PREFIX)]
    assert leftovers == []


def test_rerun_carries_over_user_files(small_study, tmp_path, cli_in_process):
    out = tmp_path / "out"
    assert cli_in_process("run", "-c", small_study, "-o", out, "-q", "--only", "core_periphery").returncode == 0
    (out / "README.md").write_text("keep me", encoding="utf-8")
    (out / "tables" / "budget.xlsx").write_bytes(b"planner's own")
    assert cli_in_process("run", "-c", small_study, "-o", out, "-q", "--only", "balance").returncode == 0
    assert (out / "README.md").read_text(encoding="utf-8") == "keep me"
    assert (out / "tables" / "budget.xlsx").read_bytes() == b"planner's own"
    assert not (out / "core_periphery.html").exists(), "stale maps of an earlier run must not survive"
    assert not (out / "tables" / "core_periphery_zones.csv").exists(), "stale tables must not survive"


def test_unwritable_output_is_exit_2(small_study, tmp_path):
    import os

    if os.geteuid() == 0:
        target = tmp_path / "file-not-folder"
        target.write_text("x", encoding="utf-8")
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        target = locked / "out"
    done = run_cli("run", "-c", small_study, "-o", target)
    assert done.returncode == 2, done.stderr
    assert "error: " in done.stderr and str(target.name) in done.stderr


def test_bundled_config_validates():
    done = run_cli("validate", "-c", ROOT / "config.yaml")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("command", ["validate", "run"])
def test_tianditu_without_key_fails_early(small_study_copy, tmp_path, command, cli_in_process, monkeypatch):
    data = yaml.safe_load(small_study_copy.read_text(encoding="utf-8"))
    data["map"]["basemap"] = "tianditu"
    small_study_copy.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    args = ["-o", tmp_path / "out"] if command == "run" else []
    monkeypatch.setenv("TIANDITU_KEY", "")
    done = cli_in_process(command, "-c", small_study_copy, *args)
    assert done.returncode == 2, done.stderr
    assert "tianditu" in done.stderr and "TIANDITU_KEY" in done.stderr
    assert not (tmp_path / "out").exists()
    monkeypatch.setenv("TIANDITU_KEY", "k")
    with_key = cli_in_process("validate", "-c", small_study_copy)
    assert with_key.returncode == 0, with_key.stderr


def test_config_problems_found_after_loading_name_the_config_file(small_study_copy):
    config = small_study_copy.with_name("my study.yaml")
    data = yaml.safe_load(small_study_copy.read_text(encoding="utf-8"))
    data["map"]["basemap"] = "tianditu"
    data["crs"]["working"] = "EPSG:4326"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    done = run_cli("validate", "-c", config, env={"TIANDITU_KEY": ""})
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2, lines
    assert all(line.startswith(f"error: {config}: ") for line in lines), lines
    assert any(": crs.working: " in line and "geographic" in line for line in lines)
    assert any(": map.basemap is tianditu but no key" in line for line in lines)


def test_text_from_config_cannot_forge_error_lines(small_study_copy):
    data = yaml.safe_load(small_study_copy.read_text(encoding="utf-8"))
    data["balance"]["bad\nerror: forged"] = 1
    small_study_copy.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    done = run_cli("validate", "-c", small_study_copy)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad\\nerror: forged" in lines[0], lines


def test_study_folder_as_output_is_refused(small_study_copy):
    root = small_study_copy.parent
    before = tree_digest(root)
    done = run_cli("run", "-c", small_study_copy, "-o", root)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "config.yaml" in lines[0] and "inside the output folder" in lines[0]
    assert tree_digest(root) == before


@pytest.mark.parametrize("where", ["layers", ".", "config.yaml"])
def test_validate_refuses_the_output_folder_a_run_refuses(small_study_copy, where):
    data = yaml.safe_load(small_study_copy.read_text(encoding="utf-8"))
    data["output"] = {"dir": where}
    small_study_copy.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    before = tree_digest(small_study_copy.parent)
    checked, ran = run_cli("validate", "-c", small_study_copy), run_cli("run", "-c", small_study_copy)
    assert checked.returncode == ran.returncode == 2, (checked.stderr, ran.stderr)
    problem = ("is a file, not an output folder" if where == "config.yaml" else "inside the output folder")
    assert problem in checked.stderr and problem in ran.stderr
    assert tree_digest(small_study_copy.parent) == before


def test_sample_never_overwrites_a_study(small_study, tmp_path):
    folder = small_study.parent
    before = tree_digest(folder)
    proc = run_cli("sample", "-o", folder, "--scale", "small", "--seed", "3")
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("error: ") and "already holds a study" in line and "config.yaml" in line
    assert tree_digest(folder) == before


def test_sample_onto_a_file_is_a_clear_error(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("x", encoding="utf-8")
    proc = run_cli("sample", "-o", target, "--scale", "small")
    assert proc.returncode == 2 and "not a folder" in proc.stderr and "Traceback" not in proc.stderr
    assert target.read_text(encoding="utf-8") == "x"
