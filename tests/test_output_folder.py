"""The output folder as users have it: their own files stay put, a mount point works,
a full disk or a read-only folder is one clear error with the previous outputs intact."""

from __future__ import annotations

import errno
import os
import shutil
import stat

import pytest

from geo._errors import OutputError
from geo._io import STAGING_PREFIX
from tests.conftest import run_cli, tree_digest


def _staging_left(out):
    return [*out.parent.glob(f"{STAGING_PREFIX}*"), *out.glob(f"{STAGING_PREFIX}*")]


def test_user_files_are_left_in_place_not_copied(small_study, small_run, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(small_run[1].output_dir, out)     # the previous run's outputs
    notes = out / "notes.txt"
    notes.write_text("mine", encoding="utf-8")
    kept = out / "tables" / "budget.xlsx"
    kept.write_bytes(b"planner's own")
    os.link(kept, tmp_path / "budget-link.xlsx")          # a hard link elsewhere
    os.mkfifo(out / "pipe")                               # a named pipe: never opened
    secret = out / "secret.txt"
    secret.write_text("x", encoding="utf-8")
    secret.chmod(0)
    before = {p: (p.lstat().st_ino, p.lstat().st_mtime_ns) for p in (notes, kept, out / "pipe", secret)}

    again = run_cli("run", "-c", small_study, "-o", out, "-q")
    assert again.returncode == 0, again.stderr
    after = {p: (p.lstat().st_ino, p.lstat().st_mtime_ns) for p in before}
    assert after == before, "user files must stay the same files (inode, mtime), not copies"
    assert kept.stat().st_nlink == 2
    assert stat.S_ISFIFO((out / "pipe").lstat().st_mode)
    assert _staging_left(out) == []


def test_outputs_are_replaced_and_stale_ones_removed(small_study, small_run, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(small_run[1].output_dir, out)     # the previous run's outputs
    old_inode = (out / "tables" / "zones.csv").stat().st_ino
    assert run_cli("run", "-c", small_study, "-o", out, "-q", "--only", "balance").returncode == 0
    assert (out / "tables" / "zones.csv").stat().st_ino != old_inode, "outputs are new files"
    assert not (out / "collaboration.html").exists()
    assert not (out / "tables" / "collaboration_pairs.csv").exists()
    assert (out / "balance.html").exists()


def test_staging_inside_a_mount_point(small_run, tmp_path, monkeypatch):
    """A mount point cannot be renamed and its parent is another file system: staging
    goes inside it, and nothing of it is left afterwards."""
    import geo._io as io_mod
    from geo.pipeline import run

    settings, _ = small_run
    out = tmp_path / "stick"
    out.mkdir()
    (out / "photo.jpg").write_bytes(b"jpeg")
    real_stat = os.stat

    def other_device(path, *args, **kwargs):   # the parent looks like another file system
        result = real_stat(path, *args, **kwargs)
        if os.fspath(path) == os.fspath(out.parent):
            return os.stat_result((*result[:2], result.st_dev + 1, *result[3:10]))
        return result

    monkeypatch.setattr(io_mod.os, "stat", other_device)
    assert io_mod._staging_home(out) == out
    report = run(settings, output_dir=out)
    assert (report.output_dir / "index.html").exists()
    assert (out / "photo.jpg").read_bytes() == b"jpeg"
    assert _staging_left(out) == []


def test_disk_full_is_one_clear_error_and_keeps_previous_outputs(small_run, tmp_path, monkeypatch):
    import geo.pipeline as pipeline

    settings, first = small_run
    out = tmp_path / "out"
    shutil.copytree(first.output_dir, out)     # the previous run's outputs
    before = tree_digest(out)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(out / "tables" / "x.csv"))

    monkeypatch.setattr(pipeline, "write_csv", full)
    with pytest.raises(OutputError) as info:
        pipeline.run(settings, output_dir=out)
    assert len(info.value.problems) == 1 and "disk is full" in info.value.problems[0]
    assert "-o" in info.value.problems[0]
    assert tree_digest(out) == before
    assert _staging_left(out) == []


def test_read_only_output_subfolder_is_refused_before_anything_moves(small_run, tmp_path, monkeypatch):
    import geo._io as io_mod
    from geo.pipeline import run

    settings, first = small_run
    out = tmp_path / "out"
    shutil.copytree(first.output_dir, out)     # the previous run's outputs
    before = tree_digest(out)
    real_access = os.access
    tables = out / "tables"
    # root ignores permission bits, so the read-only folder is simulated at os.access
    monkeypatch.setattr(io_mod.os, "access",
                        lambda p, mode, **kw: False if os.fspath(p) == os.fspath(tables) else real_access(p, mode, **kw))
    with pytest.raises(OutputError) as info:
        run(settings, output_dir=out)
    assert str(tables) in info.value.problems[0] and "not writable" in info.value.problems[0]
    assert tree_digest(out) == before
    assert _staging_left(out) == []


def test_a_users_file_in_the_way_of_an_output_folder(small_study, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "tables").write_text("not a folder", encoding="utf-8")
    proc = run_cli("run", "-c", small_study, "-o", out, "-q")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "in the way" in lines[0]
    assert (out / "tables").read_text(encoding="utf-8") == "not a folder"
    assert _staging_left(out) == []


@pytest.mark.parametrize("folder", ["tables", "qgis", "figures"])
def test_an_output_folder_in_the_way_is_refused_before_the_layers_are_read(folder, small_study, tmp_path,
                                                                             monkeypatch, cli_in_process):
    """Found before the long steps (on a large study minutes), not when the outputs move in."""
    import geo.layers

    def not_expected(*args, **kwargs):
        raise AssertionError("the layers were read")

    monkeypatch.setattr(geo.layers, "load_study", not_expected)
    out = tmp_path / "out"
    out.mkdir()
    (out / folder).write_text("mine", encoding="utf-8")
    proc = cli_in_process("run", "-c", small_study, "-o", out, "-q")
    assert proc.returncode == 2, proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith(f"error: {out / folder}: a file is in the way of the output folder {folder}"), line
    assert (out / folder).read_text(encoding="utf-8") == "mine" and _staging_left(out) == []


def test_the_early_check_covers_every_sub_folder_a_run_writes(small_run, tmp_path, monkeypatch):
    # one list (pipeline.SUBFOLDERS) for the writers and for the check before the long steps
    import geo.pipeline as pipeline

    settings, report = small_run
    written = {p.name for p in report.output_dir.iterdir() if p.is_dir()}
    checked = []
    monkeypatch.setattr(pipeline, "check_output_folders", lambda target, names: checked.extend(names))
    pipeline._check_output_folder(settings, tmp_path)
    assert settings.print.figures and written == set(checked) == set(pipeline.SUBFOLDERS.values()), (written, checked)
