"""Reporting through the API: content, comments, accounts and creator profiles the
reporter can see; one open report per reporter and target; never about oneself; rate
limited; and a snapshot of the target kept as it was."""

from __future__ import annotations

import uuid
from datetime import date

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.config import Settings
from dreamlust.models.enums import ContentStatus, CreatorStatus, UserRole, UserStatus
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.comments import make_comment
from tests.fixtures.factories import make_content, make_creator
from tests.fixtures.moderation import (
    API,
    QUEUE,
    REPORTS,
    api_with,
    commented,
    creator_of,
    decided,
    file_report,
    get_json,
    moderator,
    published,
    reported,
)


async def test_each_kind_of_target_is_reported_with_a_snapshot(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    content, owner = await published(
        session, title="Cheap pills", description="Click here", media_url="https://cdn/x.mp4"
    )
    comment = await commented(session, "Follow my page for prizes")
    creator, creator_owner = await creator_of(session)
    account = await make_account(session, display_name="Totally Real", bio="I sell things")
    reporter = await make_account(session)

    cases = {
        "CONTENT": (content.id, "Cheap pills", "Click here", owner.id),
        "COMMENT": (comment.id, None, "Follow my page for prizes", comment.user_id),
        "CREATOR": (creator.id, creator.display_name, None, creator_owner.id),
        "USER": (account.id, "Totally Real", "I sell things", account.id),
    }
    for kind, (target_id, title, text, owner_id) in cases.items():
        response = await file_report(
            client, runtime, reporter, kind.lower(), target_id, type="other", reason="Scam"
        )

        assert response.status_code == 201, response.text
        body = response.json()
        assert (body["target_type"], body["target_id"], body["type"]) == (
            kind,
            str(target_id),
            "OTHER",
        )
        assert (body["status"], body["action"], body["version"]) == ("PENDING", None, 1)
        assert response.headers["ETag"] == '"1"'
        staff_view = await get_json(
            client, runtime, await moderator(session), f"{QUEUE}/{body['id']}"
        )
        snapshot = staff_view["snapshot"]
        assert snapshot["author_id"] == str(owner_id)
        assert snapshot["text"] == text
        if kind != "COMMENT":
            assert snapshot["title"] == title
        else:
            assert snapshot["content_id"] == str(comment.content_id)
    assert (await get_json(client, runtime, reporter, REPORTS))["items"][0]["target_type"] == "USER"


async def test_a_second_open_report_on_the_same_target_is_409_until_the_first_is_decided(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    content, _owner = await published(session)
    reporter, staff = await make_account(session), await moderator(session)
    first = await reported(client, runtime, reporter, "CONTENT", content.id)

    again = await file_report(
        client, runtime, reporter, "CONTENT", content.id, type="HARASSMENT", reason="Other"
    )

    assert again.status_code == 409, again.text
    assert again.headers["content-type"] == "application/problem+json"
    assert "already reported" in again.json()["detail"]
    await decided(client, runtime, staff, first["id"], "DISMISSED")
    later = await file_report(client, runtime, reporter, "CONTENT", content.id)
    assert later.status_code == 201, later.text


async def test_what_the_reporter_cannot_see_is_404(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    owner = await make_account(session, role=UserRole.CREATOR, is_creator=True)
    creator = await make_creator(session, user=owner)
    draft = await make_content(session, creator, status=ContentStatus.DRAFT)
    nsfw = await make_content(session, creator, is_nsfw=True)
    listed = await make_content(session, creator)
    deleted_comment = await make_comment(
        session, listed, await make_account(session), deleted_at=listed.created_at
    )
    pending_creator = await make_creator(
        session,
        user=await make_account(session, role=UserRole.CREATOR, is_creator=True),
        status=CreatorStatus.PENDING,
    )
    banned = await make_account(session, status=UserStatus.BANNED)
    reporter = await make_account(session)
    await session.commit()

    for kind, target_id in (
        ("CONTENT", draft.id),
        ("CONTENT", nsfw.id),  # the reporter's policy hides NSFW content
        ("CONTENT", uuid.uuid4()),
        ("COMMENT", deleted_comment.id),
        ("COMMENT", uuid.uuid4()),
        ("CREATOR", pending_creator.id),
        ("USER", banned.id),
        ("USER", uuid.uuid4()),
    ):
        response = await file_report(client, runtime, reporter, kind, target_id)
        assert response.status_code == 404, (kind, response.text)
        assert response.headers["content-type"] == "application/problem+json"


async def test_nobody_reports_themselves_or_what_they_made(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    content, owner = await published(session)
    creator_id = content.creator_id
    comment = await make_comment(session, content, owner)
    await session.commit()

    for kind, target_id in (
        ("USER", owner.id),
        ("CREATOR", creator_id),
        ("CONTENT", content.id),
        ("COMMENT", comment.id),
    ):
        response = await file_report(client, runtime, owner, kind, target_id)
        assert response.status_code == 422, (kind, response.text)
        problem = response.json()
        assert problem["errors"] == [{"loc": ["body", "target_id"], "msg": problem["detail"]}]
        assert "cannot report yourself" in problem["detail"]


async def test_bad_reports_are_422_and_anonymous_ones_401(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    content, _owner = await published(session)
    reporter = await make_account(session)
    valid = {"target_type": "CONTENT", "target_id": str(content.id), "type": "SPAM", "reason": "x"}
    headers = headers_for(runtime, reporter)

    for broken in (
        {**valid, "type": "RUDE"},
        {**valid, "target_type": "PLAYLIST"},
        {**valid, "target_id": "not-a-uuid"},
        {**valid, "reason": ""},
        {**valid, "reason": "x" * 201},
        {**valid, "reason": "line\nbreak"},
        {**valid, "description": "x" * 5001},
        {**valid, "status": "RESOLVED"},
        {key: value for key, value in valid.items() if key != "reason"},
    ):
        response = await client.post(REPORTS, json=broken, headers=headers)
        assert response.status_code == 422, (broken, response.text)
        assert response.json()["errors"]
    assert (await client.post(REPORTS, json=valid)).status_code == 401


async def test_reporting_is_rate_limited_per_reporter(
    settings: Settings, runtime: Runtime, session: AsyncSession
) -> None:
    targets = [(await published(session))[0] for _ in range(3)]
    reporter, other = await make_account(session), await make_account(session)

    async with api_with(settings, runtime, rate_limit_report="2/hour") as (client, limited):
        first, second, third = [
            await file_report(client, limited, reporter, "CONTENT", target.id) for target in targets
        ]
        theirs = await file_report(client, limited, other, "CONTENT", targets[2].id)

    assert (first.status_code, second.status_code, theirs.status_code) == (201, 201, 201)
    assert third.status_code == 429, third.text
    assert int(third.headers["Retry-After"]) > 0
    assert third.headers["content-type"] == "application/problem+json"


async def test_the_snapshot_outlives_edits_and_deletion_of_the_target(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    content, owner = await published(session, title="Original title", description="Original")
    comment = await make_comment(session, content, await make_account(session), text="Rude words")
    await session.commit()
    reporter, staff = await make_account(session), await moderator(session)
    on_content = await reported(client, runtime, reporter, "CONTENT", content.id)
    on_comment = await reported(client, runtime, reporter, "COMMENT", comment.id)
    owner_headers = headers_for(runtime, owner)

    edited = await client.patch(
        f"{API}/content/{content.id}",
        json={"title": "Harmless", "description": "Nothing here", "version": content.version},
        headers=owner_headers,
    )
    deleted = await client.delete(f"{API}/content/{content.id}", headers=owner_headers)

    assert (edited.status_code, deleted.status_code) == (200, 204)
    content_snapshot = (await get_json(client, runtime, staff, f"{QUEUE}/{on_content['id']}"))[
        "snapshot"
    ]
    comment_snapshot = (await get_json(client, runtime, staff, f"{QUEUE}/{on_comment['id']}"))[
        "snapshot"
    ]
    assert (content_snapshot["title"], content_snapshot["text"]) == ("Original title", "Original")
    assert comment_snapshot["text"] == "Rude words"
    assert comment_snapshot["title"] == "Original title"


async def test_a_reporter_reads_their_own_reports_only(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    reporter, other, staff = (
        await make_account(session),
        await make_account(session),
        await moderator(session),
    )
    contents = [(await published(session))[0] for _ in range(3)]
    mine = [await reported(client, runtime, reporter, "CONTENT", c.id) for c in contents]
    theirs = await reported(client, runtime, other, "CONTENT", contents[0].id)
    await decided(
        client, runtime, staff, mine[0]["id"], "RESOLVED", moderator_notes="Internal note"
    )

    listed = await get_json(client, runtime, reporter, REPORTS, limit=2)
    rest = await get_json(client, runtime, reporter, REPORTS, cursor=listed["next_cursor"])
    own = await get_json(client, runtime, reporter, f"{REPORTS}/{mine[0]['id']}")
    foreign = await client.get(f"{REPORTS}/{theirs['id']}", headers=headers_for(runtime, reporter))

    assert [item["id"] for item in listed["items"] + rest["items"]] == [
        mine[2]["id"],
        mine[1]["id"],
        mine[0]["id"],
    ]
    assert (own["status"], own["action"]) == ("RESOLVED", "NONE")
    assert "moderator_notes" not in own
    assert "snapshot" not in own
    assert foreign.status_code == 404


@pytest.mark.parametrize("role", [UserRole.USER, UserRole.CREATOR])
async def test_the_staff_endpoints_are_for_staff_only(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, role: UserRole
) -> None:
    content, _owner = await published(session)
    report = await reported(client, runtime, await make_account(session), "CONTENT", content.id)
    headers = headers_for(runtime, await make_account(session, role=role))

    for response in (
        await client.get(QUEUE, headers=headers),
        await client.get(f"{QUEUE}/{report['id']}", headers=headers),
        await client.patch(
            f"{QUEUE}/{report['id']}", json={"status": "DISMISSED", "version": 1}, headers=headers
        ),
        await client.get(f"{API}/moderation/audit", headers=headers),
    ):
        assert response.status_code == 403, response.text
    assert (await client.get(QUEUE)).status_code == 401


async def test_an_adult_who_shows_nsfw_reports_nsfw_content(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    content, _owner = await published(session, is_nsfw=True)
    adult = await make_account(
        session,
        birth_date=date(1990, 1, 1),
        preferences={"nsfw_policy": "show"},
    )

    response = await file_report(client, runtime, adult, "CONTENT", content.id)

    assert response.status_code == 201, response.text
