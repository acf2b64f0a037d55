import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from acctgraph.cli import main


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "world"
    assert main(["synth", "--accounts", "3000", "--world-seed", "2", "--out", str(out)]) == 0
    return out


def test_detect_writes_results_and_prints_a_summary(world_dir, tmp_path, capsys):
    out = tmp_path / "results"
    code = main(
        [
            "detect",
            str(world_dir / "events.parquet"),
            "--accounts",
            str(world_dir / "accounts.parquet"),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "accounts flagged" in printed
    accounts = pd.read_parquet(out / "accounts.parquet")
    truth = pd.read_parquet(world_dir / "truth.parquet")
    merged = accounts.merge(truth, on="account_id")
    farm = merged["role"] == "farm"
    assert merged.loc[farm, "flagged"].mean() >= 0.95
    assert merged.loc[~farm, "flagged"].sum() == 0


def test_ip_networks_table_from_the_command_line(world_dir, tmp_path, capsys):
    # The synth command writes the world's IP-to-ASN table beside its events.
    args = ["detect", str(world_dir / "events.parquet"), "--ip-networks"]
    out = tmp_path / "results"
    assert main([*args, str(world_dir / "ip_networks.parquet"), "--out", str(out)]) == 0
    n_ips = pd.read_parquet(world_dir / "ip_networks.parquet")["ip"].nunique()
    placed = json.loads((out / "provenance.json").read_text())["input"]["n_ips_placed"]
    assert placed == n_ips
    assert "farm_proxy" in pd.read_parquet(out / "accounts.parquet").columns
    pd.DataFrame({"ip": ["1.2.3.4"]}).to_parquet(tmp_path / "nets.parquet")
    code = main([*args, str(tmp_path / "nets.parquet"), "--out", str(tmp_path / "x")])
    assert code == 2
    assert "problem(s) in ip_networks: missing column 'asn'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_dense_blocks_options_reach_the_run(world_dir, tmp_path):
    out = tmp_path / "results"
    args = [
        "detect",
        str(world_dir / "events.parquet"),
        "--dense-blocks",
        "0",
        "--no-split-blocks",
        "--no-card-groups",
        "--no-evidence-groups",
        "--no-attach-accounts",
    ]
    assert main([*args, "--out", str(out)]) == 0
    parameters = json.loads((out / "provenance.json").read_text())["parameters"]
    assert parameters["dense_blocks"] == 0
    assert parameters["split_blocks"] is False
    assert parameters["card_groups"] is False
    assert parameters["evidence_groups"] is False
    assert parameters["attach_accounts"] is False


def test_wide_log_and_account_attributes_from_the_command_line(tmp_path, capsys):
    requests = pd.DataFrame(
        {
            "account_id": [f"a{i}" for i in range(6)] * 2,
            "client_ip": ["10.0.0.1"] * 6 + ["10.0.0.2"] * 6,
            "asn": ["AS1"] * 12,
        }
    )
    accounts = pd.DataFrame({"account_id": [f"a{i}" for i in range(7)], "payment_fp": ["p"] * 7})
    requests.to_csv(tmp_path / "requests.csv", index=False)
    accounts.to_csv(tmp_path / "accounts.csv", index=False)
    code = main(
        [
            "detect",
            str(tmp_path / "requests.csv"),
            "--accounts",
            str(tmp_path / "accounts.csv"),
            "--attributes",
            "client_ip=ip,asn",
            "--account-attributes",
            "payment_fp=payment",
            "--out",
            str(tmp_path / "out"),
            "--format",
            "csv",
        ]
    )
    assert code == 0
    result = pd.read_csv(tmp_path / "out" / "accounts.csv")
    assert len(result) == 7
    assert result.set_index("account_id").loc["a6", "cluster_id"] == 0  # shares the card
    evidence = pd.read_csv(tmp_path / "out" / "evidence.csv")
    assert set(evidence["kind"]) == {"ip", "asn", "payment"}


def test_bad_input_exits_2_with_a_message_and_writes_nothing(tmp_path, capsys):
    pd.DataFrame({"account_id": ["a"], "value": ["x"]}).to_parquet(tmp_path / "events.parquet")
    out = tmp_path / "out"
    code = main(["detect", str(tmp_path / "events.parquet"), "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert "acctgraph: error:" in err
    assert "'kind'" in err
    assert not out.exists()


def test_existing_output_folder_is_refused_before_any_work(tmp_path, capsys):
    (tmp_path / "out").mkdir()
    code = main(["detect", str(tmp_path / "no-such-file.parquet"), "--out", str(tmp_path / "out")])
    assert code == 2
    assert "--force" in capsys.readouterr().err


def test_demo_reports_precision_and_recall(capsys):
    assert main(["demo", "--accounts", "2000"]) == 0
    printed = capsys.readouterr().out
    assert "precision 1.0000" in printed or "precision 0.9" in printed
    assert "farm-0" in printed


def test_progress_bar_is_drawn_on_request_and_quiet_otherwise(tmp_path):
    def run(*flags, env=None):
        return subprocess.run(
            [sys.executable, "-m", "acctgraph", "demo", "--accounts", "2000", *flags],
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            check=True,
        )

    # stderr is a pipe here, not a terminal: quiet unless asked.
    assert "stages" not in run().stderr
    drawn = run("--progress").stderr
    assert "acctgraph: 6/6 stages" in drawn
    assert "flagged" in drawn  # the last note: sizes, never identifiers
    assert "stages" in run(env={"ACCTGRAPH_PROGRESS": "1"}).stderr
    assert "stages" not in run("--no-progress", env={"ACCTGRAPH_PROGRESS": "1"}).stderr
