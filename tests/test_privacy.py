import logging

import pandas as pd
import pytest

import acctgraph as ag
from acctgraph.cli import main

KEY = "a-test-key-of-more-than-16-bytes"


def test_tokens_are_keyed_stable_and_scoped_by_kind():
    p = ag.Pseudonymizer(KEY)
    assert p.token("1.2.3.4", kind="ip") == ag.Pseudonymizer(KEY).token("1.2.3.4", kind="ip")
    assert p.token("1.2.3.4", kind="ip") != ag.Pseudonymizer(KEY + "x").token("1.2.3.4", kind="ip")
    assert p.token("1.2.3.4", kind="ip") != p.token("1.2.3.4", kind="device")
    assert p.token("1.2.3.4", kind="ip").startswith("t_")
    assert KEY not in repr(p)


def test_short_or_missing_keys_are_refused(monkeypatch):
    with pytest.raises(ag.ConfigError, match="at least 16 bytes; got 5"):
        ag.Pseudonymizer("short")
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    with pytest.raises(ag.ConfigError, match="'NO_SUCH_KEY_VAR'.*not set"):
        ag.Pseudonymizer.from_env("NO_SUCH_KEY_VAR")


def test_pseudonymized_result_holds_no_raw_identifier_and_finds_the_same_farms(small_world):
    p = ag.Pseudonymizer(KEY, clear_kinds={"asn"})
    result = ag.detect(small_world.events, accounts=small_world.accounts, pseudonymizer=p)
    raw_ids = set(small_world.accounts["account_id"])
    raw_ips = set(small_world.events.loc[small_world.events["kind"] == "ip", "value"])
    assert not raw_ids & set(result.accounts["account_id"])
    assert not raw_ips & set(result.evidence["value"])
    assert set(result.evidence.loc[result.evidence["kind"] == "asn", "value"]) <= set(
        small_world.events["value"]
    )  # kept in clear
    assert result.provenance["pseudonymization"]["key_id"] == p.key_id
    # Map tokens back to raw ids and score against the truth.
    back = p.reveal(result.accounts["account_id"], small_world.accounts["account_id"])
    accounts = result.accounts.assign(account_id=result.accounts["account_id"].map(back))
    plain = ag.DetectionResult(
        accounts=accounts,
        clusters=result.clusters,
        evidence=result.evidence,
        hubs_dropped=result.hubs_dropped,
        threshold=result.threshold,
        provenance=result.provenance,
    )
    quality = ag.evaluate(plain, small_world.truth)
    assert quality["precision"] >= 0.95 and quality["recall"] >= 0.95


def test_an_analyst_with_the_key_maps_one_cluster_back(small_world):
    p = ag.Pseudonymizer(KEY)
    result = ag.detect(small_world.events, accounts=small_world.accounts, pseudonymizer=p)
    cluster = result.explain(0)
    ips = cluster.shared_attributes.query("kind == 'ip'")["value"]
    raw = small_world.events.loc[small_world.events["kind"] == "ip", "value"]
    found = p.reveal(ips, raw, kind="ip")
    assert len(found) == len(ips)
    assert all(p.token(v, kind="ip") == t for t, v in found.items())
    members = p.reveal(cluster.members["account_id"], small_world.accounts["account_id"])
    assert len(members) == len(cluster.members)


def test_logs_of_a_full_run_hold_no_raw_ip_or_account_id(small_world, tmp_path, caplog):
    world_dir = tmp_path / "world"
    world_dir.mkdir()
    small_world.events.to_parquet(world_dir / "events.parquet")
    small_world.accounts.to_parquet(world_dir / "accounts.parquet")
    caplog.set_level(logging.DEBUG)
    result = ag.detect(small_world.events, accounts=small_world.accounts)
    result.to_dir(tmp_path / "api")
    assert (
        main(
            [
                "-v",
                "detect",
                str(world_dir / "events.parquet"),
                "--accounts",
                str(world_dir / "accounts.parquet"),
                "--out",
                str(tmp_path / "cli"),
            ]
        )
        == 0
    )
    logged = caplog.text
    assert "ingested" in logged and "communities" in logged  # the run did log
    raw = set(small_world.events["value"]) | set(small_world.accounts["account_id"])
    tokens = set(logged.replace(",", " ").replace("'", " ").split())
    assert not tokens & raw


def test_cli_pseudonymizes_with_a_key_from_the_environment(small_world, tmp_path, monkeypatch):
    small_world.events.to_parquet(tmp_path / "events.parquet")
    monkeypatch.setenv("ACCTGRAPH_TEST_KEY", KEY)
    assert (
        main(
            [
                "detect",
                str(tmp_path / "events.parquet"),
                "--out",
                str(tmp_path / "out"),
                "--pseudonymize-key-env",
                "ACCTGRAPH_TEST_KEY",
                "--clear-kinds",
                "asn",
            ]
        )
        == 0
    )
    evidence = pd.read_parquet(tmp_path / "out" / "evidence.parquet")
    accounts = pd.read_parquet(tmp_path / "out" / "accounts.parquet")
    assert not set(evidence["value"]) & set(small_world.events.query("kind != 'asn'")["value"])
    assert not set(accounts["account_id"]) & set(small_world.accounts["account_id"])
    assert KEY not in (tmp_path / "out" / "provenance.json").read_text()
