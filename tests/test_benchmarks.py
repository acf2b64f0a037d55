import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parent.parent / "benchmarks" / "bench_detect.py"


def test_benchmark_smoke_run_writes_table_and_json(tmp_path):
    out = tmp_path / "bench.json"
    env = dict(os.environ, ACCTGRAPH_BENCH_CACHE=str(tmp_path / "cache"))
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--scales", "2000", "--json", str(out)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert "| 2,000 |" in run.stdout
    report = json.loads(out.read_text())
    (row,) = report["rows"]
    assert row["n_accounts"] == 2000
    assert row["acctgraph"]["recall"] >= 0.95
    assert row["acctgraph"]["peak_rss_mib"] > 0
    assert row["ratio_to_floor"] > 0
    assert out.with_suffix(".md").read_text().startswith("# bench_detect")
