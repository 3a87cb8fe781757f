"""A sharded key-value store in the style of the thesis's Hydra (Figures 10, 11): keys are spread
over trustees on several machines, each shard a property on its own trustee thread; clients on
every thread put and get keys by delegating to the shard that owns them.

Run: python examples/kvstore.py [machines] [threads]
"""

from __future__ import annotations

import hashlib
import sys
from typing import Any

import gossamer
from gossamer.runtime import Trust, entrust, here, launch, spawn


@gossamer.closure(capture="", param="cbor", result="", name="examples.kvstore:put")
def put(shard: dict[str, Any], kv: list[Any]) -> None:
    shard[kv[0]] = kv[1]


@gossamer.closure(capture="", param="cbor", result="cbor", name="examples.kvstore:get")
def get(shard: dict[str, Any], key: str) -> Any:
    return shard.get(key)


@gossamer.closure(capture="", result="u64", name="examples.kvstore:count")
def count(shard: dict[str, Any]) -> int:
    return len(shard)


def shard_of(key: str, shards: int) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest(), "little") % shards


async def client(*shards: Trust) -> int:
    m, t = here()
    keys = [f"user:{m}:{t}:{i}" for i in range(40)]
    for k in keys:  # puts do not need an answer: apply_then, batched per shard
        shards[shard_of(k, len(shards))].apply_then(put, arg=[k, {"owner": [m, t], "n": len(k)}])
    hits = 0
    for k in keys:  # reads after writes of the same fiber see them ([REQ-7])
        v = await shards[shard_of(k, len(shards))].apply(get, arg=k)
        hits += v is not None and v["owner"] == [m, t]
    for s in shards:
        s.drop()
    return hits


async def gsm_main(machines: int, threads: int) -> list[int]:
    # one shard per (machine, thread): the trustees of the store
    shards = [await entrust({}, machine=m, thread=t) for m in range(machines) for t in range(threads)]
    handles = [spawn(client, *shards, machine=m, thread=t) for m in range(machines) for t in range(threads)]
    hits = [await h for h in handles]
    assert all(h == 40 for h in hits), hits
    sizes = [await s.apply(count) for s in shards]
    for s in shards:
        s.drop()
    return sizes


if __name__ == "__main__":
    m, t = (int(a) for a in ([*sys.argv[1:], "3", "2"])[:2])
    sizes = launch(gsm_main, m, t, machines=m, threads=t)
    print(f"{m} machines x {t} threads: {sum(sizes)} keys over {len(sizes)} shards: {sizes}")
