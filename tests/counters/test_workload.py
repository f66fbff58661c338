"""After a randomized concurrent workload of views, likes, comments (create, reply,
delete, restore), follows and playlists (add, remove, reorder), `dreamlust recount
--check` reports zero drift."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.app import create_app
from dreamlust.config import Settings
from dreamlust.counters import recount
from dreamlust.db import INCLUDE_DELETED, Database
from dreamlust.models import Comment, Content, Follow, Like, PlaylistItem, View
from dreamlust.models.enums import UserRole
from dreamlust.runtime import Runtime
from tests.counters import test_recount
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.factories import make_content, make_creator
from tests.fixtures.runtimes import own_runtime
from tests.fixtures.serving import served

API = "/api/v1"
SEED = 20240605
OPERATIONS = 240
BATCH = 16
USER_AGENTS = [f"workload-agent/{number}" for number in range(6)]

recount_cli = test_recount.recount_cli


@dataclass
class App:
    client: httpx.AsyncClient
    runtime: Runtime


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[App]:
    """The application with a comment rate far above what the workload posts; the rest
    of its settings, and the database, are the suite's."""
    async with (
        own_runtime(settings, rate_limit_comment="100000/minute") as runtime,
        served(create_app(runtime.settings, runtime=runtime)) as client,
    ):
        yield App(client, runtime)


@dataclass(frozen=True)
class Item:
    id: uuid.UUID
    owner: int  # index into World.creators
    allows_comments: bool


@dataclass(frozen=True)
class Posted:
    id: str
    item: Item
    author: int  # index into World.users


@dataclass
class World:
    """The seeded accounts and items, and what the workload learned so far (a hint for
    choosing the next operation: the responses are what decide)."""

    creators: list[tuple[str, dict[str, str]]]  # (handle, owner's headers)
    items: list[Item]
    users: list[dict[str, str]]
    staff: dict[str, str]
    comments: list[Posted] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)
    playlists: list[tuple[str, int]] = field(default_factory=list)  # (id, owner index)
    entries: set[tuple[str, uuid.UUID]] = field(default_factory=set)  # (playlist, content)


async def _seed(session: AsyncSession, runtime: Runtime) -> World:
    creators, items = [], []
    for number in range(3):
        owner = await make_account(session, role=UserRole.CREATOR, is_creator=True)
        creator = await make_creator(session, user=owner)
        creators.append((creator.handle, headers_for(runtime, owner)))
        for allows_comments in (True, number != 0):
            content = await make_content(session, creator, allow_comments=allows_comments)
            items.append(Item(content.id, number, allows_comments))
    await session.commit()
    users = [headers_for(runtime, await make_account(session)) for _ in range(8)]
    staff = headers_for(runtime, await make_account(session, role=UserRole.MODERATOR))
    return World(creators, items, users, staff)


# An operation: (what it did, response status, response text) for every request it made.
Outcome = list[tuple[str, int, str]]
Operation = Callable[[], Awaitable[Outcome]]


def _choose(world: World, rng: random.Random, client: httpx.AsyncClient) -> Operation:
    """One operation, with every choice drawn from `rng` now, so a seed replays a run."""
    kinds = ["like", "unlike", "follow", "unfollow", "view", "view", "comment", "comment"]
    kinds += ["delete", "restore", "playlist", "add", "add", "remove", "reorder"]
    kind = rng.choice(kinds)
    if kind in ("delete", "restore") and not world.comments:
        kind = "comment"
    if kind == "playlist" and len(world.playlists) >= 8:
        kind = "add"
    if kind in ("add", "remove", "reorder") and not world.playlists:
        kind = "playlist"
    item = rng.choice(world.items)
    user = rng.randrange(len(world.users))
    headers = world.users[user]
    own_rng = random.Random(rng.random())

    async def one(label: str, request: Awaitable[httpx.Response], allowed: set[int]) -> Outcome:
        response = await request
        ok = response.status_code in allowed
        return [(label if ok else f"{label} (allowed {sorted(allowed)})", *_status(response))]

    if kind in ("like", "unlike"):
        method = client.put if kind == "like" else client.delete
        return lambda: one(kind, method(f"{API}/content/{item.id}/like", headers=headers), {200})
    if kind in ("follow", "unfollow"):
        handle = rng.choice(world.creators)[0]
        method = client.put if kind == "follow" else client.delete
        path = f"{API}/creators/{handle}/follow"
        return lambda: one(kind, method(path, headers=headers), {200})
    if kind == "view":
        signed_in = rng.random() < 0.5
        view_headers = headers if signed_in else {"User-Agent": rng.choice(USER_AGENTS)}
        body = {"duration": rng.randint(1, 600)} if rng.random() < 0.7 else None
        path = f"{API}/content/{item.id}/views"
        return lambda: one("view", client.post(path, json=body, headers=view_headers), {202})
    if kind == "comment":
        on_item = [posted for posted in world.comments if posted.item == item]
        parent = rng.choice(on_item) if on_item and rng.random() < 0.5 else None
        return lambda: _comment(world, client, item, user, parent)
    if kind == "delete":
        posted = rng.choice(world.comments)
        actor = rng.choice(["author", "author", "owner", "staff"])
        by = {
            "author": world.users[posted.author],
            "owner": world.creators[posted.item.owner][1],
            "staff": world.staff,
        }[actor]
        return lambda: _delete(world, client, posted, by, actor)
    if kind == "restore":
        gone = [posted for posted in world.comments if posted.id in world.deleted]
        posted = rng.choice(gone or world.comments)
        return lambda: _restore(world, client, posted)
    if kind == "playlist":
        name = f"Mix {rng.randrange(10**6)}"
        return lambda: _create_playlist(world, client, user, name)
    playlist, owner = rng.choice(world.playlists)
    owner_headers = world.users[owner]
    base = f"{API}/playlists/{playlist}"
    if kind == "add":
        position = rng.choice([None, None, 0, 1])
        body = {"content_id": str(item.id)} | ({} if position is None else {"position": position})
        # 409: already in it; 422: a position past the end (another request removed one).
        allowed = {201, 409} if position is None else {201, 409, 422}
        return lambda: _entry(
            world,
            "add",
            client.post(f"{base}/items", json=body, headers=owner_headers),
            allowed,
            (playlist, item.id),
        )
    if kind == "remove":
        held = sorted(content for held_by, content in world.entries if held_by == playlist)
        content_id = rng.choice(held) if held and rng.random() < 0.8 else item.id
        path = f"{base}/items/{content_id}"
        # 404: not in it (never added, or removed meanwhile).
        return lambda: _entry(
            world,
            "remove",
            client.delete(path, headers=owner_headers),
            {204, 404},
            (playlist, content_id),
        )
    return lambda: _reorder(client, base, owner_headers, own_rng)


def _status(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.text[:300]


async def _entry(
    world: World,
    label: str,
    request: Awaitable[httpx.Response],
    allowed: set[int],
    entry: tuple[str, uuid.UUID],
) -> Outcome:
    response = await request
    if response.status_code in (201, 409) and label == "add":
        world.entries.add(entry)
    if response.status_code in (204, 404) and label == "remove":
        world.entries.discard(entry)
    ok = response.status_code in allowed
    return [(label if ok else f"{label} (allowed {sorted(allowed)})", *_status(response))]


async def _comment(
    world: World, client: httpx.AsyncClient, item: Item, user: int, parent: Posted | None
) -> Outcome:
    body = {"text": f"comment by {user}"} | ({"parent_id": parent.id} if parent else {})
    response = await client.post(
        f"{API}/content/{item.id}/comments", json=body, headers=world.users[user]
    )
    if response.status_code == 201:
        world.comments.append(Posted(response.json()["id"], item, user))
    allowed = {201} if item.allows_comments else {403}
    if parent is not None and item.allows_comments:
        allowed.add(422)  # the parent was deleted meanwhile
    label = "reply" if parent else "comment"
    ok = response.status_code in allowed
    return [(label if ok else f"{label} (allowed {sorted(allowed)})", *_status(response))]


async def _delete(
    world: World, client: httpx.AsyncClient, posted: Posted, headers: dict[str, str], actor: str
) -> Outcome:
    response = await client.delete(f"{API}/comments/{posted.id}", headers=headers)
    if response.status_code == 204:
        world.deleted.add(posted.id)
    ok = response.status_code in {204, 404}  # 404: deleted already
    return [("delete" if ok else f"delete by {actor} (allowed [204, 404])", *_status(response))]


async def _restore(world: World, client: httpx.AsyncClient, posted: Posted) -> Outcome:
    response = await client.post(f"{API}/comments/{posted.id}/restore", headers=world.staff)
    if response.status_code == 200:
        world.deleted.discard(posted.id)
    ok = response.status_code in {200, 409}  # 409: not deleted, or restored meanwhile
    return [("restore" if ok else "restore (allowed [200, 409])", *_status(response))]


async def _create_playlist(
    world: World, client: httpx.AsyncClient, user: int, name: str
) -> Outcome:
    response = await client.post(f"{API}/playlists", json={"name": name}, headers=world.users[user])
    if response.status_code == 201:
        world.playlists.append((response.json()["id"], user))
    ok = response.status_code == 201
    return [("playlist" if ok else "playlist (allowed [201])", *_status(response))]


async def _reorder(
    client: httpx.AsyncClient, base: str, headers: dict[str, str], rng: random.Random
) -> Outcome:
    read = await client.get(f"{base}/items", params={"limit": "100"}, headers=headers)
    ok = read.status_code == 200
    outcome: Outcome = [("read items" if ok else "read items (allowed [200])", *_status(read))]
    if not ok:
        return outcome
    order = [entry["content"]["id"] for entry in read.json()["items"]]
    rng.shuffle(order)
    response = await client.put(f"{base}/items/order", json={"content_ids": order}, headers=headers)
    ok = response.status_code in {200, 409}  # 409: the items changed since the read
    outcome.append(("reorder" if ok else "reorder (allowed [200, 409])", *_status(response)))
    return outcome


async def _rows(session: AsyncSession) -> dict[str, int]:
    async def count(model: type[Any], *where: Any) -> int:
        query = select(func.count()).select_from(model).where(*where)
        return int(await session.scalar(query.execution_options(**{INCLUDE_DELETED: True})) or 0)

    counts = {
        "likes": await count(Like),
        "follows": await count(Follow),
        "views": await count(View),
        "playlist items": await count(PlaylistItem),
        "comments": await count(Comment),
        "replies": await count(Comment, Comment.parent_id.is_not(None)),
        "deleted comments": await count(Comment, Comment.deleted_at.is_not(None)),
    }
    await session.commit()
    return counts


async def test_a_random_concurrent_workload_leaves_no_drift(
    app: App, session: AsyncSession, database: Database, recount_cli: test_recount.Invoke
) -> None:
    world = await _seed(session, app.runtime)
    # The factories leave the creators' content_count alone: start from exact counters.
    async with database.transaction() as transaction:
        await recount.recount(transaction)
    rng = random.Random(SEED)
    done: Counter[str] = Counter()

    for start in range(0, OPERATIONS, BATCH):
        batch = [_choose(world, rng, app.client) for _ in range(min(BATCH, OPERATIONS - start))]
        outcomes = await asyncio.gather(*(operation() for operation in batch))
        for label, status, text in (entry for outcome in outcomes for entry in outcome):
            assert status < 500, f"seed {SEED}, batch at {start}: {label} → {status} {text}"
            assert "allowed" not in label, (
                f"seed {SEED}, batch at {start}: {label} → {status} {text}"
            )
            if status < 300:
                done[label] += 1

    drifts = await recount.check(session)
    await session.commit()
    off = [drift for drift in drifts if drift.rows or drift.difference]
    assert off == [], f"seed {SEED}: drift after the workload {off}; successes {dict(done)}"
    checked = await recount_cli("--check")
    assert checked.exit_code == 0, f"seed {SEED}: {checked.output}"
    assert "No drift." in checked.output

    # The workload did something of every kind, so no drift cannot come from doing nothing.
    for kind in ("like", "unlike", "follow", "unfollow", "view", "comment"):
        assert done[kind] >= 5, f"seed {SEED}: only {done[kind]} {kind}; {dict(done)}"
    # A reply needs a comment still there when it lands: how many succeed depends on how
    # the batch's requests interleave (with deletes of their parents), not on the seed.
    for kind in ("reply", "delete", "restore", "playlist", "add", "remove", "reorder"):
        assert done[kind] >= 2, f"seed {SEED}: only {done[kind]} {kind}; {dict(done)}"
    rows = await _rows(session)
    for name, least in (
        ("likes", 5),
        ("follows", 3),
        ("views", 10),
        ("comments", 20),
        ("replies", 5),
        ("deleted comments", 1),
        ("playlist items", 5),
    ):
        assert rows[name] >= least, f"seed {SEED}: {rows}; successes {dict(done)}"
    assert await session.scalar(select(func.sum(Content.view_count))) == rows["views"]
    await session.commit()
