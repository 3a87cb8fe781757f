"""The thesis's Table II program (section 3.2.4), on a rack of two machines.

    let property = HashMap::new();
    let trust = gossamer::entrust(property);
    gossamer::spawn(|| {
        trust.apply(|property| property.insert("First Greeting", "Hello"));
        trust.apply_then(|property| property.insert("Second Greeting", "Hi"),
            |_| println!("added second greeting"));
    });

Run: python examples/table_ii.py
"""

from __future__ import annotations

from typing import Any

import gossamer
from gossamer.runtime import Trust, entrust, launch, spawn


@gossamer.closure(capture="", param="cbor", result="cbor", name="examples.table_ii:insert")
def insert(prop: dict[str, str], kv: list[str]) -> Any:
    old = prop.get(kv[0])
    prop[kv[0]] = kv[1]
    return old


@gossamer.closure(capture="", result="cbor", name="examples.table_ii:show")
def show(prop: dict[str, str]) -> dict[str, str]:
    return prop


async def fiber(trust: Trust) -> dict[str, str]:
    await trust.apply(insert, arg=["First Greeting", "Hello"])  # blocking
    trust.apply_then(insert, arg=["Second Greeting", "Hi"],  # non-blocking
                     then=lambda _: print("added second greeting"))
    # the same fiber's requests run in order ([REQ-7]): this sees both greetings
    result: dict[str, str] = await trust.apply(show)
    trust.drop()
    return result


async def gsm_main() -> dict[str, str]:
    trust = await entrust({}, machine=1)  # the property lives on machine 1
    result = await spawn(fiber, trust, machine=0, thread=1)  # the fiber gets its own clone
    trust.drop()
    return result


if __name__ == "__main__":
    print(launch(gsm_main, machines=2, threads=2))
