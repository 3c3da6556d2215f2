"""`supportxl build --split-by`: one workbook per value, each from its slice only, and an index."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import load_book, make_dataset, soffice_or_skip
from supportxl.cli import app
from supportxl.dataset import write_dataset
from supportxl.deliver.split import slug, split_dataset
from supportxl.metrics.derive import derive_tickets
from supportxl.template import load_template

runner = CliRunner()
TICKETS_CARD, TTR_MEDIAN_CARD = "A8", "G8"


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def dataset():
    return make_dataset(1_500, seed=5)


@pytest.fixture(scope="module")
def split(dataset, tmp_path_factory):
    folder = tmp_path_factory.mktemp("split")
    write_dataset(dataset, folder / "data")
    result = run("build", folder / "data", "--split-by", "region", "-o", folder / "by_region", "--jobs", "2")
    assert result.exit_code == 0, result.output
    return folder / "by_region", result


def region_of(dataset) -> pd.Series:
    regions = dataset.accounts.set_index("account_id")["region"]
    return dataset.tickets["account_id"].map(regions).fillna("Unknown")


def test_one_workbook_per_value_and_an_index(dataset, split):
    folder, result = split
    regions = sorted(region_of(dataset).unique())
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"{slug(r)}.xlsx" for r in regions] + ["index.xlsx"])
    assert result.stdout.startswith(f"Wrote {len(regions)} workbooks by region (1,500 tickets) and index.xlsx "
                                    f"to {folder} in ")


def test_each_slice_holds_only_its_tickets_and_its_kpis(dataset, split):
    folder, _ = split
    region = region_of(dataset)
    total = 0
    for value in sorted(region.unique()):
        book = load_book(folder / f"{slug(value)}.xlsx", data_only=True)
        mine = dataset.tickets[region == value]
        cards = book["Dashboard"]
        assert cards[TICKETS_CARD].value == len(mine)
        hours = (mine["resolved_at"] - mine["created_at"]).dt.total_seconds().dropna() / 3600
        assert cards[TTR_MEDIAN_CARD].value == pytest.approx(hours.median(), abs=1e-6)
        about = {r[0]: r[1] for r in book["About"].iter_rows(values_only=True) if r and r[0]}
        assert about["Data source"].endswith(f"; only region {value}")
        assert about["Period"] == "01 Jan 2025 to 31 Dec 2025"  # the whole period in every slice
        ids = {r[0] for r in book["Tickets"].iter_rows(min_row=2, values_only=True)}
        assert ids == set(mine["ticket_id"])
        total += len(mine)
    assert total == len(dataset.tickets)


def test_the_index_links_every_slice_with_its_kpis(dataset, split):
    folder, _ = split
    book = load_book(folder / "index.xlsx")
    ws = book["Index"]
    table = ws.tables["Slices"]
    rows = list(ws[table.ref])
    header = [c.value for c in rows[0]]
    assert header[:4] == ["Region", "Workbook", "Share of tickets", "Tickets"]
    body = rows[1:]
    region = region_of(dataset)
    assert [r[0].value for r in body] == sorted(region.unique()) + ["All"]
    for r in body[:-1]:
        assert r[1].hyperlink.target == f"{slug(r[0].value)}.xlsx"
        assert (folder / r[1].value).is_file()
        assert r[3].value == int((region == r[0].value).sum())
        assert r[2].value == pytest.approx(r[3].value / len(dataset.tickets))
    assert body[-1][3].value == len(dataset.tickets)


def test_split_workbooks_are_byte_identical_on_a_rebuild(split):
    folder, _ = split  # rebuilt in place: the recorded command names the folder
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert run("build", folder.parent / "data", "--split-by", "region", "-o", folder, "-q",
               "--jobs", "1").exit_code == 0
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_slugs_are_file_safe_and_unique():
    assert slug("Tier 2") == "tier-2"
    assert slug("Zoë O'Brien / EMEA") == "zoe-o-brien-emea"
    assert slug("***") == "blank"
    assert len(slug("x" * 100)) == 60
    dataset = make_dataset(60, seed=1)
    template = load_template()
    frame = derive_tickets(dataset, template)
    frame["agent"] = ["Ann Lee" if i % 3 == 0 else ("ann-lee" if i % 3 == 1 else "Index") for i in range(len(frame))]
    stems = [s.stem for s in split_dataset(dataset, frame, "agent")]
    assert stems == ["ann-lee", "index-2", "ann-lee-2"]  # values in order: "Ann Lee", "Index", "ann-lee"


def test_split_errors(tmp_path, dataset):
    write_dataset(dataset, tmp_path / "data")
    as_file = run("build", tmp_path / "data", "--split-by", "team", "-o", tmp_path / "x.xlsx")
    assert as_file.exit_code == 2
    assert as_file.stderr == (f"Error: --split-by writes a folder of workbooks; {tmp_path / 'x.xlsx'} looks "
                              f"like a file name (give a folder, for example output/by_team).\n")
    assert not (tmp_path / "x.xlsx").exists()
    with_pdf = run("build", tmp_path / "data", "--split-by", "team", "--pdf", "-o", tmp_path / "by_team")
    assert with_pdf.exit_code == 2
    assert with_pdf.stderr == ("Error: --pdf and --csv-dir are for one workbook, not with --split-by (the "
                               "split's index.xlsx lists every slice's headline KPIs).\n")
    assert not (tmp_path / "by_team").exists()
    wrong = run("build", tmp_path / "data", "--split-by", "colour")
    assert wrong.exit_code == 2
    assert wrong.stderr == "Error: --split-by 'colour': choose one of team, region, industry, account, agent.\n"


@pytest.mark.libreoffice
def test_each_slice_recalculates_to_its_cached_values(split, tmp_path):
    soffice_or_skip()
    from supportxl.verify import compare_with_recalculated, recalculate

    folder, _ = split
    for workbook in sorted(folder.glob("*.xlsx")):
        if workbook.name == "index.xlsx":
            continue
        comparison = compare_with_recalculated(workbook, recalculate(workbook, tmp_path / workbook.stem))
        assert comparison.ok, f"{workbook.name}: {comparison.summary()}"
