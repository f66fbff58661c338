"""Every revision steps down and up again with the demo data in the database, and keeps
the rows: after each step the database is at the revision asked for, and every table
there before and after the step has the same rows (same count, same primary keys) with
the same values in each column the step leaves as it was. At the end the schema still
agrees with the models and the counters with the rows they count.

PostgreSQL only: the digests of the rows are PostgreSQL's SQL (md5, string_agg); SQLite
runs the same history on empty databases in test_migrations.py.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, select

from dreamlust import migrate
from dreamlust.config import Settings
from dreamlust.counters import recount
from dreamlust.db import INCLUDE_DELETED, Database
from dreamlust.kit.ids import new_id
from dreamlust.models import (
    Content,
    Creator,
    EmailToken,
    IdempotencyRecord,
    JobCursor,
    MediaAsset,
    NotificationEvent,
    PaymentEvent,
    RefreshToken,
    ViewMark,
)
from dreamlust.models.enums import (
    Audience,
    EmailTokenPurpose,
    MediaAssetKind,
    MediaAssetStatus,
    NotificationType,
)
from dreamlust.seeding import seed_database
from tests.conftest import make_settings
from tests.fixtures.databases import empty_database
from tests.fixtures.schema import read_database, schema_drift

pytestmark = pytest.mark.postgresql_only

# Columns a revision rewrites on purpose, in both directions, with the table's columns
# unchanged; their values are compared neither way across that revision.
_REWRITTEN: dict[str, dict[str, set[str]]] = {
    # Notification switches become delivery settings and back: on the way down the
    # settings the switches never had (reviews, reports) go, and on the way up a type
    # that was on gets its default delivery, whichever it had before.
    "0009": {"users": {"preferences"}},
    # The table before uploads has no posters: a poster goes down as a thumbnail and
    # comes back up as one.
    "0010": {"media_assets": {"kind"}},
}


@pytest.fixture
async def seeded_settings(backend: str, tmp_path: Path) -> AsyncIterator[Settings]:
    """A database at the head revision holding the demo data, and a few rows in each
    table the demo data leaves empty."""
    async with empty_database(backend, tmp_path) as url:
        settings = make_settings(url)
        await migrate.upgrade(settings)
        await seed_database(settings, scale=1, random_seed=7)
        await _fill_the_tables_the_demo_data_leaves_empty(settings)
        yield settings


async def test_every_later_revision_steps_down_and_up_again_keeping_the_rows(
    seeded_settings: Settings,
) -> None:
    *later, _first = _history(seeded_settings)
    walk = await Walk.start(seeded_settings)
    assert sorted(name for name, state in walk.tables.items() if state.count == 0) == []

    for revision, below in later:
        await walk.down_across(revision, to=below)
        await walk.up_to(revision)
        await walk.down_across(revision, to=below)
    # Back to the head with the rows, each revision once more on the way.
    for revision, _below in reversed(later):
        await walk.up_to(revision)

    assert await migrate.current_revision(seeded_settings) == migrate.head_revision(seeded_settings)
    assert await schema_drift(seeded_settings) == []
    drifts = await recount.run(seeded_settings, check_only=True)
    assert [drift for drift in drifts if drift.rows] == []


async def test_the_first_revision_steps_down_to_nothing_and_up_again_with_rows_present(
    seeded_settings: Settings,
) -> None:
    first, below = _history(seeded_settings)[-1]
    assert below == "base"
    await migrate.downgrade(seeded_settings, first)
    walk = await Walk.start(seeded_settings)
    assert walk.tables != {}

    await walk.down_across(first, to=below)
    assert walk.tables == {}

    await walk.up_to(first)
    assert {state.count for state in walk.tables.values()} == {0}
    await migrate.upgrade(seeded_settings)
    assert await schema_drift(seeded_settings) == []


def _history(settings: Settings) -> list[tuple[str, str]]:
    """(revision, the revision below it) for every revision, the head first."""
    scripts = ScriptDirectory.from_config(migrate.alembic_config(settings))
    return [
        (script.revision, str(script.down_revision or "base"))
        for script in scripts.walk_revisions("base", "heads")
    ]


@dataclass(frozen=True)
class TableState:
    """A table's columns (name: type), its row count, and digests of its rows in primary
    key order: of the primary keys, and of each column's values."""

    columns: dict[str, str]
    count: int
    keys: str | None
    values: dict[str, str | None]


class Walk:
    """Steps through the migration history, one revision at a time, and checks after
    each step that it landed on its revision and changed no row it had to keep."""

    def __init__(self, settings: Settings, tables: dict[str, TableState]) -> None:
        self.settings = settings
        self.tables = tables

    @classmethod
    async def start(cls, settings: Settings) -> Walk:
        return cls(settings, await _snapshot(settings))

    async def down_across(self, revision: str, *, to: str) -> None:
        await migrate.downgrade(self.settings, to)
        await self._arrived(None if to == "base" else to, crossing=revision)

    async def up_to(self, revision: str) -> None:
        await migrate.upgrade(self.settings, revision)
        await self._arrived(revision, crossing=revision)

    async def _arrived(self, revision: str | None, *, crossing: str) -> None:
        assert await migrate.current_revision(self.settings) == revision
        tables = await _snapshot(self.settings)
        changes = _changes(self.tables, tables, _REWRITTEN.get(crossing, {}))
        assert changes == [], f"at {revision}, across {crossing}"
        self.tables = tables


def _changes(
    before: Mapping[str, TableState],
    after: Mapping[str, TableState],
    rewritten: Mapping[str, set[str]],
) -> list[str]:
    """What a step changed in the tables it kept: rows gone or added, and values changed
    in columns it did not add, drop or retype."""
    changes = []
    for name in sorted(before.keys() & after.keys()):
        was, now = before[name], after[name]
        if (was.count, was.keys) != (now.count, now.keys):
            changes.append(f"{name}: {was.count} rows became {now.count}, keys changed")
            continue
        kept = {column for column, type_ in was.columns.items() if now.columns.get(column) == type_}
        changed = sorted(
            column
            for column in kept - rewritten.get(name, set())
            if was.values[column] != now.values[column]
        )
        if changed:
            changes.append(f"{name}: values changed in {', '.join(changed)}")
    return changes


async def _snapshot(settings: Settings) -> dict[str, TableState]:
    return await read_database(settings, _read_tables)


def _read_tables(connection: Connection) -> dict[str, TableState]:
    inspector = inspect(connection)
    return {
        name: _read_table(connection, name)
        for name in inspector.get_table_names()
        if name != "alembic_version"
    }


def _read_table(connection: Connection, name: str) -> TableState:
    inspector = inspect(connection)
    quote = connection.dialect.identifier_preparer.quote
    columns = {column["name"]: str(column["type"]) for column in inspector.get_columns(name)}
    keys = inspector.get_pk_constraint(name)["constrained_columns"]
    assert keys, f"{name} has no primary key to order its rows by"
    order = ", ".join(quote(key) for key in keys)

    def digest(*names: str) -> str:
        listed = ", ".join(quote(column) for column in names)
        return f"md5(string_agg(ROW({listed})::text, E'\\n' ORDER BY {order}))"

    digests = ", ".join(digest(column) for column in columns)
    row = connection.exec_driver_sql(
        f"SELECT count(*), {digest(*keys)}, {digests} FROM {quote(name)}"  # noqa: S608 (reflected names, quoted)
    ).one()
    count, key_digest, *value_digests = row
    return TableState(columns, count, key_digest, dict(zip(columns, value_digests, strict=True)))


async def _fill_the_tables_the_demo_data_leaves_empty(settings: Settings) -> None:
    """Tokens, a stored payment response, a job's place, an undelivered notification, a
    provider event, an uploaded video with its poster and a view mark: rows the demo data
    has no use for, so that the walk has rows to keep in every table."""
    database = Database(settings)
    later = datetime.now(UTC) + timedelta(days=1)
    try:
        async with database.transaction() as session:
            content_id, user_id, creator_id = (
                await session.execute(
                    select(Content.id, Creator.user_id, Creator.id)
                    .join(Creator, Content.creator_id == Creator.id)
                    .order_by(Content.id)
                    .limit(1),
                    execution_options={INCLUDE_DELETED: True},
                )
            ).one()
            video_id = new_id()
            session.add_all(
                [
                    RefreshToken(
                        user_id=user_id, family_id=new_id(), token_hash="1" * 64, expires_at=later
                    ),
                    EmailToken(
                        user_id=user_id,
                        purpose=EmailTokenPurpose.VERIFY_EMAIL,
                        token_hash="2" * 64,
                        expires_at=later,
                    ),
                    IdempotencyRecord(
                        user_id=user_id,
                        key="tip-1",
                        request_hash="3" * 64,
                        response_status=201,
                        response_body='{"amount": "5.00"}',
                        expires_at=later,
                    ),
                    JobCursor(name="likes", position_at=later, position_id=new_id()),
                    NotificationEvent(
                        type=NotificationType.NEW_UPLOAD,
                        audience=Audience.FOLLOWERS,
                        actor_id=user_id,
                        creator_id=creator_id,
                        title="A new upload",
                    ),
                    PaymentEvent(
                        provider="test",
                        event_id="evt_1",
                        type="payment.succeeded",
                        payload={"amount": "5.00"},
                    ),
                    _ready_asset(video_id, user_id, content_id, MediaAssetKind.MEDIA, None),
                    ViewMark(content_id=content_id, viewer_hash="4" * 64, counted_at=later),
                ]
            )
            await session.flush()
            session.add(
                _ready_asset(new_id(), user_id, content_id, MediaAssetKind.POSTER, video_id)
            )
    finally:
        await database.dispose()


def _ready_asset(
    asset_id: uuid.UUID,
    owner_id: uuid.UUID,
    content_id: uuid.UUID,
    kind: MediaAssetKind,
    source_id: uuid.UUID | None,
) -> MediaAsset:
    storage_key = f"media/{content_id}/{kind.lower()}"
    return MediaAsset(
        id=asset_id,
        owner_id=owner_id,
        content_id=content_id,
        source_id=source_id,
        kind=kind,
        status=MediaAssetStatus.READY,
        storage_key=storage_key,
        mime_type="image/jpeg" if source_id else "video/mp4",
        file_size=4_096,
        upload_offset=4_096,
        checksum_sha256=hashlib.sha256(storage_key.encode()).hexdigest(),
    )
