"""The CLI on bad files and hostile output locations: one line, non-zero exit,
no partial output."""

import resource
import signal
import subprocess
import sys

import pandas as pd
import pytest

from acctgraph.cli import main


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("acctgraph: error: ")
    return err[0]


@pytest.fixture()
def events_file(tmp_path):
    events = pd.DataFrame(
        {
            "account_id": [f"a{i}" for i in range(30)],
            "kind": "ip",
            "value": [f"ip{i % 5}" for i in range(30)],
        }
    )
    path = tmp_path / "events.parquet"
    events.to_parquet(path)
    return path


def test_truncated_parquet_file(events_file, tmp_path, capsys):
    truncated = tmp_path / "truncated.parquet"
    truncated.write_bytes(events_file.read_bytes()[:-100])
    assert main(["detect", str(truncated), "--out", str(tmp_path / "out")]) == 2
    assert "truncated.parquet" in _error_line(capsys)
    assert not (tmp_path / "out").exists()


def test_text_file_named_parquet_and_unknown_suffix(tmp_path, capsys):
    fake = tmp_path / "events.parquet"
    fake.write_text("account_id,kind,value\na,ip,1\n")
    assert main(["detect", str(fake), "--out", str(tmp_path / "out")]) == 2
    assert "cannot read" in _error_line(capsys)
    odd = tmp_path / "events.xlsx"
    odd.write_text("x")
    assert main(["detect", str(odd), "--out", str(tmp_path / "out")]) == 2
    assert "expected .parquet, .pq or .csv" in _error_line(capsys)


def test_csv_with_the_wrong_delimiter_is_named(tmp_path, capsys):
    path = tmp_path / "events.csv"
    path.write_text("account_id;kind;value\na;ip;1\nb;ip;1\n")
    assert main(["detect", str(path), "--out", str(tmp_path / "out")]) == 2
    line = _error_line(capsys)
    assert "delimited by ';'" in line
    assert "'kind'" in line


def test_several_problems_fit_on_one_line(tmp_path, capsys):
    path = tmp_path / "events.csv"
    path.write_text("account_id,kind,value,count\n,ip,1,2\nb,,1,zero\n")
    assert main(["detect", str(path), "--out", str(tmp_path / "out")]) == 2
    line = _error_line(capsys)
    assert "3 problem(s) in events" in line
    assert "'account_id'" in line and "'kind'" in line and "'zero'" in line


def test_unwritable_output_location(events_file, capsys):
    # /proc refuses new entries even to root.
    assert main(["detect", str(events_file), "--out", "/proc/acctgraph-results"]) == 2
    assert "/proc" in _error_line(capsys)


def test_missing_parent_folder(events_file, tmp_path, capsys):
    assert main(["detect", str(events_file), "--out", str(tmp_path / "no" / "such" / "out")]) == 2
    assert "parent folder" in _error_line(capsys)


def _limit_file_size():
    # A process-wide limit on file size stands in for a full disk: writes past
    # it fail with EFBIG instead of killing the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2_000, 2_000))


def test_running_out_of_disk_leaves_no_partial_output(small_world, tmp_path):
    small_world.events.to_parquet(tmp_path / "events.parquet")
    out = tmp_path / "out"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "acctgraph",
            "detect",
            str(tmp_path / "events.parquet"),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        preexec_fn=_limit_file_size,
    )
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot write results" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.parquet"]
