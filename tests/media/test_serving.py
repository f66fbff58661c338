"""GET /media/{asset_id}: a READY asset's file under the visibility rules of its content,
with byte ranges and validators from the local folder, and a presigned redirect on S3 where
the store answers ranges itself."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from email import message_from_bytes, policy
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.config import Settings
from dreamlust.kit.ids import new_id
from dreamlust.media.storage import MediaKey
from dreamlust.models import Content, ContentPurchase, Creator, MediaAsset, User
from dreamlust.models.enums import ContentStatus, MediaAssetKind, MediaAssetStatus, UserRole
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for
from tests.fixtures.factories import make_content, make_creator, make_subscription, make_user
from tests.fixtures.stored_media import S3_UPLOAD_WARNING, MediaApp, media_app_on, store_asset

pytestmark = S3_UPLOAD_WARNING
SIZE = 5000
DATA = os.urandom(SIZE)
ADULT = date(1990, 1, 1)


@pytest.fixture
async def local(
    request: pytest.FixtureRequest, settings: Settings, runtime: Runtime
) -> AsyncIterator[MediaApp]:
    """The application on the local folder alone: what it answers itself."""
    async with media_app_on("local", request, settings, runtime) as media_app:
        yield media_app


def url(asset: MediaAsset) -> str:
    return f"/api/v1/media/{asset.id}"


async def owner_and_original(
    session: AsyncSession, app: MediaApp, data: bytes = DATA, **content_fields: Any
) -> tuple[User, Content, MediaAsset]:
    creator = await make_creator(session)
    owner = await session.get(User, creator.user_id)
    assert owner is not None
    content = await make_content(session, creator, **content_fields)
    asset = await store_asset(
        session, app.storage, owner, data, content=content, original_filename="clip.bin"
    )
    await session.commit()
    return owner, content, asset


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


# Ranges and validators


async def test_the_whole_file_comes_with_its_type_from_the_row(
    session: AsyncSession, app: MediaApp
) -> None:
    _, _, asset = await owner_and_original(session, app)

    response = await app.fetch(url(asset))

    assert response.status_code == 200
    assert response.content == DATA
    # The name says .bin; the row says what the file is.
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["content-disposition"].startswith('inline; filename="clip.bin"')
    if app.backend == "local":
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["accept-ranges"] == "bytes"
        assert response.headers["content-length"] == str(SIZE)


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-0", 0, 0),
        ("bytes=-500", SIZE - 500, SIZE - 1),
        ("bytes=100-199", 100, 199),
        ("bytes=4000-", 4000, SIZE - 1),
        ("bytes=4900-99999", 4900, SIZE - 1),
    ],
)
async def test_a_range_gets_206_with_those_bytes(
    session: AsyncSession, app: MediaApp, header: str, start: int, end: int
) -> None:
    _, _, asset = await owner_and_original(session, app)

    response = await app.fetch(url(asset), headers={"Range": header})

    assert response.status_code == 206
    assert response.content == DATA[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/{SIZE}"


async def test_a_range_beyond_the_end_is_416_with_the_size(
    session: AsyncSession, app: MediaApp
) -> None:
    _, _, asset = await owner_and_original(session, app)

    response = await app.fetch(url(asset), headers={"Range": f"bytes={SIZE}-"})

    assert response.status_code == 416
    if app.backend == "local":
        problem(response, 416)
        assert response.headers["content-range"] == f"bytes */{SIZE}"


async def test_two_ranges_come_as_multipart_byteranges(
    session: AsyncSession, local: MediaApp
) -> None:
    _, _, asset = await owner_and_original(session, local)

    response = await local.fetch(url(asset), headers={"Range": "bytes=0-9, -20"})

    assert response.status_code == 206
    content_type = response.headers["content-type"]
    assert re.fullmatch(r"multipart/byteranges; boundary=[0-9a-f]{32}", content_type)
    assert int(response.headers["content-length"]) == len(response.content)
    message = message_from_bytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + response.content, policy=policy.HTTP
    )
    parts = [
        (part["Content-Type"], part["Content-Range"], part.get_payload(decode=True))
        for part in message.iter_parts()
    ]
    assert parts == [
        ("video/mp4", f"bytes 0-9/{SIZE}", DATA[:10]),
        ("video/mp4", f"bytes {SIZE - 20}-{SIZE - 1}/{SIZE}", DATA[-20:]),
    ]


async def test_overlapping_ranges_are_merged_into_one(
    session: AsyncSession, local: MediaApp
) -> None:
    _, _, asset = await owner_and_original(session, local)

    response = await local.fetch(url(asset), headers={"Range": "bytes=50-99,0-59,100-109"})

    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 0-109/{SIZE}"
    assert response.content == DATA[:110]


@pytest.mark.parametrize(
    "header",
    ["bytes=5-1", "bytes=abc", "items=0-1", "bytes 0-1", "bytes=--1", "bytes=" + ",0-1" * 17],
)
async def test_a_malformed_range_is_ignored(
    session: AsyncSession, local: MediaApp, header: str
) -> None:
    _, _, asset = await owner_and_original(session, local)

    response = await local.fetch(url(asset), headers={"Range": header})

    assert response.status_code == 200
    assert response.content == DATA


async def test_a_current_etag_is_304_and_if_range_guards_ranges(
    session: AsyncSession, app: MediaApp
) -> None:
    _, _, asset = await owner_and_original(session, app)
    first = await app.fetch(url(asset))
    etag = first.headers["etag"]
    assert re.fullmatch(r'"[^"]+"', etag), "a strong validator"

    again = await app.fetch(url(asset), headers={"If-None-Match": etag})
    other = await app.fetch(url(asset), headers={"If-None-Match": '"something-else"'})

    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["etag"] == etag
    assert other.status_code == 200
    if app.backend == "local":
        current = await app.fetch(url(asset), headers={"Range": "bytes=0-1", "If-Range": etag})
        stale = await app.fetch(url(asset), headers={"Range": "bytes=0-1", "If-Range": '"old"'})
        assert (current.status_code, current.content) == (206, DATA[:2])
        assert (stale.status_code, stale.content) == (200, DATA)


async def test_head_tells_the_headers_without_the_bytes(
    session: AsyncSession, app: MediaApp
) -> None:
    _, _, asset = await owner_and_original(session, app)

    response = await app.client.head(url(asset))
    ranged = await app.client.head(url(asset), headers={"Range": "bytes=0-9"})

    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(SIZE)
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["etag"]
    assert ranged.status_code == 206
    assert ranged.headers["content-range"] == f"bytes 0-9/{SIZE}"


async def test_on_s3_the_client_is_sent_to_a_short_lived_url_of_the_store(
    session: AsyncSession, app: MediaApp
) -> None:
    _, _, asset = await owner_and_original(session, app)

    response = await app.client.get(url(asset))

    if app.backend == "local":
        assert response.status_code == 200
        return
    assert response.status_code == 307
    assert response.content == b"", "the application never relays the bytes"
    assert response.headers["cache-control"] == "private, no-store"
    location = httpx.URL(response.headers["location"])
    assert str(location).startswith(app.runtime.settings.s3_endpoint_url or "")
    assert "X-Amz-Signature" in location.params


async def test_an_empty_file_is_served_empty(session: AsyncSession, local: MediaApp) -> None:
    _, _, asset = await owner_and_original(session, local, data=b"")

    whole = await local.fetch(url(asset))
    ranged = await local.fetch(url(asset), headers={"Range": "bytes=0-"})

    assert (whole.status_code, whole.content) == (200, b"")
    assert ranged.status_code == 416
    assert ranged.headers["content-range"] == "bytes */0"


# Who gets what


async def viewer(session: AsyncSession, **fields: Any) -> User:
    user = await make_user(session, birth_date=ADULT, **fields)
    await session.commit()
    return user


async def status_for(app: MediaApp, asset: MediaAsset, user: User | None) -> int:
    headers = headers_for(app.runtime, user) if user is not None else None
    response = await app.fetch(url(asset), headers=headers)
    return response.status_code


async def test_premium_media_reach_buyers_subscribers_owner_and_staff_only(
    session: AsyncSession, app: MediaApp
) -> None:
    owner, content, original = await owner_and_original(
        session, app, is_premium=True, price=Decimal("9.99"), currency="USD"
    )
    thumbnail = await store_asset(
        session,
        app.storage,
        owner,
        b"RIFF webp",
        kind=MediaAssetKind.THUMBNAIL,
        source=original,
        mime_type="image/webp",
    )
    stranger = await viewer(session)
    buyer = await viewer(session)
    subscriber = await viewer(session)
    staff = await viewer(session, role=UserRole.MODERATOR)
    session.add(
        ContentPurchase(
            user_id=buyer.id, content_id=content.id, amount=Decimal("9.99"), currency="USD"
        )
    )
    await make_subscription(session, subscriber, await _creator_of(session, content))
    await session.commit()

    refused = await app.client.get(url(original))
    assert problem(refused, 403)["type"] == "urn:dreamlust:problem:media-locked"
    assert await status_for(app, original, stranger) == 403
    for entitled in (buyer, subscriber, owner, staff):
        assert await status_for(app, original, entitled) == 200, entitled.username
    # The thumbnail is listing material: the locked item shows it to everyone.
    assert await status_for(app, thumbnail, None) == 200
    assert await status_for(app, thumbnail, stranger) == 200


async def _creator_of(session: AsyncSession, content: Content) -> Creator:
    creator = await session.get(Creator, content.creator_id)
    assert creator is not None
    return creator


async def test_nsfw_media_reach_only_viewers_who_show_it(
    session: AsyncSession, app: MediaApp
) -> None:
    owner, _, original = await owner_and_original(session, app, is_nsfw=True)
    thumbnail = await store_asset(
        session,
        app.storage,
        owner,
        b"RIFF webp",
        kind=MediaAssetKind.THUMBNAIL,
        source=original,
        mime_type="image/webp",
    )
    await session.commit()

    def policy(name: str) -> dict[str, Any]:
        return {"preferences": {"nsfw_policy": name}}

    hides = await viewer(session, **policy("hide"))
    blurs = await viewer(session, **policy("blur"))
    shows = await viewer(session, **policy("show"))

    for asset in (original, thumbnail):
        assert await status_for(app, asset, None) == 404
        assert await status_for(app, asset, hides) == 404
        # Listed behind its blur placeholder: neither picture nor media.
        assert await status_for(app, asset, blurs) == 404
        assert await status_for(app, asset, shows) == 200
        assert await status_for(app, asset, owner) == 200


async def test_unknown_unready_and_unpublished_media_are_404(
    session: AsyncSession, app: MediaApp
) -> None:
    owner, content, _ = await owner_and_original(session, app)
    processing = await store_asset(
        session,
        app.storage,
        owner,
        DATA,
        content=content,
        status=MediaAssetStatus.PROCESSING,
    )
    draft = await make_content(
        session, await _creator_of(session, content), status=ContentStatus.DRAFT
    )
    drafted = await store_asset(session, app.storage, owner, DATA, content=draft)
    await session.commit()

    problem(await app.client.get(f"/api/v1/media/{new_id()}"), 404)
    problem(await app.client.get(url(processing), headers=headers_for(app.runtime, owner)), 404)
    problem(await app.client.get(url(drafted)), 404)
    assert await status_for(app, drafted, owner) == 200
    assert (await app.client.get("/api/v1/media/not-a-uuid")).status_code == 422


async def test_media_of_deleted_content_are_no_longer_served(
    session: AsyncSession, app: MediaApp
) -> None:
    owner, content, original = await owner_and_original(session, app)
    assert await status_for(app, original, None) == 200

    deleted = await app.client.delete(
        f"/api/v1/content/{content.id}", headers=headers_for(app.runtime, owner)
    )
    assert deleted.status_code == 204

    problem(await app.client.get(url(original)), 404)
    assert await status_for(app, original, owner) == 404


async def test_an_asset_of_no_content_reaches_its_owner_and_staff_alone(
    session: AsyncSession, app: MediaApp
) -> None:
    owner = await viewer(session)
    staff = await viewer(session, role=UserRole.MODERATOR)
    asset = await store_asset(session, app.storage, owner, DATA)
    await session.commit()

    assert await status_for(app, asset, owner) == 200
    assert await status_for(app, asset, staff) == 200
    assert await status_for(app, asset, await viewer(session)) == 404
    assert await status_for(app, asset, None) == 404


async def test_what_anonymous_viewers_get_may_be_cached_by_anyone(
    session: AsyncSession, local: MediaApp
) -> None:
    owner, _, original = await owner_and_original(session, local)

    anonymous = await local.fetch(url(original))
    signed_in = await local.fetch(url(original), headers=headers_for(local.runtime, owner))

    assert anonymous.headers["cache-control"].startswith("public")
    assert signed_in.headers["cache-control"].startswith("private")


async def test_a_row_whose_file_is_gone_is_404(session: AsyncSession, local: MediaApp) -> None:
    _, _, asset = await owner_and_original(session, local)
    await local.storage.delete(MediaKey(asset.storage_key))

    problem(await local.fetch(url(asset)), 404)
