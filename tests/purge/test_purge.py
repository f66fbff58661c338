"""`dreamlust purge`: rows soft-deleted longer ago than the retention go for good, with
their dependants, search documents and media files; the ledger keeps its rows with NULL
links, restorable rows stay, and every counter stays exact."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.counters import recount
from dreamlust.db import INCLUDE_DELETED, Database
from dreamlust.kit.clock import utcnow
from dreamlust.media.storage import derived_key, original_key
from dreamlust.models import (
    Comment,
    Content,
    Creator,
    Follow,
    Like,
    PlaylistItem,
    Transaction,
    User,
)
from dreamlust.models.enums import MediaAssetKind, TransactionStatus, TransactionType
from dreamlust.purge import service
from dreamlust.runtime import Runtime
from dreamlust.search import index as search_index
from tests.conftest import StatementCounter
from tests.fixtures.cli import Invoke
from tests.fixtures.comments import make_comment
from tests.fixtures.factories import (
    make_category,
    make_content,
    make_creator,
    make_playlist,
    make_subscription,
    make_tag,
    make_user,
    view_of,
)
from tests.fixtures.stored_media import store_asset

EVERY_ROW = {INCLUDE_DELETED: True}
LONG_AGO = timedelta(days=45)


@dataclass(frozen=True)
class Scene:
    """What a purge must remove, what it must keep, and the files it must delete."""

    removed: dict[str, set[uuid.UUID]]
    kept: dict[str, set[uuid.UUID]]
    files: list[str]
    kept_files: list[str]
    search_titles: dict[str, bool]
    ledger: set[uuid.UUID]


async def build_scene(session: AsyncSession, runtime: Runtime) -> Scene:
    long_ago, lately = utcnow() - LONG_AGO, utcnow() - timedelta(days=1)
    fan, leaver = await make_user(session), await make_user(session, deleted_at=long_ago)
    owner = await make_user(session)
    star = await make_creator(session, user=owner)
    gone = await make_creator(session, user=await make_user(session, deleted_at=long_ago))
    popular = await make_tag(session)

    clip = await make_content(session, star, tags=[popular])
    removed = await make_content(session, star, tags=[popular], deleted_at=long_ago)
    restorable = await make_content(session, star, deleted_at=lately)
    orphaned = await make_content(session, gone, tags=[popular])

    for item, viewers in ((clip, [fan, leaver, None]), (removed, [fan]), (orphaned, [fan])):
        for viewer in viewers:
            session.add(view_of(item, viewer))
    for item, user in ((clip, fan), (clip, leaver), (removed, fan), (orphaned, fan)):
        session.add(Like(content_id=item.id, user_id=user.id))
    for creator, user in ((star, fan), (star, leaver), (gone, fan)):
        session.add(Follow(creator_id=creator.id, user_id=user.id))
    await make_subscription(session, leaver, star)
    await make_subscription(session, fan, gone)

    watchlist = await make_playlist(session, fan)
    for position, item in enumerate((clip, removed, orphaned)):
        session.add(PlaylistItem(playlist_id=watchlist.id, content_id=item.id, position=position))
    dropped = await make_playlist(session, fan, deleted_at=long_ago)
    session.add(PlaylistItem(playlist_id=dropped.id, content_id=clip.id, position=0))
    leavers_list = await make_playlist(session, leaver)

    tombstone = await make_comment(session, clip, fan, deleted_at=long_ago)
    live_reply = await make_comment(session, clip, fan, parent=tombstone)
    thread = await make_comment(session, clip, fan, deleted_at=long_ago)
    dead_reply = await make_comment(session, clip, fan, parent=thread, deleted_at=long_ago)
    lately_deleted = await make_comment(session, clip, fan, deleted_at=lately)
    leavers_comment = await make_comment(session, clip, leaver)

    old_category = await make_category(session, deleted_at=long_ago)
    recent_category = await make_category(session, deleted_at=lately)

    storage = runtime.storage
    media = await store_asset(session, storage, owner, b"removed video", content=removed)
    poster = await store_asset(
        session, storage, owner, b"poster", source=media, kind=MediaAssetKind.POSTER
    )
    kept_media = await store_asset(session, storage, owner, b"clip", content=clip)
    avatar = await store_asset(session, storage, leaver, b"avatar", mime_type="image/png")

    ledger = [
        _payment(TransactionType.TIP, user=leaver, creator=star),
        _payment(TransactionType.PREMIUM_CONTENT, user=fan, creator=star, content=removed),
        _payment(TransactionType.TIP, user=fan, creator=gone),
    ]
    session.add_all(ledger)
    await session.flush()
    await search_index.reindex(session, [clip.id, removed.id, orphaned.id])
    await session.commit()
    # The factories leave the counters at zero: they are set from the rows, as the
    # live code would have moved them.
    async with runtime.database.transaction() as counting:
        await recount.recount(counting)
    return Scene(
        removed={
            "users": {leaver.id, gone.user_id},
            "creators": {gone.id},
            "content": {removed.id, orphaned.id},
            "playlists": {dropped.id, leavers_list.id},
            "comments": {thread.id, dead_reply.id},
            "categories": {old_category.id},
        },
        kept={
            "users": {fan.id, star.user_id},
            "creators": {star.id},
            "content": {clip.id, restorable.id},
            "playlists": {watchlist.id},
            "comments": {tombstone.id, live_reply.id, lately_deleted.id, leavers_comment.id},
            "categories": {recent_category.id},
        },
        files=[
            original_key(media.id),
            derived_key(media.id, "poster.jpg"),
            poster.storage_key,
            original_key(avatar.id),
        ],
        kept_files=[original_key(kept_media.id)],
        search_titles={clip.title: True, removed.title: False, orphaned.title: False},
        ledger={entry.id for entry in ledger},
    )


def _payment(
    kind: TransactionType,
    *,
    user: User,
    creator: Creator,
    content: Content | None = None,
) -> Transaction:
    return Transaction(
        type=kind,
        status=TransactionStatus.COMPLETED,
        user_id=user.id,
        creator_id=creator.id,
        content_id=content.id if content else None,
        amount=Decimal("5.00"),
        fee=Decimal("1.00"),
        currency="USD",
    )


async def existing(database: Database, table: str, ids: set[uuid.UUID]) -> set[uuid.UUID]:
    async with database.transaction(write=False) as session:
        rows = await session.execute(
            text(f"SELECT id FROM {table}"),  # noqa: S608 (a table name of this test)
        )
        stored = {uuid.UUID(str(row_id)) for (row_id,) in rows}
    return stored & ids


async def drift(database: Database) -> dict[str, tuple[int, int]]:
    async with database.transaction(write=False) as session:
        drifts = await recount.check(session)
    return {d.counter: (d.rows, d.difference) for d in drifts if d.rows}


async def search_finds(database: Database, title: str) -> bool:
    async with database.transaction(write=False) as session:
        if database.is_sqlite:
            statement = text("SELECT count(*) FROM content_search WHERE content_search MATCH :q")
            query = '"' + title + '"'
        else:
            statement = text(
                "SELECT count(*) FROM content_search "
                "WHERE document @@ phraseto_tsquery('simple', :q)"
            )
            query = title
        return bool(await session.scalar(statement, {"q": query}))


async def purge_now(runtime: Runtime, *, batch_size: int = 500) -> service.PurgeReport:
    return await service.purge(
        runtime.database,
        runtime.storage,
        cutoff=utcnow() - runtime.settings.soft_delete_retention,
        batch_size=batch_size,
    )


async def dry_run(runtime: Runtime) -> service.PurgeReport:
    return await service.count(
        runtime.database, cutoff=utcnow() - runtime.settings.soft_delete_retention
    )


async def test_purge_removes_what_expired_with_its_dependants_and_keeps_the_rest(
    session: AsyncSession, runtime: Runtime, database: Database
) -> None:
    scene = await build_scene(session, runtime)
    planned = await dry_run(runtime)
    assert planned.rows == {table: len(ids) for table, ids in scene.removed.items()}
    for table, ids in scene.removed.items():
        assert await existing(database, table, ids) == ids, "a dry run removes nothing"

    report = await purge_now(runtime)

    assert report.rows == planned.rows
    for table, ids in scene.removed.items():
        assert await existing(database, table, ids) == set(), table
    for table, ids in scene.kept.items():
        assert await existing(database, table, ids) == ids, table
    assert await drift(database) == {}
    for key in scene.files:
        assert await runtime.storage.stat(key) is None, key
    for key in scene.kept_files:
        assert await runtime.storage.stat(key) is not None, key
    for title, found in scene.search_titles.items():
        assert await search_finds(database, title) is found, title
    assert await existing(database, "transactions", scene.ledger) == scene.ledger
    assert (await dry_run(runtime)).total == 0
    assert (await purge_now(runtime)).total == 0, "a second purge finds nothing more"


async def test_the_ledger_keeps_its_rows_with_the_links_to_purged_rows_cleared(
    session: AsyncSession, runtime: Runtime, database: Database
) -> None:
    scene = await build_scene(session, runtime)
    async with database.transaction(write=False) as reader:
        before = await reader.scalar(select(func.sum(Transaction.amount - Transaction.fee)))

    await purge_now(runtime)

    async with database.transaction(write=False) as reader:
        entries = list(await reader.scalars(select(Transaction)))
        after = await reader.scalar(select(func.sum(Transaction.amount - Transaction.fee)))
    assert {entry.id for entry in entries} == scene.ledger
    assert after == before
    links = sorted(
        (entry.user_id is None, entry.creator_id is None, entry.content_id is None)
        for entry in entries
    )
    # The leaver's tip, the purchase of purged content, the tip to the purged creator.
    assert links == [(False, False, True), (False, True, True), (True, False, True)]


async def test_ten_thousand_expired_rows_go_in_batches_after_a_dry_run(
    session: AsyncSession, runtime: Runtime, database: Database, count_statements: StatementCounter
) -> None:
    star = await make_creator(session)
    clip = await make_content(session, star)
    fan = await make_user(session)
    await session.commit()
    long_ago = utcnow() - LONG_AGO
    async with database.transaction() as writer:
        await writer.execute(
            Comment.__table__.insert(),
            [
                {
                    "id": uuid.uuid4(),
                    "content_id": clip.id,
                    "user_id": fan.id,
                    "text": f"comment {number}",
                    "deleted_at": long_ago,
                }
                for number in range(10_000)
            ],
        )
        await recount.recount(writer)

    assert (await dry_run(runtime)).rows["comments"] == 10_000
    async with database.transaction(write=False) as reader:
        assert (
            await reader.scalar(
                select(func.count()).select_from(Comment), execution_options=EVERY_ROW
            )
            == 10_000
        )

    before = count_statements.count
    report = await purge_now(runtime, batch_size=1_000)

    assert report.rows["comments"] == 10_000
    deletes = [
        statement
        for statement in count_statements.statements[before:]
        if statement.lstrip().upper().startswith("DELETE FROM COMMENTS")
    ]
    assert len(deletes) == 10
    async with database.transaction(write=False) as reader:
        assert (
            await reader.scalar(
                select(func.count()).select_from(Comment), execution_options=EVERY_ROW
            )
            == 0
        )
    assert await drift(database) == {}


async def test_two_purges_at_once_remove_each_row_once_and_keep_the_counters_exact(
    session: AsyncSession, runtime: Runtime, database: Database
) -> None:
    scene = await build_scene(session, runtime)

    first, second = await asyncio.gather(
        purge_now(runtime, batch_size=1), purge_now(runtime, batch_size=1)
    )

    removed = {table: first.rows[table] + second.rows[table] for table in first.rows}
    assert removed == {table: len(ids) for table, ids in scene.removed.items()}
    assert await drift(database) == {}


async def test_the_command_counts_first_then_purges_and_recount_finds_no_drift(
    session: AsyncSession, runtime: Runtime, database: Database, dreamlust_cli: Invoke
) -> None:
    scene = await build_scene(session, runtime)

    counted = await dreamlust_cli("purge", "--dry-run")
    assert counted.exit_code == 0, counted.output
    assert "content: 2 to purge" in counted.output
    assert await existing(database, "content", scene.removed["content"]) == scene.removed["content"]

    purged = await dreamlust_cli("purge")
    assert purged.exit_code == 0, purged.output
    assert "comments: 2 purged" in purged.output
    assert "users: 2 purged" in purged.output
    assert await existing(database, "content", scene.removed["content"]) == set()

    checked = await dreamlust_cli("recount", "--check")
    assert checked.exit_code == 0, checked.output
