"""The audit log: every moderator and administrator action, newest first, filtered by
actor, action, target and time; append-only, down to the database."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.kit.clock import utcnow
from dreamlust.kit.ids import new_id
from dreamlust.models import AuditLogEntry, User
from dreamlust.models.enums import UserRole
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.moderation import (
    API,
    AUDIT,
    decided,
    every_page,
    get_json,
    moderator,
    published,
    reported,
)


async def test_moderator_and_administrator_actions_are_listed_newest_first_and_filtered(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    staff, admin = await moderator(session), await moderator(session, UserRole.ADMIN)
    content, _owner = await published(session)
    target = await make_account(session)
    report = await reported(client, runtime, await make_account(session), "CONTENT", content.id)
    await decided(client, runtime, staff, report["id"], "UNDER_REVIEW")
    await decided(
        client, runtime, staff, report["id"], "ACTION_TAKEN", action="HIDE_CONTENT", version=2
    )
    promoted = await client.patch(
        f"{API}/admin/users/{target.id}",
        json={"role": "CREATOR", "version": 1},
        headers=headers_for(runtime, admin),
    )
    assert promoted.status_code == 200, promoted.text

    everything = await every_page(client, runtime, staff, AUDIT, limit=2)
    by_admin = await every_page(client, runtime, staff, AUDIT, actor_id=str(admin.id))
    hides = await every_page(client, runtime, staff, AUDIT, action="content.hide")
    on_reports = await every_page(client, runtime, staff, AUDIT, target_type="report")
    on_user = await every_page(client, runtime, staff, AUDIT, target_id=str(target.id))
    both = await every_page(
        client, runtime, staff, AUDIT, actor_id=str(staff.id), target_type="content"
    )

    assert [entry["action"] for entry in everything] == [
        "user.update",
        "report.action_taken",
        "content.hide",
        "report.under_review",
    ]
    assert [entry["actor"] for entry in everything] == [
        {"id": str(admin.id), "username": admin.username},
        *[{"id": str(staff.id), "username": staff.username}] * 3,
    ]
    assert [entry["action"] for entry in by_admin] == ["user.update"]
    assert by_admin[0]["details"] == {
        "before": {"role": "USER", "status": "ACTIVE"},
        "after": {"role": "CREATOR", "status": "ACTIVE"},
    }
    assert [entry["target_id"] for entry in hides] == [str(content.id)]
    assert [entry["action"] for entry in on_reports] == [
        "report.action_taken",
        "report.under_review",
    ]
    assert [entry["action"] for entry in on_user] == ["user.update"]
    assert [entry["action"] for entry in both] == ["content.hide"]


async def test_a_time_range_bounds_the_list(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    staff = await moderator(session)
    now = utcnow()
    for days in (3, 2, 1):
        session.add(
            AuditLogEntry(
                actor_id=staff.id,
                action=f"test.{days}",
                target_type="user",
                target_id=staff.id,
                created_at=now - timedelta(days=days),
            )
        )
    await session.commit()
    since, until = (now - timedelta(days=2)).isoformat(), (now - timedelta(days=1)).isoformat()

    bounded = await every_page(client, runtime, staff, AUDIT, since=since, until=until)
    from_then = await every_page(client, runtime, staff, AUDIT, since=since)
    headers = headers_for(runtime, staff)
    backwards = await client.get(AUDIT, params={"since": until, "until": since}, headers=headers)
    naive = await client.get(AUDIT, params={"since": "2026-01-01T00:00:00"}, headers=headers)
    not_an_id = await client.get(AUDIT, params={"actor_id": "staff"}, headers=headers)

    assert [entry["action"] for entry in bounded] == ["test.2"]
    assert [entry["action"] for entry in from_then] == ["test.1", "test.2"]
    assert (backwards.status_code, naive.status_code, not_an_id.status_code) == (422, 422, 422)
    assert backwards.json()["errors"] == [
        {"loc": ["query", "until"], "msg": "until must be later than since."}
    ]


async def test_no_endpoint_changes_the_audit_log(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    admin = await moderator(session, UserRole.ADMIN)
    headers = headers_for(runtime, admin)

    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = await client.request(method, AUDIT, headers=headers)
        assert response.status_code == 405, (method, response.text)
    assert (await get_json(client, runtime, admin, AUDIT))["items"] == []


async def _an_entry(session: AsyncSession, actor: User) -> AuditLogEntry:
    entry = AuditLogEntry(
        actor_id=actor.id, action="user.ban", target_type="user", target_id=new_id(), details={}
    )
    session.add(entry)
    await session.commit()
    return entry


@pytest.mark.parametrize(
    "change",
    [
        {"action": "user.unban"},
        {"details": {"forged": True}},
        {"target_id": None},
        {"actor_id": None},  # the actor still exists
    ],
)
async def test_the_database_refuses_to_change_an_entry(
    session: AsyncSession, change: dict[str, object]
) -> None:
    entry_id = (await _an_entry(session, await moderator(session))).id

    with pytest.raises(IntegrityError, match="append-only"):
        await session.execute(
            update(AuditLogEntry).where(AuditLogEntry.id == entry_id).values(**change)
        )
    await session.rollback()


async def test_the_database_refuses_to_delete_an_entry(session: AsyncSession) -> None:
    entry_id = (await _an_entry(session, await moderator(session))).id

    for statement in (
        delete(AuditLogEntry).where(AuditLogEntry.id == entry_id),
        text("DELETE FROM audit_log"),
    ):
        with pytest.raises(IntegrityError, match="append-only"):
            await session.execute(statement)
        await session.rollback()
    assert await session.scalar(select(AuditLogEntry.id)) == entry_id
    await session.commit()


async def test_purging_an_actor_keeps_their_entries_without_them(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    gone, reader = await moderator(session), await moderator(session)
    entry = await _an_entry(session, gone)

    await session.execute(delete(User).where(User.id == gone.id))  # as the purge does
    await session.commit()

    [listed] = await every_page(client, runtime, reader, AUDIT)
    assert (listed["id"], listed["actor"], listed["action"]) == (str(entry.id), None, "user.ban")
