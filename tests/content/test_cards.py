"""Cards (lists, detail and the answers of writes, read straight from rows) answer
exactly what `ContentRead` describes, withholding what the viewer may not have."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.content.schemas import ContentRead
from dreamlust.kit.clock import utcnow
from dreamlust.models import Content, ContentPurchase, User
from dreamlust.models.enums import ContentType, UserRole, VRProjection, VRStereoFormat
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.factories import make_category, make_content, make_creator, make_tag

CONTENT = "/api/v1/content"
ADULT = date(1990, 5, 17)


async def _catalogue(session: AsyncSession) -> list[Content]:
    creator = await make_creator(session, avatar_url="https://cdn.example/a.png", is_verified=True)
    second = await make_category(session, slug="second", name="Second", sort_order=2)
    first = await make_category(session, slug="first", name="First", sort_order=1)
    gone = await make_category(session, slug="gone", name="Gone", sort_order=0)
    gone.deleted_at = utcnow()
    tags = [await make_tag(session, name=name) for name in ("zebra", "apple", "mango")]
    items = [
        await make_content(
            session,
            creator,
            description="Plain, with everything a video has.",
            media_url="https://cdn.example/v.mp4",
            thumbnail_url="https://cdn.example/v.jpg",
            blur_placeholder="LEHV6nWB2yk8pyo0adR*.7kCMdnj",
            media_type="video/mp4",
            duration=754,
            file_size=2**40,
            width=3840,
            height=2160,
            categories=[second, gone, first],
            tags=tags,
        ),
        await make_content(
            session,
            creator,
            type=ContentType.VR,
            vr_projection=VRProjection.EQUIRECTANGULAR_360,
            vr_stereo_format=VRStereoFormat.TOP_BOTTOM,
            media_url="https://cdn.example/vr.mp4",
            is_premium=True,
            price=Decimal("12.50"),
            currency="EUR",
        ),
        await make_content(
            session,
            creator,
            type=ContentType.PHOTO,
            media_url="https://cdn.example/p.jpg",
            thumbnail_url="https://cdn.example/p-small.jpg",
            is_nsfw=True,
            view_count=2**40,
        ),
        await make_content(session, creator, type=ContentType.AUDIO, is_premium=True),
    ]
    await session.commit()
    return items


async def _viewers(session: AsyncSession, items: list[Content]) -> dict[str, User | None]:
    buyer = await make_account(session, birth_date=ADULT, preferences={"nsfw_policy": "blur"})
    session.add(
        ContentPurchase(
            user_id=buyer.id, content_id=items[1].id, amount=Decimal("12.50"), currency="EUR"
        )
    )
    await session.commit()
    return {
        "anonymous": None,
        "adult who blurs": buyer,
        "adult who sees all": await make_account(
            session, birth_date=ADULT, preferences={"nsfw_policy": "show"}
        ),
        "staff": await make_account(session, role=UserRole.MODERATOR),
    }


def _as_schema_writes_it(body: bytes) -> bytes:
    """The same item as `ContentRead` itself would write it."""
    return ContentRead.model_validate_json(body).model_dump_json().encode()


@pytest.mark.parametrize(
    "who", ["anonymous", "adult who blurs", "adult who sees all", "staff"], ids=str
)
async def test_detail_and_list_cards_are_the_schemas_json_byte_for_byte(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, who: str
) -> None:
    items = await _catalogue(session)
    user = (await _viewers(session, items))[who]
    headers = headers_for(runtime, user) if user is not None else None

    listed = await client.get(CONTENT, params={"limit": 10}, headers=headers)

    assert listed.status_code == 200, listed.text
    by_id = {item["id"]: item for item in listed.json()["items"]}
    for item in items:
        if str(item.id) not in by_id:  # NSFW is not listed for who hides it (the default)
            assert item.is_nsfw
            assert who in {"anonymous", "staff"}
            continue
        detail = await client.get(f"{CONTENT}/{item.id}", headers=headers)
        assert detail.status_code == 200, detail.text
        assert detail.content == _as_schema_writes_it(detail.content)
        assert detail.headers["ETag"] == f'"{item.version}"'
        assert by_id[str(item.id)] == detail.json()


@pytest.mark.parametrize("who", ["adult who blurs", "adult who sees all"], ids=str)
async def test_a_card_withholds_what_the_viewer_may_not_have(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, who: str
) -> None:
    plain, vr, nsfw, audio = items = await _catalogue(session)
    user = (await _viewers(session, items))[who]
    buyer = who == "adult who blurs"  # bought the premium VR item; blurs NSFW

    listed = await client.get(CONTENT, params={"limit": 10}, headers=headers_for(runtime, user))

    by_id = {item["id"]: item for item in listed.json()["items"]}

    def media(item: Content) -> tuple[object, object, object, object]:
        card = by_id[str(item.id)]
        return card["media_url"], card["thumbnail_url"], card["is_blurred"], card["is_locked"]

    assert media(plain) == ("https://cdn.example/v.mp4", "https://cdn.example/v.jpg", False, False)
    assert media(vr) == (
        ("https://cdn.example/vr.mp4", None, False, False) if buyer else (None, None, False, True)
    )
    assert media(nsfw) == (
        (None, None, True, False)
        if buyer
        else ("https://cdn.example/p.jpg", "https://cdn.example/p-small.jpg", False, False)
    )
    assert media(audio) == (None, None, False, True)


async def test_a_write_answers_with_the_card_its_writer_then_reads(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    user = await make_account(session, role=UserRole.CREATOR, is_creator=True)
    await make_creator(session, user=user)
    await make_category(session, slug="first", name="First", sort_order=1)
    await session.commit()
    headers = headers_for(runtime, user)

    created = await client.post(
        CONTENT,
        json={
            "title": "Draft",
            "type": "PHOTO",
            "tags": ["Zebra", "apple"],
            "categories": ["first"],
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    path = f"{CONTENT}/{created.json()['id']}"
    edited = await client.patch(
        path, json={"title": "Edited"}, headers={**headers, "If-Match": created.headers["ETag"]}
    )
    read = await client.get(path, headers=headers)

    assert edited.status_code == 200, edited.text
    assert read.status_code == 200, read.text
    assert (created.headers["ETag"], edited.headers["ETag"]) == ('"1"', '"2"')
    assert edited.content == read.content
    assert edited.headers["ETag"] == read.headers["ETag"]
    changed = {"title", "version", "updated_at"}
    assert {key: value for key, value in created.json().items() if key not in changed} == {
        key: value for key, value in read.json().items() if key not in changed
    }
    assert read.json()["tags"] == ["apple", "zebra"]
    assert read.json()["categories"] == [{"slug": "first", "name": "First"}]


async def test_a_card_shows_live_categories_in_order_and_tags_alphabetically(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    items = await _catalogue(session)

    response = await client.get(f"{CONTENT}/{items[0].id}")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["categories"] == [
        {"slug": "first", "name": "First"},
        {"slug": "second", "name": "Second"},
    ]
    assert body["tags"] == ["apple", "mango", "zebra"]
    assert body["creator"]["avatar_url"] == "https://cdn.example/a.png"
    assert body["file_size"] == 2**40
