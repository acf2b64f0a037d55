import json

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import acctgraph as ag


def test_results_written_as_parquet_load_back_unchanged(small_result, tmp_path):
    out = small_result.to_dir(tmp_path / "run")
    assert sorted(p.name for p in out.iterdir()) == [
        "accounts.parquet",
        "cluster_links.parquet",
        "clusters.parquet",
        "evidence.parquet",
        "hubs_dropped.parquet",
        "provenance.json",
        "timeline.parquet",
    ]
    assert_frame_equal(pd.read_parquet(out / "accounts.parquet"), small_result.accounts)
    assert_frame_equal(pd.read_parquet(out / "clusters.parquet"), small_result.clusters)
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["parameters"]["seed"] == 0
    loaded = ag.DetectionResult.from_dir(out)
    for name in ("accounts", "clusters", "evidence", "cluster_links", "timeline"):
        assert_frame_equal(getattr(loaded, name), getattr(small_result, name))
    assert loaded.threshold == small_result.threshold


def test_csv_on_request(small_result, tmp_path):
    out = small_result.to_dir(tmp_path / "run", fmt="csv")
    accounts = pd.read_csv(out / "accounts.csv")
    assert len(accounts) == len(small_result.accounts)
    with pytest.raises(ag.ConfigError, match="fmt must be 'parquet' or 'csv'; got 'xlsx'"):
        small_result.to_dir(tmp_path / "other", fmt="xlsx")


def test_existing_output_folder_is_refused_unless_forced(small_result, tmp_path):
    target = tmp_path / "run"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(ag.OutputError, match="exists; pass force=True"):
        small_result.to_dir(target)
    assert (target / "keep.txt").read_text() == "mine"
    small_result.to_dir(target, force=True)
    assert not (target / "keep.txt").exists()
    assert (target / "accounts.parquet").exists()
    # No temporary or backup folders are left beside the output.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


@pytest.mark.parametrize("frame", ["clusters", "cluster_links"])
def test_failed_write_leaves_no_partial_output(small_result, tmp_path, frame):
    # A column parquet cannot store makes the write fail half-way: in the
    # frames written one after another, or in the member links, written in
    # a thread beside them.
    frames = {
        name: getattr(small_result, name)
        for name in ("accounts", "clusters", "evidence", "hubs_dropped", "cluster_links")
    }
    frames[frame] = frames[frame].assign(bad=[object()] * len(frames[frame]))
    broken = ag.DetectionResult(
        **frames, threshold=small_result.threshold, provenance=small_result.provenance
    )
    with pytest.raises(ag.OutputError, match="cannot write results"):
        broken.to_dir(tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


def test_summary_names_no_raw_identifier(small_world, small_result):
    text = small_result.summary(top=20)
    values = set(small_world.events["value"]) | set(small_world.accounts["account_id"])
    assert "clusters" in text
    assert not any(token in values for token in text.replace(",", " ").split())


def test_results_counted_in_small_chunks_are_the_same_and_add_up(
    small_world, small_result, monkeypatch
):
    from acctgraph import results

    # Many attribute ranges and chunks: pairs and (cluster, day) cells whose
    # links fall in different chunks must still be counted once.
    monkeypatch.setattr(results, "_CHUNK", 97)
    monkeypatch.setattr(results, "_MAX_RANGES", 10**9)
    chunked = ag.detect(small_world.events, accounts=small_world.accounts)
    for name in ("accounts", "clusters", "evidence", "cluster_links", "timeline"):
        assert_frame_equal(getattr(chunked, name), getattr(small_result, name))

    # Every evidence row counts the members whose links cluster_links holds.
    # observed=True: pandas 3's default, which pandas 2 warns it will become ("kind"
    # is categorical).
    per_pair = chunked.cluster_links.groupby(["cluster_id", "kind", "value"], observed=True).size()
    evidence = chunked.evidence.set_index(["cluster_id", "kind", "value"])["n_members"]
    assert len(per_pair) == len(evidence)
    assert (evidence.loc[per_pair.index].to_numpy() == per_pair.to_numpy()).all()
    # The timeline's creations per cluster are its members with a creation time.
    accounts = chunked.accounts
    members = accounts[(accounts["cluster_id"] >= 0) & accounts["created_at"].notna()]
    created = chunked.timeline.groupby("cluster_id")["accounts_created"].sum()
    expected = members.groupby("cluster_id").size()
    assert created[created > 0].sort_index().equals(expected.sort_index())


def test_cluster_links_store_kinds_as_codes_and_one_cluster_as_text(small_result):
    links = small_result.cluster_links
    assert isinstance(links["kind"].dtype, pd.CategoricalDtype)
    assert set(links["kind"].cat.categories) >= set(small_result.evidence["kind"])
    cluster = int(links["cluster_id"].iloc[0])
    one = small_result.explain(cluster).links
    assert not isinstance(one["kind"].dtype, pd.CategoricalDtype)
    # The same rows as the whole frame's, and text that joins like any string.
    whole = links[links["cluster_id"] == cluster]
    assert one["kind"].tolist() == whole["kind"].astype(str).tolist()
    keys = set(one["kind"] + ":" + one["value"])
    shared = small_result.explain(cluster).shared_attributes
    assert keys == set(shared["kind"] + ":" + shared["value"])
