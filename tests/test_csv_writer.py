"""The fast CSV writer writes exactly the bytes pandas would."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from supportxl.dataset import _csv_ready, write_csv


def pandas_bytes(frame, path):
    _csv_ready(frame).to_csv(path, index=False, lineterminator="\n")
    return path.read_bytes()


def test_generated_tables_match_pandas(tmp_path, small_dataset):
    for name in ("tickets", "accounts", "agents", "escalation_events"):
        frame = getattr(small_dataset, name)
        write_csv(frame, tmp_path / "fast.csv")
        assert (tmp_path / "fast.csv").read_bytes() == pandas_bytes(frame, tmp_path / "pandas.csv"), name


def test_awkward_values_match_pandas(tmp_path):
    frame = pd.DataFrame({
        "text": ['a,b', 'say "hi"', "multi\nline", "", None, " padded ", "=1+1", "é€"],
        "number": pd.array([1, None, -3, 10**12, 0, 5, 6, 7], dtype="Int64"),
        "flag": [True, False, True, False, True, False, True, False],
        "when": pd.to_datetime(["2025-01-01 00:00:01", None, "1999-12-31 23:59:59", "2025-06-01 00:00:00",
                                "2025-06-02 12:00:00", "2025-06-03 00:00:00", "2025-06-04 08:00:00",
                                "2025-06-05 00:00:00"]),
        "day": pd.to_datetime(["2025-01-01", None, "2024-02-29", "2025-06-01", "2025-06-02",
                               "2025-06-03", "2025-06-04", "2025-06-05"]),
    })
    write_csv(frame, tmp_path / "fast.csv")
    assert (tmp_path / "fast.csv").read_bytes() == pandas_bytes(frame, tmp_path / "pandas.csv")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=12), st.integers(-10**6, 10**6), st.booleans()),
                min_size=1, max_size=30))
def test_arbitrary_rows_match_pandas(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("csv")
    frame = pd.DataFrame(rows, columns=["text", "number", "flag"])
    frame["text"] = frame["text"].astype(object)
    write_csv(frame, path / "fast.csv")
    assert (path / "fast.csv").read_bytes() == pandas_bytes(frame, path / "pandas.csv")
