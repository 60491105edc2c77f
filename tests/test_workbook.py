"""tables.xlsx reopened with openpyxl (a different library than the writer): sheets, headers,
frozen panes, autofilter, number formats, values equal to the CSV files, text kept as text."""

from __future__ import annotations

import os
import zipfile

import numpy as np
import pandas as pd
import pytest

openpyxl = pytest.importorskip("openpyxl")
from openpyxl.utils import get_column_letter  # noqa: E402


@pytest.fixture(scope="module")
def book(small_run):
    settings, report = small_run
    path = report.output_dir / "tables.xlsx"
    assert path.is_file()
    return report, openpyxl.load_workbook(path)


def _header(ws) -> list[str]:
    return [c.value for c in ws[1]]


def test_one_sheet_per_csv_table_after_a_contents_sheet(book):
    report, wb = book
    csv_names = {p.stem for p in (report.output_dir / "tables").glob("*.csv")}
    assert wb.sheetnames[0] == "contents"
    assert set(wb.sheetnames[1:]) == csv_names
    assert all(len(n) <= 31 for n in wb.sheetnames)
    contents = wb["contents"]
    rows = list(contents.iter_rows(min_row=2, values_only=True))
    assert {r[0] for r in rows} == csv_names
    for sheet, _title, nrows, ncols, csv, _note in rows:
        assert csv == f"tables/{sheet}.csv"
        frame = pd.read_csv(report.output_dir / csv, encoding="utf-8-sig")
        assert (nrows, ncols) == frame.shape
        assert wb[sheet].max_row == nrows + 1


def test_contents_describe_every_table_in_the_study_language(book):
    """The 说明 column says in one line what each table is, for every table (not only for
    those too large for a sheet), in the study language (zh in the sample)."""
    import re

    report, wb = book
    contents = wb["contents"]
    assert contents.cell(row=1, column=6).value == "说明"
    rows = list(contents.iter_rows(min_row=2, values_only=True))
    notes = {csv: note for _sheet, _title, _n, _c, csv, note in rows}
    assert len(notes) == len({p.stem for p in (report.output_dir / "tables").glob("*.csv")})
    for csv, note in notes.items():
        assert note and re.search(r"[\u4e00-\u9fff]", note) and "\n" not in note, (csv, note)
    assert len(set(notes.values())) == len(notes), "each table described in its own words"
    from geo.i18n import table_description   # the one table of descriptions, not a copy

    assert all(note == table_description(csv[len("tables/"):-len(".csv")], "zh") for csv, note in notes.items())


def test_contents_descriptions_in_english_and_for_tables_left_to_csv(tmp_path):
    from geo.workbook import write_workbook

    tables = {"zones": pd.DataFrame({"zone_id": ["Z1"], "jobs": [10.0]}),
              "housing": pd.DataFrame({"housing_id": [f"H{i}" for i in range(10)], "dwellings": range(10)}),
              "not_a_known_table": pd.DataFrame({"x": [1]})}
    wb = openpyxl.load_workbook(write_workbook(tmp_path / "t.xlsx", tables, "en", max_rows=5))
    contents = wb["contents"]
    assert contents.cell(row=1, column=6).value == "Description"
    notes = {r[4]: r[5] for r in contents.iter_rows(min_row=2, values_only=True)}
    assert notes["tables/zones.csv"].startswith("Input layer: industrial functional zones")
    housing = notes["tables/housing.csv"]   # what it is, then why it has no sheet
    assert housing.startswith("Input layer: housing features") and "not in the workbook" in housing
    assert notes["tables/not_a_known_table.csv"] is None    # no description invented: an empty cell


def test_headers_frozen_filtered_and_formatted(book):
    report, wb = book
    ws = wb["balance_workplaces"]
    header = _header(ws)
    # the study language (zh) with the canonical name beside it, written out by hand
    for expected in ("就业地编号 (workplace_id)", "就业岗位 (jobs)", "职住比 (jhr)", "职住平衡类型 (balance_class)",
                     "5公里内居住就业人口 (workers_5000)"):
        assert expected in header
    assert ws.freeze_panes == "A2"
    n = ws.max_row
    assert ws.auto_filter.ref == f"A1:{get_column_letter(len(header))}{n}"
    col = {h.rsplit("(", 1)[-1].rstrip(")"): i + 1 for i, h in enumerate(header)}
    fmt = {name: ws.cell(row=2, column=i).number_format for name, i in col.items()}
    assert fmt["jobs"] == "#,##0"            # thousands separators for counts
    assert fmt["workers"] == "#,##0"         # resident workers are people, even when fractional
    assert fmt["jhr"] == "0.00"              # fixed decimals for ratios
    # every jobs-housing ratio alike (area_jhr_3000 had 0.00, area_jhr 0.000)
    assert {fmt[c] for c in fmt if c.startswith(("jhr", "area_jhr"))} == {"0.00"}, fmt
    assert ws.cell(row=2, column=col["workplace_id"]).data_type == "s"
    shares = wb["collaboration_chains"]
    h = _header(shares)
    i = next(k for k, t in enumerate(h, 1) if t.endswith("(share_linked)"))
    assert shares.cell(row=2, column=i).number_format == "0.0%"   # percentages for shares
    widths = [ws.column_dimensions[get_column_letter(i)].width for i in range(1, len(header) + 1)]
    assert all(8 <= w <= 48 for w in widths)
    assert ws.column_dimensions[get_column_letter(col["name"])].width > \
        ws.column_dimensions[get_column_letter(col["kind"])].width


def test_values_equal_the_csv_tables(book):
    report, wb = book
    for name in ("balance_workplaces", "collaboration_pairs", "core_periphery_zones", "zones"):
        csv = pd.read_csv(report.output_dir / "tables" / f"{name}.csv", encoding="utf-8-sig",
                          dtype=str, keep_default_na=False)
        rows = list(wb[name].iter_rows(min_row=2, values_only=True))
        assert len(rows) == len(csv)
        for j, column in enumerate(csv.columns):
            got = [r[j] for r in rows]
            want = csv[column].tolist()
            for g, w in zip(got, want):
                if w == "":
                    assert g is None, (name, column)
                elif isinstance(g, bool):
                    assert str(g) == w, (name, column)
                elif isinstance(g, (int, float)):
                    assert g == pytest.approx(float(w), rel=1e-9, abs=1e-9), (name, column)
                else:
                    assert g == w, (name, column)


def test_text_stays_text_and_missing_values_are_empty(tmp_path):
    from geo.workbook import write_workbook

    frame = pd.DataFrame({
        "name": ["=1+1", "+86 123", "0012", "@SUM(A1)", "-2", "普通名称"],
        "jobs": [1234567.0, np.nan, 0.0, 5.0, 6.0, 7.0],
        "jhr": [1.23456, 0.5, np.nan, 2.0, 3.0, 4.0],
    })
    path = write_workbook(tmp_path / "t.xlsx", {"zones": frame}, "en")
    ws = openpyxl.load_workbook(path)["zones"]
    assert _header(ws) == ["Name (name)", "Jobs (jobs)", "Jobs–housing ratio (jhr)"]
    names = [ws.cell(row=r, column=1) for r in range(2, 8)]
    assert [c.value for c in names] == frame["name"].tolist()
    assert all(c.data_type == "s" for c in names)
    assert ws.cell(row=2, column=2).value == 1234567 and ws.cell(row=2, column=2).number_format == "#,##0"
    assert ws.cell(row=3, column=2).value is None and ws.cell(row=4, column=3).value is None
    # no formula anywhere in the sheet XML
    with zipfile.ZipFile(path) as z:
        xml = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/worksheets/"))
    assert "<f>" not in xml and "<f " not in xml


def test_long_names_are_cut_unique_and_big_tables_left_to_csv(tmp_path):
    from geo.workbook import write_workbook

    long_a = "commuting_districts_by_ring_and_mode_a"
    long_b = "commuting_districts_by_ring_and_mode_b"
    tables = {long_a: pd.DataFrame({"x": [1]}), long_b: pd.DataFrame({"x": [2]}),
              "housing": pd.DataFrame({"housing_id": [f"H{i}" for i in range(10)], "dwellings": range(10)})}
    path = write_workbook(tmp_path / "t.xlsx", tables, "zh", max_rows=5)
    wb = openpyxl.load_workbook(path)
    names = wb.sheetnames[1:]
    assert len(names) == 2 and len(set(n.lower() for n in names)) == 2
    assert all(len(n) <= 31 for n in names)
    assert wb[names[0]]["A2"].value == 1 and wb[names[1]]["A2"].value == 2
    contents = list(wb["contents"].iter_rows(min_row=2, values_only=True))
    housing = next(r for r in contents if r[4] == "tables/housing.csv")
    assert housing[0] is None and housing[2] == 10 and "CSV" in housing[5]


def _cells(path):
    wb = openpyxl.load_workbook(path)
    return {name: [[(c.value, c.number_format, c.data_type) for c in row] for row in wb[name].iter_rows()]
            for name in wb.sheetnames}




def test_workbook_written_in_a_background_process_equals_the_one_written_at_once(tmp_path):
    import sys

    from geo._background import Background
    from geo.workbook import write_workbook

    tables = {"zones": pd.DataFrame({"zone_id": ["=1+1", "Z2", None], "jobs": [1500.0, np.nan, 3.0],
                                     "jhr": [0.5, 1.25, np.inf], "flag": [True, False, None]}),
              "pairs": pd.DataFrame({"zone_a": ["A", "B"], "share_linked": [0.25, 0.5]})}
    inline = write_workbook(tmp_path / "inline.xlsx", tables, "zh")
    with Background() as bg:
        job = bg.start("workbook", write_workbook, tmp_path / "sub" / "bg.xlsx", tables, "zh")
        assert bg.wait("workbook") == tmp_path / "sub" / "bg.xlsx"
    if sys.platform.startswith("linux") and (os.cpu_count() or 1) > 1:
        assert job.background
    assert job.cpu_s > 0
    assert _cells(tmp_path / "sub" / "bg.xlsx") == _cells(inline)
    assert _cells(inline)["zones"][1][0] == ("=1+1", "General", "s")


def test_the_cyclic_collector_is_paused_while_writing_and_restored_after(tmp_path, monkeypatch):
    """XlsxWriter holds a tuple per cell until close(): the collector pauses meanwhile and is
    back as it was afterwards, also when the write fails and when it was off before."""
    import gc

    import xlsxwriter

    from geo.workbook import write_workbook

    seen = []
    close = xlsxwriter.Workbook.close

    def recording_close(self):
        seen.append(gc.isenabled())
        return close(self)

    monkeypatch.setattr(xlsxwriter.Workbook, "close", recording_close)
    tables = {"zones": pd.DataFrame({"zone_id": ["Z1", "Z2"], "jobs": [1.0, 2.0]})}
    assert gc.isenabled()
    write_workbook(tmp_path / "a.xlsx", tables, "en")
    assert seen == [False] and gc.isenabled()
    assert openpyxl.load_workbook(tmp_path / "a.xlsx")["zones"]["A3"].value == "Z2"
    (tmp_path / "taken.xlsx").mkdir()       # a folder where the file should go: the write fails
    with pytest.raises(xlsxwriter.exceptions.FileCreateError):
        write_workbook(tmp_path / "taken.xlsx", tables, "en")
    assert gc.isenabled()
    gc.disable()
    try:
        write_workbook(tmp_path / "b.xlsx", tables, "en")
        assert not gc.isenabled()           # left off, as the caller had it
    finally:
        gc.enable()
