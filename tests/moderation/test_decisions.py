"""Moderators' decisions through the API: the transitions, version checks, each action's
effect in the same transaction, one decision for every open report on a target, the
reporters' notifications and track records, and the audit trail of each step."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.counters import recount
from dreamlust.models import Content, Creator, ReporterRecord, User
from dreamlust.models.enums import ContentStatus, UserRole, UserStatus
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for, login, make_account, reload
from tests.fixtures.comments import make_comment
from tests.fixtures.moderation import (
    API,
    AUDIT,
    QUEUE,
    commented,
    creator_of,
    decide,
    decided,
    every_page,
    get_json,
    moderator,
    notifications_of,
    published,
    reported,
)


async def stored(session: AsyncSession, model: Any, id_: Any) -> Any:
    row = await session.get(model, id_, populate_existing=True)
    await session.commit()
    return row


async def assert_no_drift(session: AsyncSession) -> None:
    drifts = await recount.check(session)
    await session.commit()
    assert [drift for drift in drifts if drift.rows] == []


async def test_a_report_goes_under_review_and_then_is_decided_for_good(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    content, _owner = await published(session)
    reporter, staff = await make_account(session), await moderator(session)
    report = await reported(client, runtime, reporter, "CONTENT", content.id)

    claimed = await decided(
        client, runtime, staff, report["id"], "under_review", moderator_notes="Looking"
    )
    dismissed = await decided(client, runtime, staff, report["id"], "DISMISSED", version=2)

    assert (claimed["status"], claimed["action"], claimed["resolved_at"]) == (
        "UNDER_REVIEW",
        None,
        None,
    )
    assert (claimed["moderator_id"], claimed["moderator_notes"], claimed["version"]) == (
        str(staff.id),
        "Looking",
        2,
    )
    assert (dismissed["status"], dismissed["action"], dismissed["version"]) == (
        "DISMISSED",
        "NONE",
        3,
    )
    assert dismissed["resolved_at"] is not None
    assert dismissed["moderator_notes"] == "Looking"
    for status, action in (("RESOLVED", None), ("ACTION_TAKEN", "BAN_USER")):
        final = await decide(client, runtime, staff, report["id"], status, version=3, action=action)
        assert final.status_code == 409, final.text
        assert final.json()["detail"] == (
            "The report was already decided (DISMISSED); decisions are final."
        )
    entries = await every_page(client, runtime, staff, AUDIT, target_id=report["id"])
    assert [(entry["action"], entry["actor"]["id"]) for entry in entries] == [
        ("report.dismissed", str(staff.id)),
        ("report.under_review", str(staff.id)),
    ]
    assert entries[0]["details"]["before"] == {"status": "UNDER_REVIEW", "action": None}
    assert entries[0]["details"]["after"] == {"status": "DISMISSED", "action": "NONE"}


async def test_a_pending_report_goes_straight_to_a_final_status(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    content, _owner = await published(session)
    staff = await moderator(session)
    report = await reported(client, runtime, await make_account(session), "CONTENT", content.id)

    resolved = await decided(client, runtime, staff, report["id"], "RESOLVED", action="none")

    assert (resolved["status"], resolved["action"]) == ("RESOLVED", "NONE")


async def test_taking_a_report_under_review_twice_is_409(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    content, _owner = await published(session)
    staff = await moderator(session)
    report = await reported(client, runtime, await make_account(session), "CONTENT", content.id)
    await decided(client, runtime, staff, report["id"], "UNDER_REVIEW")

    again = await decide(client, runtime, staff, report["id"], "UNDER_REVIEW", version=2)

    assert again.status_code == 409
    assert again.json()["detail"] == "The report is already UNDER_REVIEW."


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "PENDING"}, "status"),
        ({"status": "OPEN"}, "status"),
        ({"status": "UNDER_REVIEW", "action": "NONE"}, "action"),
        ({"status": "ACTION_TAKEN"}, "action"),
        ({"status": "ACTION_TAKEN", "action": "NONE"}, "action"),
        ({"status": "DISMISSED", "action": "BAN_USER"}, "action"),
        ({"status": "ACTION_TAKEN", "action": "DELETE_COMMENT"}, "action"),
        ({"status": "ACTION_TAKEN", "action": "SHAME_USER"}, "action"),
        ({"status": "RESOLVED", "moderator_notes": "x" * 5001}, "moderator_notes"),
        ({"status": "RESOLVED", "verdict": "guilty"}, "verdict"),
    ],
)
async def test_decisions_that_do_not_fit_are_422_and_change_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    runtime: Runtime,
    body: dict[str, Any],
    field: str,
) -> None:
    content, _owner = await published(session)
    staff = await moderator(session)
    report = await reported(client, runtime, await make_account(session), "CONTENT", content.id)

    response = await client.patch(
        f"{QUEUE}/{report['id']}", json={**body, "version": 1}, headers=headers_for(runtime, staff)
    )

    assert response.status_code == 422, response.text
    assert any(error["loc"][-1] == field for error in response.json()["errors"]), response.text
    unchanged = await get_json(client, runtime, staff, f"{QUEUE}/{report['id']}")
    assert (unchanged["status"], unchanged["version"]) == ("PENDING", 1)


@pytest.mark.parametrize(
    ("kind", "action"),
    [("COMMENT", "HIDE_CONTENT"), ("USER", "HIDE_CONTENT"), ("CREATOR", "DELETE_COMMENT")],
)
async def test_an_action_must_fit_its_target(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, kind: str, action: str
) -> None:
    comment = await commented(session)
    creator, _owner = await creator_of(session)
    account = await make_account(session)
    target = {"COMMENT": comment.id, "USER": account.id, "CREATOR": creator.id}[kind]
    staff = await moderator(session)
    report = await reported(client, runtime, await make_account(session), kind, target)

    response = await decide(
        client, runtime, staff, report["id"], "ACTION_TAKEN", action=action.lower()
    )

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["body", "action"]


async def test_decisions_are_version_checked_like_every_versioned_resource(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    content, _owner = await published(session)
    staff = await moderator(session)
    report = await reported(client, runtime, await make_account(session), "CONTENT", content.id)
    path = f"{QUEUE}/{report['id']}"
    read = await client.get(path, headers=headers_for(runtime, staff))
    assert read.headers["ETag"] == '"1"'

    stale_header = await decide(
        client,
        runtime,
        staff,
        report["id"],
        "UNDER_REVIEW",
        version=None,
        headers={"If-Match": '"7"'},
    )
    stale_body = await decide(client, runtime, staff, report["id"], "UNDER_REVIEW", version=7)
    neither = await decide(client, runtime, staff, report["id"], "UNDER_REVIEW", version=None)
    weak = await decide(
        client,
        runtime,
        staff,
        report["id"],
        "UNDER_REVIEW",
        version=None,
        headers={"If-Match": 'W/"1"'},
    )
    fresh = await decide(
        client,
        runtime,
        staff,
        report["id"],
        "UNDER_REVIEW",
        version=None,
        headers={"If-Match": read.headers["ETag"]},
    )

    assert (stale_header.status_code, stale_body.status_code) == (412, 409)
    assert (neither.status_code, weak.status_code, fresh.status_code) == (428, 400, 200)
    assert stale_body.json()["type"].endswith("version-conflict")
    assert fresh.headers["ETag"] == '"2"'
    missing = await decide(client, runtime, staff, str(content.id), "UNDER_REVIEW")
    assert missing.status_code == 404


async def test_one_decision_closes_every_open_report_on_the_target_and_tells_each_reporter(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    content, _owner = await published(session)
    elsewhere, _ = await published(session)
    reporters = [await make_account(session) for _ in range(3)]
    staff = await moderator(session)
    reports = [await reported(client, runtime, user, "CONTENT", content.id) for user in reporters]
    unrelated = await reported(client, runtime, reporters[0], "CONTENT", elsewhere.id)
    await decided(client, runtime, staff, reports[1]["id"], "UNDER_REVIEW")
    late = await make_account(session)
    joined = await reported(client, runtime, late, "CONTENT", content.id)
    assert joined["status"] == "UNDER_REVIEW"

    await decided(
        client,
        runtime,
        staff,
        reports[2]["id"],
        "ACTION_TAKEN",
        version=2,  # taken under review with the others
        action="hide_content",
        moderator_notes="Spam ring",
    )

    for report in [*reports, joined]:
        view = await get_json(client, runtime, staff, f"{QUEUE}/{report['id']}")
        assert (view["status"], view["action"], view["moderator_notes"]) == (
            "ACTION_TAKEN",
            "HIDE_CONTENT",
            "Spam ring",
        )
        assert view["moderator_id"] == str(staff.id)
    other = await get_json(client, runtime, staff, f"{QUEUE}/{unrelated['id']}")
    assert other["status"] == "PENDING"
    for user, report in zip([*reporters, late], [*reports, joined], strict=True):
        told = await notifications_of(client, runtime, user)
        assert [(n["type"], n["link"]) for n in told] == [
            ("REPORT_RESOLVED", f"/reports/{report['id']}")
        ], user.username
        assert told[0]["title"] == "We took action on what you reported"
    [decision] = await every_page(client, runtime, staff, AUDIT, action="report.action_taken")
    assert sorted(decision["details"]["reports"]) == sorted(
        report["id"] for report in [*reports, joined]
    )
    records = {
        user.id: await stored(session, ReporterRecord, user.id) for user in [*reporters, late]
    }
    assert {(record.closed_reports, record.upheld_reports) for record in records.values()} == {
        (1, 1)
    }


async def test_dismissed_reports_count_against_the_reporters_record(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    reporter, staff = await make_account(session), await moderator(session)
    for _ in range(2):
        content, _owner = await published(session)
        report = await reported(client, runtime, reporter, "CONTENT", content.id)
        await decided(client, runtime, staff, report["id"], "DISMISSED")
    content, _owner = await published(session)
    report = await reported(client, runtime, reporter, "CONTENT", content.id)
    await decided(client, runtime, staff, report["id"], "RESOLVED")
    record = await stored(session, ReporterRecord, reporter.id)
    fresh, _owner = await published(session)

    weighed = await reported(client, runtime, reporter, "CONTENT", fresh.id)

    assert (record.closed_reports, record.upheld_reports) == (3, 1)
    view = await get_json(client, runtime, staff, f"{QUEUE}/{weighed['id']}")
    assert view["weight"] == pytest.approx(1.2 / 13, abs=0.001)


async def test_hiding_content_takes_it_down_once_and_tells_its_creator(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    content, owner = await published(session, title="Knock-off")
    kept, _ = await published(session)
    staff = await moderator(session)
    report = await reported(client, runtime, await make_account(session), "CONTENT", content.id)
    count_before = (await stored(session, Creator, content.creator_id)).content_count

    await decided(client, runtime, staff, report["id"], "ACTION_TAKEN", action="HIDE_CONTENT")

    item = await stored(session, Content, content.id)
    assert item.status is ContentStatus.REJECTED
    assert (await stored(session, Creator, content.creator_id)).content_count == count_before - 1
    await assert_no_drift(session)
    assert (await client.get(f"{API}/content/{content.id}")).status_code == 404
    assert (await client.get(f"{API}/content/{kept.id}")).status_code == 200
    told = await notifications_of(client, runtime, owner)
    assert [(n["type"], n["title"]) for n in told] == [
        ("CONTENT_REJECTED", "Knock-off was taken down by moderation")
    ]
    [hidden] = await every_page(client, runtime, staff, AUDIT, action="content.hide")
    assert (hidden["target_id"], hidden["details"]["before"], hidden["details"]["after"]) == (
        str(content.id),
        {"status": "PUBLISHED"},
        {"status": "REJECTED"},
    )


async def test_deleting_a_comment_removes_it_and_its_count(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    content, _owner = await published(session)
    comments = f"{API}/content/{content.id}/comments"
    author, other = await make_account(session), await make_account(session)
    nasty = await client.post(
        comments, json={"text": "Nasty"}, headers=headers_for(runtime, author)
    )
    await client.post(comments, json={"text": "Nice"}, headers=headers_for(runtime, other))
    staff = await moderator(session)
    report = await reported(
        client, runtime, await make_account(session), "COMMENT", nasty.json()["id"]
    )

    await decided(client, runtime, staff, report["id"], "ACTION_TAKEN", action="delete_comment")

    assert (await client.get(f"{API}/comments/{nasty.json()['id']}")).status_code == 404
    assert (await stored(session, Content, content.id)).comment_count == 1
    await assert_no_drift(session)
    [entry] = await every_page(client, runtime, staff, AUDIT, action="comment.delete")
    assert (entry["target_id"], entry["details"]["before"], entry["details"]["after"]) == (
        nasty.json()["id"],
        {"deleted": False},
        {"deleted": True},
    )


async def test_an_already_deleted_comment_cannot_be_deleted_again(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    comment = await commented(session)
    author = await stored(session, User, comment.user_id)
    staff = await moderator(session)
    report = await reported(client, runtime, await make_account(session), "COMMENT", comment.id)
    gone = await client.delete(f"{API}/comments/{comment.id}", headers=headers_for(runtime, author))
    assert gone.status_code == 204

    response = await decide(
        client, runtime, staff, report["id"], "ACTION_TAKEN", action="DELETE_COMMENT"
    )

    assert response.status_code == 409, response.text
    assert response.json()["detail"] == "The reported comment is already deleted."
    resolved = await decide(client, runtime, staff, report["id"], "RESOLVED")
    assert resolved.status_code == 200, resolved.text


@pytest.mark.parametrize("action", ["SUSPEND_USER", "BAN_USER"])
@pytest.mark.parametrize("kind", ["USER", "CREATOR", "CONTENT", "COMMENT"])
async def test_suspending_or_banning_reaches_the_account_behind_the_target(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, kind: str, action: str
) -> None:
    content, owner = await published(session)
    comment = await make_comment(session, content, await make_account(session))
    await session.commit()
    culprit, target = {
        "USER": (owner, owner.id),
        "CREATOR": (owner, content.creator_id),
        "CONTENT": (owner, content.id),
        "COMMENT": (await stored(session, User, comment.user_id), comment.id),
    }[kind]
    pair = await login(client, culprit.username)
    staff = await moderator(session)
    report = await reported(client, runtime, await make_account(session), kind, target)

    await decided(client, runtime, staff, report["id"], "ACTION_TAKEN", action=action)

    expected = UserStatus.SUSPENDED if action == "SUSPEND_USER" else UserStatus.BANNED
    assert (await reload(session, culprit)).status is expected
    me = await client.get(f"{API}/users/me", headers=headers_for(runtime, culprit))
    refreshed = await client.post(
        f"{API}/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert (me.status_code, refreshed.status_code) == (401, 401)
    verb = "suspend" if action == "SUSPEND_USER" else "ban"
    [entry] = await every_page(client, runtime, staff, AUDIT, action=f"user.{verb}")
    assert entry["target_id"] == str(culprit.id)
    assert entry["details"]["before"] == {"status": "ACTIVE"}
    assert entry["details"]["after"] == {"status": expected.value}


async def test_staff_accounts_and_the_moderators_own_are_beyond_a_moderators_decision(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    staff = await moderator(session)
    colleague = await moderator(session)
    admin = await moderator(session, UserRole.ADMIN)
    reporter = await make_account(session)
    on_colleague = await reported(client, runtime, reporter, "USER", colleague.id)
    on_self = await reported(client, runtime, reporter, "USER", staff.id)

    banned_colleague = await decide(
        client, runtime, staff, on_colleague["id"], "ACTION_TAKEN", action="BAN_USER"
    )
    own_case = await decide(client, runtime, staff, on_self["id"], "DISMISSED")
    by_admin = await decide(
        client, runtime, admin, on_colleague["id"], "ACTION_TAKEN", action="SUSPEND_USER"
    )

    assert (banned_colleague.status_code, own_case.status_code) == (403, 403)
    assert by_admin.status_code == 200, by_admin.text
    assert (await reload(session, colleague)).status is UserStatus.SUSPENDED


async def test_a_banned_account_cannot_be_banned_or_suspended_again(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    content, owner = await published(session)
    staff = await moderator(session)
    first = await reported(client, runtime, await make_account(session), "CONTENT", content.id)
    second = await reported(client, runtime, await make_account(session), "USER", owner.id)
    await decided(client, runtime, staff, first["id"], "ACTION_TAKEN", action="BAN_USER")

    again = await decide(
        client, runtime, staff, second["id"], "ACTION_TAKEN", action="SUSPEND_USER"
    )

    assert again.status_code == 409, again.text
    assert again.json()["detail"] == "The account is already BANNED."
    still = await get_json(client, runtime, staff, f"{QUEUE}/{second['id']}")
    assert (still["status"], still["version"]) == ("PENDING", 1)


async def test_a_report_after_the_decision_opens_a_new_case(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    account = await make_account(session)
    first_reporter, second_reporter = await make_account(session), await make_account(session)
    staff = await moderator(session)
    first = await reported(client, runtime, first_reporter, "USER", account.id)
    await decided(client, runtime, staff, first["id"], "DISMISSED")

    second = await reported(client, runtime, second_reporter, "USER", account.id)

    views = [await get_json(client, runtime, staff, f"{QUEUE}/{r['id']}") for r in (first, second)]
    assert views[0]["case_id"] != views[1]["case_id"]
    assert (views[0]["status"], views[1]["status"]) == ("DISMISSED", "PENDING")
    assert [n["type"] for n in await notifications_of(client, runtime, second_reporter)] == []
    found = await session.scalars(select(ReporterRecord.user_id))
    await session.commit()
    assert set(found) == {first_reporter.id}


async def test_content_already_hidden_cannot_be_hidden_again(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    content, _owner = await published(session)
    staff = await moderator(session)
    report = await reported(client, runtime, await make_account(session), "CONTENT", content.id)
    rejected = await session.get_one(Content, content.id)
    rejected.status = ContentStatus.REJECTED  # as a staff review would have left it
    await session.commit()

    response = await decide(
        client, runtime, staff, report["id"], "ACTION_TAKEN", action="HIDE_CONTENT"
    )

    assert response.status_code == 409, response.text
    assert response.json()["detail"] == "The content is already hidden."
