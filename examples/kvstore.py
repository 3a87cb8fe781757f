"""A key-value store in the shape of the thesis's Hydra experiments (Figures 10 and 11).

The rack has two kinds of machine (SPEC.md section 1.2):

* server machines: `trustees` dedicated trustee threads (Figure 11: 6) that hold the shards and run
  no client fiber, and `query` threads (Figure 11: 26) that handle queries;
* client-only machines (Figure 11: 4 of them, 768 threads in all): no trustee thread at all.

Each shard is a dict entrusted to one trustee thread of one server. In Gossamer a query *is* a
delegation, so every query thread and every client thread sends its puts (`apply_then`, batched per
shard) and gets (`apply`) straight to the trustee that owns the key; nothing else runs on the
trustee threads. (Figure 10's Hydra has 6 trustees per server too; its Redis baseline is not here.)

Run: python examples/kvstore.py [servers] [client_machines] [client_threads] [ops]
         python examples/kvstore.py --figure-11 [servers]   # 6 + 26 threads a server, 4 x 192 clients
"""

from __future__ import annotations

import hashlib
import sys
from typing import Any

import gossamer
from gossamer.runtime import Trust, entrust, here, launch, machine_shape, spawn

#: Figure 11: "6 dedicated trustee and 26 threads to handle incoming client queries" per server,
#: "4 machines with 768 threads" of clients
FIGURE_11 = {"trustees": 6, "query": 26, "client_machines": 4, "client_threads": 192}


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


def shape(servers: int, trustees: int, query: int, client_machines: int, client_threads: int) -> list[Any]:
    """The rack: servers of `trustees + query` threads (trustees first), then client-only machines."""
    return [(trustees + query, trustees)] * servers + [(client_threads, 0)] * client_machines


async def client(ops: int, *shards: Trust) -> int:
    """`ops` puts then `ops` gets of this thread's own keys; the number of gets that saw the put."""
    m, t = here()
    keys = [f"user:{m}:{t}:{i}" for i in range(ops)]
    for k in keys:  # puts need no answer: apply_then, batched per shard; yields when the queue is full
        await shards[shard_of(k, len(shards))].apply_then(put, arg=[k, {"owner": [m, t], "n": len(k)}])
    hits = 0
    for k in keys:  # reads after writes of the same fiber see them ([REQ-7])
        v = await shards[shard_of(k, len(shards))].apply(get, arg=k)
        hits += v is not None and v["owner"] == [m, t]
    for s in shards:
        s.drop()
    return hits


async def gsm_main(servers: int, client_machines: int, ops: int) -> list[int]:
    """Entrust one shard per trustee thread of every server; run `client` on every query thread
    and every thread of the client machines; return the keys each shard holds."""
    shards = [await entrust({}, machine=m, thread=t) for m in range(servers) for t in machine_shape(m).trustees]
    clients = [(m, t) for m in range(servers + client_machines) for t in range(machine_shape(m).threads)
               if t not in machine_shape(m).trustees]  # the trustee threads stay dedicated
    handles = [spawn(client, ops, *shards, machine=m, thread=t) for m, t in clients]
    hits = [await h for h in handles]
    assert all(h == ops for h in hits), hits
    sizes = [await s.apply(count) for s in shards]
    for s in shards:
        s.drop()
    return sizes


def run(servers: int, trustees: int, query: int, client_machines: int, client_threads: int, ops: int,
        seed: int = 0) -> list[int]:
    return launch(gsm_main, servers, client_machines, ops,
                  shape=shape(servers, trustees, query, client_machines, client_threads), seed=seed)


if __name__ == "__main__":
    nums = [int(a) for a in sys.argv[1:] if not a.startswith("--")]
    if "--figure-11" in sys.argv:
        f = FIGURE_11
        servers, ops = (nums or [1])[0], 2
        trustees, query, cm, ct = f["trustees"], f["query"], f["client_machines"], f["client_threads"]
    else:
        servers, cm, ct, ops = [*nums, *[2, 2, 3, 20][len(nums):]][:4]
        trustees, query = 2, 2
    sizes = run(servers, trustees, query, cm, ct, ops)
    threads = servers * query + cm * ct
    print(f"{servers} servers x ({trustees} trustees + {query} query threads), {cm} client machines x {ct} "
          f"threads: {threads} client threads, {sum(sizes)} keys over {len(sizes)} shards: {sizes}")
