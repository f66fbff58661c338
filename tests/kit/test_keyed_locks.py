"""Locks by key: one per key while it is held or waited for, none left once unused."""

from __future__ import annotations

import asyncio

from dreamlust.kit.keyed_locks import KeyedLocks


async def test_a_key_has_one_lock_while_it_is_held_and_none_after() -> None:
    locks = KeyedLocks()
    order: list[str] = []

    async def turn(key: str, name: str) -> None:
        async with locks[key]:
            order.append(f"{name} in")
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            order.append(f"{name} out")

    await asyncio.gather(turn("a", "first"), turn("a", "second"), turn("b", "other"))

    assert order.index("first out") < order.index("second in")  # one key: one at a time
    assert order.index("other in") < order.index("first out")  # another key: not held up
    assert len(locks) == 0


def test_different_keys_have_different_locks() -> None:
    locks = KeyedLocks()
    held = locks["a"]

    assert locks["a"] is held
    assert locks["b"] is not held
