"""Any sequence of adds, removes and reorders keeps a playlist equal to a plain list.

Hypothesis drives the API: pytest-asyncio runs each generated example of the async test
on the session's event loop, so generation and shrinking work as they do for sync tests.
Every example builds its own owner, content and playlist, which is why the function-scoped
fixtures (client, session) may be shared by the examples of one test.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.factories import make_content, make_creator, make_playlist
from tests.playlists.helpers import listed_content_ids, path, stored

POOL = 6  # content an example may add; small, so duplicates and removals of absent items occur
NOT_IN_ANY_PLAYLIST = uuid.UUID(int=1)


@dataclass(frozen=True)
class Add:
    content: int
    position: int | None


@dataclass(frozen=True)
class Remove:
    content: int


@dataclass(frozen=True)
class Reorder:
    """Sort the items by `keys` (one per pool content); a `flaw` makes the list wrong."""

    keys: tuple[int, ...]
    flaw: Literal["missing", "extra", "duplicate"] | None


Op = Add | Remove | Reorder

operations = st.one_of(
    st.builds(Add, st.integers(0, POOL - 1), st.none() | st.integers(0, POOL + 1)),
    st.builds(Remove, st.integers(0, POOL - 1)),
    st.builds(
        Reorder,
        st.tuples(*[st.integers(0, POOL)] * POOL),
        st.sampled_from([None, None, "missing", "extra", "duplicate"]),
    ),
)


def _order(op: Reorder, model: list[int]) -> list[int]:
    order = sorted(model, key=lambda content: op.keys[content])
    if op.flaw == "missing" and order:
        return order[:-1]
    if op.flaw == "duplicate" and order:
        return [*order, order[0]]
    if op.flaw is not None:  # "extra", or a flawed list for an empty playlist
        return [*order, -1]
    return order


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operations, max_size=15))
async def test_random_item_operations_match_a_list_model(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, ops: list[Op]
) -> None:
    creator = await make_creator(session)
    pool = [(await make_content(session, creator)).id for _ in range(POOL)]
    owner = await make_account(session)
    playlist = await make_playlist(session, owner)
    await session.commit()
    headers = headers_for(runtime, owner)
    items = path(playlist.id, "items")
    model: list[int] = []

    for op in ops:
        if isinstance(op, Add):
            body: dict[str, object] = {"content_id": str(pool[op.content])}
            if op.position is not None:
                body["position"] = op.position
            response = await client.post(items, json=body, headers=headers)
            if op.content in model:
                expected = 409
            elif op.position is not None and op.position > len(model):
                expected = 422
            else:
                expected = 201
                model.insert(len(model) if op.position is None else op.position, op.content)
        elif isinstance(op, Remove):
            url = path(playlist.id, "items", str(pool[op.content]))
            response = await client.delete(url, headers=headers)
            expected = 204 if op.content in model else 404
            if expected == 204:
                model.remove(op.content)
        else:
            order = _order(op, model)
            ids = [str(pool[index] if index >= 0 else NOT_IN_ANY_PLAYLIST) for index in order]
            response = await client.put(
                path(playlist.id, "items", "order"), json={"content_ids": ids}, headers=headers
            )
            expected = 409 if op.flaw is not None else 200
            if expected == 200:
                model = order

        assert response.status_code == expected, (op, response.text)
        state = await stored(session, playlist.id)
        assert state.content_ids == [pool[index] for index in model], op
        state.assert_dense()

    assert await listed_content_ids(client, playlist.id, headers) == [
        str(pool[index]) for index in model
    ]
