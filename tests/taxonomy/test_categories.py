"""Categories: the public list, reading one, and the admin's create, change, delete, restore."""

import re
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.kit.clock import utcnow
from dreamlust.kit.pagination import PageRequest
from dreamlust.kit.soft_delete import INCLUDE_DELETED
from dreamlust.models import AuditLogEntry, Category
from dreamlust.models.enums import UserRole
from dreamlust.runtime import Runtime
from dreamlust.taxonomy.repository import CATEGORY_ORDER, CategoryRepository
from dreamlust.taxonomy.slugs import slugify
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.factories import make_category
from tests.fixtures.plans import query_plan

CATEGORIES = "/api/v1/categories"
PROBLEM = "application/problem+json"
NOT_ADMINS = [UserRole.USER, UserRole.CREATOR, UserRole.MODERATOR]


def path(slug: str) -> str:
    return f"{CATEGORIES}/{slug}"


async def admin_headers(session: AsyncSession, runtime: Runtime) -> dict[str, str]:
    return headers_for(runtime, await make_account(session, role=UserRole.ADMIN))


async def walk(
    client: httpx.AsyncClient, headers: dict[str, str] | None = None, **params: Any
) -> tuple[list[str], list[int]]:
    """Follow the list's cursors to the end: the slugs in order and the size of each page."""
    slugs: list[str] = []
    sizes: list[int] = []
    cursor: str | None = None
    while True:
        query = params | ({"cursor": cursor} if cursor else {})
        response = await client.get(CATEGORIES, params=query, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        slugs.extend(item["slug"] for item in page["items"])
        sizes.append(len(page["items"]))
        cursor = page["next_cursor"]
        if cursor is None:
            return slugs, sizes


async def stored(session: AsyncSession, slug: str) -> Category | None:
    """The category as stored now, deleted or not; the read's transaction ends at once."""
    category = await session.scalar(
        select(Category)
        .where(Category.slug == slug)
        .execution_options(populate_existing=True, **{INCLUDE_DELETED: True})
    )
    await session.commit()
    return category


async def category_count(session: AsyncSession) -> int:
    count = await session.scalar(
        select(func.count()).select_from(Category).execution_options(**{INCLUDE_DELETED: True})
    )
    await session.commit()
    return count or 0


async def audit_log(session: AsyncSession) -> list[AuditLogEntry]:
    entries = list(
        await session.scalars(
            select(AuditLogEntry).order_by(AuditLogEntry.created_at, AuditLogEntry.id)
        )
    )
    await session.commit()
    return entries


def assert_problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == status


# Slugs


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Café Nights!", "cafe-nights"),
        ("  --Hello,   World--  ", "hello-world"),
        ("Ünïcödé Öl", "unicode-ol"),
        ("VR 180°", "vr-180"),
        ("東京", ""),
        ("a" * 99 + " b", "a" * 99),
        ("x" * 150, "x" * 100),
    ],
)
def test_slugify_makes_short_ascii_slugs(text: str, slug: str) -> None:
    assert slugify(text) == slug


# The public list


async def test_the_list_shows_active_live_categories_by_sort_order_then_name(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    for name, sort_order in [
        ("Gamma", 1),
        ("Alpha", 2),
        ("Delta", 1),
        ("Beta", 1),
        ("Omega", -3),
        ("Kappa", 2),
        ("Zeta", 0),
    ]:
        await make_category(session, name=name, slug=name.lower(), sort_order=sort_order)
    await make_category(session, name="Hidden", slug="hidden", is_active=False)
    await make_category(session, name="Gone", slug="gone", sort_order=1, deleted_at=utcnow())
    await session.commit()

    slugs, sizes = await walk(client, limit=2)

    assert slugs == ["omega", "zeta", "beta", "delta", "gamma", "alpha", "kappa"]
    assert sizes == [2, 2, 2, 1]


async def test_list_items_carry_the_public_fields(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    category = await make_category(
        session,
        name="Night Sky",
        slug="night-sky",
        description="Stars and moons",
        icon="moon",
        color="#112233",
        sort_order=4,
    )
    await session.commit()

    response = await client.get(CATEGORIES)

    assert response.status_code == 200
    assert response.json()["next_cursor"] is None
    [item] = response.json()["items"]
    assert set(item) == {
        "id",
        "name",
        "slug",
        "description",
        "icon",
        "color",
        "is_active",
        "sort_order",
        "created_at",
        "updated_at",
    }
    assert item["id"] == str(category.id)
    assert (item["name"], item["slug"], item["description"]) == (
        "Night Sky",
        "night-sky",
        "Stars and moons",
    )
    assert (item["icon"], item["color"], item["is_active"], item["sort_order"]) == (
        "moon",
        "#112233",
        True,
        4,
    )


async def test_admins_can_include_inactive_categories(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    headers = await admin_headers(session, runtime)
    await make_category(session, name="Beta", slug="beta", sort_order=1)
    await make_category(session, name="Alpha", slug="alpha", sort_order=1, is_active=False)
    await make_category(session, name="Zeta", slug="zeta", sort_order=0, is_active=False)
    await make_category(session, name="Delta", slug="delta", sort_order=0)
    await make_category(session, name="Gone", slug="gone", is_active=False, deleted_at=utcnow())
    await session.commit()

    slugs, sizes = await walk(client, headers, limit=2, include_inactive="true")

    assert slugs == ["delta", "zeta", "alpha", "beta"]
    assert sizes == [2, 2]
    assert (await walk(client, headers, limit=2))[0] == ["delta", "beta"]


@pytest.mark.parametrize("role", NOT_ADMINS)
async def test_only_admins_may_include_inactive_categories(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, role: UserRole
) -> None:
    user = await make_account(session, role=role)

    response = await client.get(
        CATEGORIES, params={"include_inactive": "true"}, headers=headers_for(runtime, user)
    )

    assert_problem(response, 403)


async def test_anonymous_callers_asking_for_inactive_categories_must_sign_in(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_category(session, is_active=False)
    await session.commit()

    response = await client.get(CATEGORIES, params={"include_inactive": "true"})

    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_forged_cursor_is_400(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_category(session)
    await session.commit()

    response = await client.get(CATEGORIES, params={"cursor": "bm90LWEtY3Vyc29y"})

    assert_problem(response, 400)


# Reading one


async def test_a_category_is_read_by_its_slug(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    category = await make_category(session, name="Night Sky", slug="night-sky")
    await session.commit()

    response = await client.get(path("night-sky"))

    assert response.status_code == 200
    assert response.json()["id"] == str(category.id)
    assert response.json()["name"] == "Night Sky"


@pytest.mark.parametrize("slug", ["nowhere", "gone"])
async def test_unknown_and_deleted_categories_are_404(
    client: httpx.AsyncClient, session: AsyncSession, slug: str
) -> None:
    await make_category(session, slug="gone", deleted_at=utcnow())
    await session.commit()

    assert_problem(await client.get(path(slug)), 404)


# Creating


async def test_an_admin_creates_a_category_with_a_slug_made_from_its_name(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    headers = await admin_headers(session, runtime)
    body = {
        "name": "  Café Nights!  ",
        "description": "After dark.",
        "icon": "moon",
        "color": "#FF8800",
        "sort_order": 3,
    }

    response = await client.post(CATEGORIES, json=body, headers=headers)

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["slug"] == "cafe-nights"
    assert created["name"] == "Café Nights!"
    assert (created["description"], created["icon"], created["color"]) == (
        "After dark.",
        "moon",
        "#FF8800",
    )
    assert (created["is_active"], created["sort_order"]) == (True, 3)
    fetched = await client.get(path("cafe-nights"))
    assert fetched.status_code == 200
    assert fetched.json() == created


async def test_an_explicit_slug_is_kept(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    headers = await admin_headers(session, runtime)

    response = await client.post(
        CATEGORIES, json={"name": "東京 Nights", "slug": "tokyo-nights"}, headers=headers
    )

    assert response.status_code == 201, response.text
    assert response.json()["slug"] == "tokyo-nights"
    assert (await client.get(path("tokyo-nights"))).json()["name"] == "東京 Nights"


async def test_a_slug_made_from_a_long_name_fits_the_slug_column(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    headers = await admin_headers(session, runtime)
    name = " ".join(["Café™"] * 16)

    response = await client.post(CATEGORIES, json={"name": name}, headers=headers)

    assert response.status_code == 201, response.text
    assert response.json()["slug"] == "cafetm-" * 14 + "ca"
    assert (await client.get(path("cafetm-" * 14 + "ca"))).status_code == 200


@pytest.mark.parametrize("holder_deleted", [False, True], ids=["live", "deleted"])
@pytest.mark.parametrize(
    "body",
    [{"name": "Nocturne", "slug": "night"}, {"name": "Night!"}],
    ids=["explicit", "derived"],
)
async def test_a_taken_slug_is_409(
    client: httpx.AsyncClient,
    session: AsyncSession,
    runtime: Runtime,
    holder_deleted: bool,
    body: dict[str, Any],
) -> None:
    headers = await admin_headers(session, runtime)
    await make_category(
        session, name="Night", slug="night", deleted_at=utcnow() if holder_deleted else None
    )
    await session.commit()

    response = await client.post(CATEGORIES, json=body, headers=headers)

    assert_problem(response, 409)
    assert await category_count(session) == 1
    assert await audit_log(session) == []


@pytest.mark.parametrize("holder_deleted", [False, True], ids=["live", "deleted"])
async def test_a_taken_name_is_409(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, holder_deleted: bool
) -> None:
    headers = await admin_headers(session, runtime)
    await make_category(
        session, name="Night", slug="night", deleted_at=utcnow() if holder_deleted else None
    )
    await session.commit()

    response = await client.post(
        CATEGORIES, json={"name": "Night", "slug": "night-again"}, headers=headers
    )

    assert_problem(response, 409)
    assert await category_count(session) == 1
    assert await audit_log(session) == []


INVALID_CREATIONS: dict[str, dict[str, Any]] = {
    "no name": {},
    "empty name": {"name": ""},
    "blank name": {"name": "   "},
    "overlong name": {"name": "N" * 101},
    "NUL in name": {"name": "Night\x00"},
    "line break in name": {"name": "Night\nSky"},
    "control character in description": {"name": "Night", "description": "bell\x07"},
    "carriage return in icon": {"name": "Night", "icon": "mo\ron"},
    "color name": {"name": "Night", "color": "red"},
    "short color": {"name": "Night", "color": "#12345"},
    "non-hex color": {"name": "Night", "color": "#12345G"},
    "uppercase slug": {"name": "Night", "slug": "Night"},
    "slug with a space": {"name": "Night", "slug": "night sky"},
    "slug with a leading hyphen": {"name": "Night", "slug": "-night"},
    "slug with a double hyphen": {"name": "Night", "slug": "night--sky"},
    "overlong slug": {"name": "Night", "slug": "n" * 101},
    "empty slug": {"name": "Night", "slug": ""},
    "unknown field": {"name": "Night", "colour": "#000000"},
    "huge sort order": {"name": "Night", "sort_order": 10_000_000},
    "non-boolean is_active": {"name": "Night", "is_active": "maybe"},
    "name without letters or digits": {"name": "!!!"},
    "name without ASCII letters": {"name": "東京"},
}


@pytest.mark.parametrize("body", INVALID_CREATIONS.values(), ids=INVALID_CREATIONS.keys())
async def test_invalid_categories_are_422(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, body: dict[str, Any]
) -> None:
    headers = await admin_headers(session, runtime)

    response = await client.post(CATEGORIES, json=body, headers=headers)

    assert_problem(response, 422)
    assert await category_count(session) == 0
    assert await audit_log(session) == []


# Changing


async def test_a_patch_changes_only_the_fields_sent(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    headers = await admin_headers(session, runtime)
    category = await make_category(
        session,
        name="Night",
        slug="night",
        description="Dark",
        icon="moon",
        color="#000000",
        sort_order=2,
    )
    await session.commit()
    updated_before = category.updated_at

    response = await client.patch(
        path("night"), json={"description": "Darker", "color": None}, headers=headers
    )

    assert response.status_code == 200, response.text
    changed = response.json()
    assert (changed["description"], changed["color"]) == ("Darker", None)
    assert (changed["name"], changed["slug"], changed["icon"]) == ("Night", "night", "moon")
    assert (changed["sort_order"], changed["is_active"]) == (2, True)
    after = await stored(session, "night")
    assert after is not None
    assert (after.description, after.color, after.icon) == ("Darker", None, "moon")
    assert after.updated_at > updated_before


async def test_a_patch_can_change_the_slug(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    headers = await admin_headers(session, runtime)
    category = await make_category(session, name="Night", slug="night")
    await session.commit()

    response = await client.patch(path("night"), json={"slug": "late-night"}, headers=headers)

    assert response.status_code == 200, response.text
    assert response.json()["slug"] == "late-night"
    assert_problem(await client.get(path("night")), 404)
    assert (await client.get(path("late-night"))).json()["id"] == str(category.id)


async def test_a_patch_may_repeat_the_current_slug_and_name(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    headers = await admin_headers(session, runtime)
    await make_category(session, name="Night", slug="night")
    await session.commit()

    response = await client.patch(
        path("night"), json={"name": "Night", "slug": "night"}, headers=headers
    )

    assert response.status_code == 200, response.text


async def test_deactivating_hides_a_category_from_the_public_list(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    headers = await admin_headers(session, runtime)
    await make_category(session, name="Night", slug="night")
    await session.commit()

    response = await client.patch(path("night"), json={"is_active": False}, headers=headers)

    assert response.status_code == 200, response.text
    assert (await walk(client))[0] == []
    assert (await walk(client, headers, include_inactive="true"))[0] == ["night"]


@pytest.mark.parametrize("holder_deleted", [False, True], ids=["live", "deleted"])
@pytest.mark.parametrize("changes", [{"slug": "day"}, {"name": "Day"}], ids=["slug", "name"])
async def test_changing_to_a_taken_slug_or_name_is_409(
    client: httpx.AsyncClient,
    session: AsyncSession,
    runtime: Runtime,
    holder_deleted: bool,
    changes: dict[str, Any],
) -> None:
    headers = await admin_headers(session, runtime)
    await make_category(session, name="Night", slug="night")
    await make_category(
        session, name="Day", slug="day", deleted_at=utcnow() if holder_deleted else None
    )
    await session.commit()

    response = await client.patch(path("night"), json=changes, headers=headers)

    assert_problem(response, 409)
    after = await stored(session, "night")
    assert after is not None
    assert after.name == "Night"
    assert await audit_log(session) == []


INVALID_CHANGES: dict[str, dict[str, Any]] = {
    "null name": {"name": None},
    "null slug": {"slug": None},
    "null is_active": {"is_active": None},
    "null sort_order": {"sort_order": None},
    "empty name": {"name": ""},
    "overlong name": {"name": "N" * 101},
    "tab in name": {"name": "Night\tSky"},
    "bad color": {"color": "blue"},
    "bad slug": {"slug": "Late Night"},
    "unknown field": {"nmae": "Day"},
}


@pytest.mark.parametrize("changes", INVALID_CHANGES.values(), ids=INVALID_CHANGES.keys())
async def test_invalid_changes_are_422(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, changes: dict[str, Any]
) -> None:
    headers = await admin_headers(session, runtime)
    await make_category(session, name="Night", slug="night", sort_order=5)
    await session.commit()

    response = await client.patch(path("night"), json=changes, headers=headers)

    assert_problem(response, 422)
    after = await stored(session, "night")
    assert after is not None
    assert (after.name, after.slug, after.is_active, after.sort_order) == (
        "Night",
        "night",
        True,
        5,
    )


@pytest.mark.parametrize("slug", ["nowhere", "gone"])
async def test_changing_an_unknown_or_deleted_category_is_404(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, slug: str
) -> None:
    headers = await admin_headers(session, runtime)
    await make_category(session, name="Gone", slug="gone", deleted_at=utcnow())
    await session.commit()

    response = await client.patch(path(slug), json={"name": "Back"}, headers=headers)

    assert_problem(response, 404)


# Deleting and restoring


async def test_deleting_is_soft(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    headers = await admin_headers(session, runtime)
    await make_category(session, name="Night", slug="night")
    await make_category(session, name="Day", slug="day")
    await session.commit()

    response = await client.delete(path("night"), headers=headers)

    assert response.status_code == 204
    assert response.content == b""
    assert_problem(await client.get(path("night")), 404)
    assert (await walk(client))[0] == ["day"]
    assert (await walk(client, headers, include_inactive="true"))[0] == ["day"]
    row = await stored(session, "night")
    assert row is not None
    assert row.deleted_at is not None
    assert utcnow() - row.deleted_at < timedelta(minutes=1)
    assert_problem(await client.delete(path("night"), headers=headers), 404)


async def test_a_deleted_category_is_restored(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    headers = await admin_headers(session, runtime)
    category = await make_category(session, name="Night", slug="night")
    await session.commit()
    assert (await client.delete(path("night"), headers=headers)).status_code == 204

    response = await client.post(path("night") + "/restore", headers=headers)

    assert response.status_code == 200, response.text
    assert response.json()["id"] == str(category.id)
    assert (await client.get(path("night"))).status_code == 200
    assert (await walk(client))[0] == ["night"]
    row = await stored(session, "night")
    assert row is not None
    assert row.deleted_at is None


@pytest.mark.parametrize(("days_ago", "status"), [(29, 200), (31, 409)])
async def test_restoring_is_possible_within_the_retention_period(
    client: httpx.AsyncClient,
    session: AsyncSession,
    runtime: Runtime,
    days_ago: int,
    status: int,
) -> None:
    assert runtime.settings.soft_delete_retention == timedelta(days=30)
    headers = await admin_headers(session, runtime)
    await make_category(
        session, name="Night", slug="night", deleted_at=utcnow() - timedelta(days=days_ago)
    )
    await session.commit()

    response = await client.post(path("night") + "/restore", headers=headers)

    assert response.status_code == status, response.text
    row = await stored(session, "night")
    assert row is not None
    assert (row.deleted_at is None) is (status == 200)
    if status == 409:
        assert_problem(response, 409)
        assert_problem(await client.get(path("night")), 404)


@pytest.mark.parametrize(
    ("slug", "status"), [("night", 409), ("nowhere", 404)], ids=["live", "unknown"]
)
async def test_restoring_a_live_category_is_409_and_an_unknown_one_404(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, slug: str, status: int
) -> None:
    headers = await admin_headers(session, runtime)
    await make_category(session, name="Night", slug="night")
    await session.commit()

    response = await client.post(path(slug) + "/restore", headers=headers)

    assert_problem(response, status)
    assert await audit_log(session) == []


# Rights and the audit trail

WRITES: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "create": ("POST", CATEGORIES, {"name": "Intruders"}),
    "update": ("PATCH", path("live"), {"name": "Taken over"}),
    "delete": ("DELETE", path("live"), None),
    "restore": ("POST", path("gone") + "/restore", None),
}


@pytest.mark.parametrize(
    "role", [None, *NOT_ADMINS], ids=["anonymous", *(role.value for role in NOT_ADMINS)]
)
@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
async def test_only_admins_write_categories(
    client: httpx.AsyncClient,
    session: AsyncSession,
    runtime: Runtime,
    write: tuple[str, str, dict[str, Any] | None],
    role: UserRole | None,
) -> None:
    headers = headers_for(runtime, await make_account(session, role=role)) if role else {}
    await make_category(session, name="Live", slug="live")
    await make_category(session, name="Gone", slug="gone", deleted_at=utcnow())
    await session.commit()
    method, url, body = write

    response = await client.request(method, url, json=body, headers=headers)

    if role is None:
        assert_problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
    else:
        assert_problem(response, 403)
    live, gone = await stored(session, "live"), await stored(session, "gone")
    assert live is not None
    assert (live.name, live.deleted_at) == ("Live", None)
    assert gone is not None
    assert gone.deleted_at is not None
    assert await category_count(session) == 2
    assert await audit_log(session) == []


async def test_every_admin_write_is_audited(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    admin = await make_account(session, role=UserRole.ADMIN)
    headers = headers_for(runtime, admin)

    created = await client.post(CATEGORIES, json={"name": "Night"}, headers=headers)
    assert created.status_code == 201, created.text
    changes = {"slug": "late-night", "sort_order": 7}
    assert (await client.patch(path("night"), json=changes, headers=headers)).status_code == 200
    assert (await client.delete(path("late-night"), headers=headers)).status_code == 204
    restored = await client.post(path("late-night") + "/restore", headers=headers)
    assert restored.status_code == 200

    entries = await audit_log(session)
    assert [entry.action for entry in entries] == [
        "category.create",
        "category.update",
        "category.delete",
        "category.restore",
    ]
    category_id = uuid.UUID(created.json()["id"])
    assert {(entry.actor_id, entry.target_type, entry.target_id) for entry in entries} == {
        (admin.id, "category", category_id)
    }
    assert [entry.details for entry in entries] == [
        {"slug": "night"},
        {"slug": "late-night", "changes": changes},
        {"slug": "late-night"},
        {"slug": "late-night"},
    ]


# The query plan


async def test_the_list_is_read_in_order_from_the_sort_order_index(
    session: AsyncSession, runtime: Runtime, backend: str
) -> None:
    repository = CategoryRepository(session)
    paginator = runtime.paginator
    next_page = PageRequest(cursor=paginator.codec.encode(CATEGORY_ORDER, [0, "Night"]))

    for include_inactive in (False, True):
        for page in (PageRequest(), next_page):
            stmt = paginator.apply(
                repository.listing(include_inactive=include_inactive), CATEGORY_ORDER, page
            )
            plan = await query_plan(session, stmt)
            if backend == "postgresql":
                used = r"Index (Only )?Scan using ix_categories_sort_order_name on categories"
                assert re.search(used, plan), plan
                assert "Sort" not in plan, plan
            else:
                used = (
                    r"(SCAN|SEARCH) categories USING (COVERING )?INDEX"
                    r" ix_categories_sort_order_name\b"
                )
                assert re.search(used, plan), plan
                assert "TEMP B-TREE" not in plan, plan
