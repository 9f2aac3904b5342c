"""Rendezvous sharding: disjoint, covering, and adding a replica moves about 1/(N+1)."""

from __future__ import annotations

from discovery.sharding import owner, shard_from_hostname, this_shard

IDS = [f"app-{i % 16}-prod-mysql-{i:03d}-instance-{i % 4 + 1}" for i in range(3160)]


def test_two_shards_are_disjoint_and_cover() -> None:
    a = {i for i in IDS if owner(i, 2) == 0}
    b = {i for i in IDS if owner(i, 2) == 1}
    assert a.isdisjoint(b) and a | b == set(IDS)
    assert 0.4 < len(a) / len(IDS) < 0.6


def test_going_to_three_moves_about_a_third_and_only_to_the_new_shard() -> None:
    moved = [i for i in IDS if owner(i, 2) != owner(i, 3)]
    assert all(owner(i, 3) == 2 for i in moved)
    assert 0.28 < len(moved) / len(IDS) < 0.39


def test_shard_from_hostname() -> None:
    assert shard_from_hostname("aurora-discovery-2") == 2
    assert shard_from_hostname("laptop") is None
    assert this_shard(1, 3, shard_id_set=True) == 1
