"""The migration history builds the whole model, tears it down, and agrees with the models;
the search revision indexes the content that is already there, the money revision moves
the creators' tier prices into tiers (and back), the moderation revision groups the
reports already there into cases, and the delivery revision turns notification switches
into delivery settings (and back)."""

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Integer,
    Numeric,
    String,
    Uuid,
    column,
    insert,
    inspect,
    select,
    table,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from dreamlust import migrate
from dreamlust.config import Settings
from dreamlust.db import create_engine
from dreamlust.kit.ids import new_id
from dreamlust.models import Base
from dreamlust.search.index import INDEX_TABLE, is_index_table
from dreamlust.search.query import SearchQuery, hits
from tests.conftest import make_settings
from tests.fixtures.databases import empty_database
from tests.fixtures.schema import schema_drift


@pytest.fixture
async def fresh_settings(backend: str, tmp_path: Path) -> AsyncIterator[Settings]:
    async with empty_database(backend, tmp_path) as url:
        yield make_settings(url)


async def _tables(settings: Settings) -> set[str]:
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    return set(names) - {"alembic_version"}


def _without_search_index(tables: set[str]) -> set[str]:
    """The tables of the models: all but the search index's (which revision 0002 adds by
    hand, with shadow tables of its own on SQLite)."""
    index_tables = {name for name in tables if is_index_table(name)}
    assert INDEX_TABLE in index_tables
    return tables - index_tables


# What revisions 0004 (money), 0006 (notification events), 0007 (job cursors), 0008
# (moderation cases) and 0013 (view marks) add.
_LATER_TABLES = {
    "creator_tiers",
    "payment_events",
    "notification_events",
    "job_cursors",
    "moderation_cases",
    "reporter_records",
    "view_marks",
}


async def test_upgrade_downgrade_upgrade_round_trip(fresh_settings: Settings) -> None:
    model_tables = set(Base.metadata.tables)

    await migrate.upgrade(fresh_settings)
    assert _without_search_index(await _tables(fresh_settings)) == model_tables
    assert await migrate.current_revision(fresh_settings) == migrate.head_revision(fresh_settings)

    await migrate.downgrade(fresh_settings, "0001")
    assert await _tables(fresh_settings) == model_tables - _LATER_TABLES, (
        "the search index and the tables of later revisions are gone, all of them"
    )

    await migrate.downgrade(fresh_settings, "base")
    assert await _tables(fresh_settings) == set()
    assert await migrate.current_revision(fresh_settings) is None

    await migrate.upgrade(fresh_settings)
    assert _without_search_index(await _tables(fresh_settings)) == model_tables


async def test_models_and_migrations_agree(fresh_settings: Settings) -> None:
    await migrate.upgrade(fresh_settings)
    assert await schema_drift(fresh_settings) == []


# Rows as revision 0001 stores them, written without the models (which move on).
_USERS = table(
    "users",
    column("id", Uuid),
    column("email", String),
    column("username", String),
    column("password_hash", String),
    column("role", String),
    column("status", String),
    column("preferences", JSON),
)
_CREATORS = table(
    "creators",
    column("id", Uuid),
    column("user_id", Uuid),
    column("display_name", String),
    column("handle", String),
    column("status", String),
)
_CONTENT = table(
    "content",
    column("id", Uuid),
    column("creator_id", Uuid),
    column("title", String),
    column("description", String),
    column("type", String),
    column("status", String),
)
_PRICED_CREATORS = table(
    "creators",
    column("id", Uuid),
    column("user_id", Uuid),
    column("display_name", String),
    column("handle", String),
    column("status", String),
    column("payout_currency", String),
    column("price_basic", Numeric(12, 2)),
    column("price_vip", Numeric(12, 2)),
)
_TIERS = table(
    "creator_tiers",
    column("creator_id", Uuid),
    column("tier", String),
    column("price", Numeric(12, 2)),
    column("currency", String),
    column("level", Integer),
)
_TAGS = table("tags", column("id", Uuid), column("name", String), column("slug", String))
_CONTENT_TAGS = table("content_tags", column("content_id", Uuid), column("tag_id", Uuid))


async def test_the_search_revision_indexes_the_content_already_there(
    fresh_settings: Settings,
) -> None:
    await migrate.upgrade(fresh_settings, "0001")
    user_id, creator_id, content_id, tag_id = new_id(), new_id(), new_id(), new_id()
    engine = create_engine(fresh_settings)
    try:
        async with engine.begin() as connection:
            for statement in (
                insert(_USERS).values(
                    id=user_id,
                    email="old@example.com",
                    username="old",
                    password_hash="x",
                    role="CREATOR",
                    status="ACTIVE",
                    preferences={},
                ),
                insert(_CREATORS).values(
                    id=creator_id,
                    user_id=user_id,
                    display_name="Olga Vance",
                    handle="ovance",
                    status="APPROVED",
                ),
                insert(_CONTENT).values(
                    id=content_id,
                    creator_id=creator_id,
                    title="Tundra",
                    description="Reindeer herds.",
                    type="VIDEO",
                    status="DRAFT",
                ),
                insert(_TAGS).values(id=tag_id, name="arctic", slug="arctic"),
                insert(_CONTENT_TAGS).values(content_id=content_id, tag_id=tag_id),
            ):
                await connection.execute(statement)

        await migrate.upgrade(fresh_settings)

        async with engine.connect() as connection:
            dialect = connection.dialect.name
            for words in ("tundra", "reindeer", "arctic", "olga", "ovance"):
                query = SearchQuery.parse(words)
                found = await connection.scalars(
                    select(hits(dialect).c.content_id), query.params(dialect)
                )
                assert list(found) == [content_id], words
    finally:
        await engine.dispose()


async def test_the_money_revision_moves_tier_prices_into_tiers_and_back(
    fresh_settings: Settings,
) -> None:
    await migrate.upgrade(fresh_settings, "0003")
    user_id, creator_id = new_id(), new_id()
    engine = create_engine(fresh_settings)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                insert(_USERS).values(
                    id=user_id,
                    email="priced@example.com",
                    username="priced",
                    password_hash="x",
                    role="CREATOR",
                    status="ACTIVE",
                    preferences={},
                )
            )
            await connection.execute(
                insert(_PRICED_CREATORS).values(
                    id=creator_id,
                    user_id=user_id,
                    display_name="Priced",
                    handle="priced",
                    status="APPROVED",
                    payout_currency="EUR",
                    price_basic=Decimal("4.99"),
                    price_vip=Decimal("20.00"),
                )
            )

        await migrate.upgrade(fresh_settings)
        async with engine.connect() as connection:
            tiers = (await connection.execute(select(_TIERS).order_by(_TIERS.c.level))).all()
        assert [(row.creator_id, row.tier, row.currency, row.level) for row in tiers] == [
            (creator_id, "BASIC", "EUR", 1),
            (creator_id, "VIP", "EUR", 3),
        ]
        assert [Decimal(str(row.price)) for row in tiers] == [Decimal("4.99"), Decimal("20.00")]

        await migrate.downgrade(fresh_settings, "0003")
        async with engine.connect() as connection:
            prices = (
                await connection.execute(
                    select(_PRICED_CREATORS.c.price_basic, _PRICED_CREATORS.c.price_vip)
                )
            ).one()
        assert [Decimal(str(price)) for price in prices] == [Decimal("4.99"), Decimal("20.00")]
    finally:
        await engine.dispose()


_REPORTS = table(
    "reports",
    column("id", Uuid),
    column("reporter_id", Uuid),
    column("target_type", String),
    column("target_id", Uuid),
    column("type", String),
    column("reason", String),
    column("status", String),
    column("action", String),
)
_CASES = table(
    "moderation_cases",
    column("id", Uuid),
    column("target_id", Uuid),
    column("status", String),
    column("report_count", Integer),
    column("score", Integer),
)
_CASE_OF_REPORTS = table(
    "reports", column("id", Uuid), column("case_id", Uuid), column("status", String)
)
_RECORDS = table(
    "reporter_records",
    column("user_id", Uuid),
    column("closed_reports", Integer),
    column("upheld_reports", Integer),
)


async def test_the_moderation_revision_groups_existing_reports_into_cases(
    fresh_settings: Settings,
) -> None:
    await migrate.upgrade(fresh_settings, "0007")
    first, second = new_id(), new_id()
    hot, cold = uuid.uuid4(), uuid.uuid4()
    reports = {name: new_id() for name in ("pending", "reviewed", "dismissed", "resolved")}
    engine = create_engine(fresh_settings)
    try:
        async with engine.begin() as connection:
            for user_id, name in ((first, "first"), (second, "second")):
                await connection.execute(
                    insert(_USERS).values(
                        id=user_id,
                        email=f"{name}@example.com",
                        username=name,
                        password_hash="x",
                        role="USER",
                        status="ACTIVE",
                        preferences={},
                    )
                )
            for name, reporter, target, status, action in (
                ("pending", first, hot, "PENDING", None),
                ("reviewed", second, hot, "UNDER_REVIEW", None),
                ("dismissed", first, hot, "DISMISSED", "NONE"),
                ("resolved", second, cold, "RESOLVED", "NONE"),
            ):
                await connection.execute(
                    insert(_REPORTS).values(
                        id=reports[name],
                        reporter_id=reporter,
                        target_type="USER",
                        target_id=target,
                        type="SPAM",
                        reason="spam",
                        status=status,
                        action=action,
                    )
                )

        await migrate.upgrade(fresh_settings)
        async with engine.connect() as connection:
            cases = {row.id: row for row in await connection.execute(select(_CASES))}
            assigned = {
                row.id: (row.case_id, row.status)
                for row in await connection.execute(select(_CASE_OF_REPORTS))
            }
            records = set((await connection.execute(select(_RECORDS))).all())

        open_case, _ = assigned[reports["pending"]]
        assert assigned[reports["reviewed"]] == (open_case, "UNDER_REVIEW")
        assert assigned[reports["pending"]] == (open_case, "UNDER_REVIEW")
        assert (cases[open_case].target_id, cases[open_case].status) == (hot, "UNDER_REVIEW")
        assert (cases[open_case].report_count, cases[open_case].score) == (2, 40)
        closed = {cases[assigned[reports[name]][0]].status for name in ("dismissed", "resolved")}
        assert closed == {"DISMISSED", "RESOLVED"}
        assert len(cases) == 3
        assert records == {(first, 1, 0), (second, 1, 1)}

        await migrate.downgrade(fresh_settings, "0007")
        async with engine.connect() as connection:
            kept = set(await connection.scalars(select(_REPORTS.c.id)))
        assert kept == set(reports.values())
    finally:
        await engine.dispose()


async def test_the_delivery_revision_turns_notification_switches_into_deliveries_and_back(
    fresh_settings: Settings,
) -> None:
    await migrate.upgrade(fresh_settings, "0008")
    switches = {"email": False, "push": True, "likes": False, "payments": True}
    engine = create_engine(fresh_settings)
    try:
        async with engine.begin() as connection:
            for name, preferences in (
                ("switched", {"theme": "dark", "notifications": switches}),
                ("untouched", {}),
            ):
                await connection.execute(
                    insert(_USERS).values(
                        id=new_id(),
                        email=f"{name}@example.com",
                        username=name,
                        password_hash="x",
                        role="USER",
                        status="ACTIVE",
                        preferences=preferences,
                    )
                )

        await migrate.upgrade(fresh_settings)
        assert await _preferences(engine) == {
            "switched": {
                "theme": "dark",
                "notifications": {"email": False, "likes": "off", "payments": "both"},
            },
            "untouched": {},
        }

        await migrate.downgrade(fresh_settings, "0008")
        after = await _preferences(engine)
        assert after["switched"]["notifications"] == {
            "email": False,
            "likes": False,
            "payments": True,
        }
    finally:
        await engine.dispose()


async def _preferences(engine: AsyncEngine) -> dict[str, Any]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(_USERS.c.username, _USERS.c.preferences))
        return {row.username: row.preferences for row in rows}
