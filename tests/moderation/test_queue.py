"""The staff queue: reports grouped by target, targets ordered by the weight of their
distinct reporters' track records, so a crowd of new accounts cannot bury reports from
reporters whose reports were upheld before."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.models import User
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.moderation import (
    QUEUE,
    decided,
    every_page,
    get_json,
    moderator,
    published,
    reported,
)

THROWAWAYS = 50
TRUSTED = 5
UPHELD_EACH = 3


async def test_an_entry_shows_the_target_its_snapshot_and_its_reports(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    content, owner = await published(session, title="Fake giveaway")
    account = await make_account(session)
    reporters = [await make_account(session) for _ in range(3)]
    staff = await moderator(session)
    reports = [
        await reported(
            client, runtime, user, "CONTENT", content.id, type="SPAM", reason=f"Spam {number}"
        )
        for number, user in enumerate(reporters)
    ]
    on_account = await reported(
        client, runtime, reporters[0], "USER", account.id, type="FAKE_ACCOUNT", reason="Bot"
    )

    entries = await every_page(client, runtime, staff, QUEUE)

    assert [(entry["target_type"], entry["target_id"]) for entry in entries] == [
        ("CONTENT", str(content.id)),
        ("USER", str(account.id)),
    ]
    first, second = entries
    assert (first["status"], first["open_reports"], first["reporters"]) == ("PENDING", 3, 3)
    assert first["score"] == pytest.approx(0.06)
    assert (first["snapshot"]["title"], first["snapshot"]["author_id"]) == (
        "Fake giveaway",
        str(owner.id),
    )
    assert [(r["id"], r["reason"], r["type"], r["weight"]) for r in first["reports"]] == [
        (report["id"], f"Spam {number}", "SPAM", 0.02)
        for number, report in reversed(list(enumerate(reports)))
    ]
    assert [r["id"] for r in second["reports"]] == [on_account["id"]]


async def _upheld_record(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, reporters: list[User]
) -> None:
    """Each reporter reports the same items, and each time a moderator takes action."""
    staff = await moderator(session)
    for _ in range(UPHELD_EACH):
        content, _owner = await published(session)
        reports = [
            await reported(client, runtime, user, "CONTENT", content.id) for user in reporters
        ]
        await decided(
            client, runtime, staff, reports[0]["id"], "ACTION_TAKEN", action="HIDE_CONTENT"
        )


async def test_fifty_throwaway_accounts_rank_below_five_trusted_reporters(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    trusted = [await make_account(session) for _ in range(TRUSTED)]
    await _upheld_record(client, session, runtime, trusted)
    throwaways = [await make_account(session) for _ in range(THROWAWAYS)]
    crowded, _ = await published(session)
    credible, _ = await published(session)
    for user in throwaways:
        await reported(client, runtime, user, "CONTENT", crowded.id)
    for user in trusted:
        await reported(client, runtime, user, "CONTENT", credible.id)

    entries = await every_page(client, runtime, await moderator(session), QUEUE)

    assert [entry["target_id"] for entry in entries] == [str(credible.id), str(crowded.id)]
    top, below = entries
    assert (top["reporters"], below["reporters"]) == (TRUSTED, THROWAWAYS)
    assert (below["open_reports"], len(below["reports"])) == (THROWAWAYS, 10)
    assert top["score"] > below["score"] == pytest.approx(THROWAWAYS * 0.02)
    assert [report["weight"] for report in top["reports"]] == [0.246] * TRUSTED  # 3.2 / 13


async def test_the_queue_pages_by_score_and_lists_one_status_on_request(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    staff = await moderator(session)
    reporters = [await make_account(session) for _ in range(4)]
    targets = [(await published(session))[0] for _ in range(4)]
    first_reports = []
    for count, target in enumerate(targets, start=1):  # target n has n reports
        made = [await reported(client, runtime, u, "CONTENT", target.id) for u in reporters[:count]]
        first_reports.append(made[0])
    await decided(client, runtime, staff, first_reports[0]["id"], "DISMISSED")
    await decided(client, runtime, staff, first_reports[1]["id"], "UNDER_REVIEW")

    page = await get_json(client, runtime, staff, QUEUE, limit=2)
    rest = await get_json(client, runtime, staff, QUEUE, limit=2, cursor=page["next_cursor"])
    dismissed = await every_page(client, runtime, staff, QUEUE, status="DISMISSED")
    under_review = await every_page(client, runtime, staff, QUEUE, status="under_review")

    assert [e["target_id"] for e in page["items"] + rest["items"]] == [
        str(targets[3].id),
        str(targets[2].id),
        str(targets[1].id),
    ]
    assert rest["next_cursor"] is None
    assert [(e["target_id"], e["open_reports"], e["reporters"]) for e in dismissed] == [
        (str(targets[0].id), 0, 1)
    ]
    assert dismissed[0]["closed_at"] is not None
    assert [e["target_id"] for e in under_review] == [str(targets[1].id)]


async def test_bad_queue_queries_are_4xx(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    headers = headers_for(runtime, await moderator(session))

    unknown = await client.get(QUEUE, params={"status": "LOST"}, headers=headers)
    forged = await client.get(QUEUE, params={"cursor": "bm90IGEgY3Vyc29y"}, headers=headers)
    too_many = await client.get(QUEUE, params={"limit": "101"}, headers=headers)

    assert (unknown.status_code, forged.status_code, too_many.status_code) == (422, 400, 422)
