"""Who may call what: every route of the API, called by each kind of caller with a valid
request, so that the status shows the decision on rights alone; and nothing one account
owns is reachable, or changed, through its id by another account the rules keep out.

The table below has one row per route (a route with objects of different standing,
such as a draft beside a published item, has a row for each). Its columns are the
callers of `tests/fixtures/authorization_world.py`, in this order:

    anonymous, user, other_user, creator, other_creator, moderator, admin, banned, unverified

"user" and "creator" own the objects the rows name; "studio" is a creator no caller owns.
A banned account's token is refused (401) wherever a route reads the caller; an account
whose e-mail is unverified may do what any other user may.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from dreamlust.app import create_app
from dreamlust.config import API_PREFIX, Settings
from dreamlust.errors import PROBLEM_MEDIA_TYPE
from dreamlust.kit.soft_delete import INCLUDE_DELETED
from dreamlust.models import (
    Category,
    Comment,
    Content,
    Creator,
    CreatorTier,
    MediaAsset,
    Notification,
    Playlist,
    PlaylistItem,
    RefreshToken,
    Report,
    Subscription,
    Transaction,
    User,
    View,
)
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import STRONG_PASSWORD
from tests.fixtures.authorization_world import (
    API,
    CALLERS,
    UPLOAD_LENGTH,
    AuthorizationWorld,
    build_world,
    current_versions,
    filled,
    fresh_account,
    fresh_category,
    fresh_comment,
    fresh_content_in_review,
    fresh_deleted_account,
    fresh_deleted_category,
    fresh_deleted_comment,
    fresh_deleted_content,
    fresh_draft,
    fresh_handle,
    fresh_notification,
    fresh_paid_creator,
    fresh_payment,
    fresh_pending_creator,
    fresh_pinned_comment,
    fresh_playlist,
    fresh_report,
    fresh_subscription,
    fresh_upload,
    fresh_user_session,
    money,
)
from tests.fixtures.factories import PASSWORD
from tests.fixtures.moderation import api_with
from tests.fixtures.money import signed_webhook
from tests.fixtures.serving import listening
from tests.fixtures.uploads import TUS, metadata, mp4_bytes, png_bytes

Values = Mapping[str, str]
Fresh = Callable[[AuthorizationWorld], Awaitable[dict[str, str]]]
Snapshot = Callable[[AsyncSession, Values], Awaitable[Any]]
Payload = Callable[[AuthorizationWorld, Values], dict[str, Any]]


def _columns(found: Any) -> dict[str, Any]:
    return {column.key: getattr(found, column.key) for column in inspect(type(found)).column_attrs}


def row(model: type[Any], key: str) -> Snapshot:
    """The stored columns of the `model` row whose id is the value `key`, deleted or not."""

    async def read(session: AsyncSession, values: Values) -> dict[str, Any]:
        found = await session.get(
            model,
            uuid.UUID(values[key]),
            populate_existing=True,
            execution_options={INCLUDE_DELETED: True},
        )
        await session.commit()
        assert found is not None, f"no {model.__name__} {values[key]}"
        return _columns(found)

    return read


def rows_of(column: InstrumentedAttribute[uuid.UUID | None], key: str) -> Snapshot:
    """The stored columns of every row whose `column` is the value `key`."""

    async def read(session: AsyncSession, values: Values) -> list[dict[str, Any]]:
        found = await session.scalars(
            select(column.class_)
            .where(column == uuid.UUID(values[key]))
            .execution_options(populate_existing=True, **{INCLUDE_DELETED: True})
        )
        rows = sorted((_columns(item) for item in found), key=repr)
        await session.commit()
        return rows

    return read


def both(*snapshots: Snapshot) -> Snapshot:
    async def read(session: AsyncSession, values: Values) -> list[Any]:
        return [await snapshot(session, values) for snapshot in snapshots]

    return read


PLAYLIST_AND_ITEMS = both(
    row(Playlist, "playlist_id"), rows_of(PlaylistItem.playlist_id, "playlist_id")
)
USER_ACCOUNT = row(User, "user_id")
CREATOR_PROFILE = row(Creator, "creator_id")


def expect(statuses: str) -> dict[str, int]:
    """One status per caller, in the order of `CALLERS`."""
    codes = [int(code) for code in statuses.split()]
    assert len(codes) == len(CALLERS), statuses
    return dict(zip(CALLERS, codes, strict=True))


def tus_creation(_world: AuthorizationWorld, _values: Values) -> dict[str, Any]:
    return {
        "headers": {
            **TUS,
            "Upload-Length": str(UPLOAD_LENGTH),
            "Upload-Metadata": metadata(filename="clip.mp4"),
        }
    }


def tus_head(_world: AuthorizationWorld, _values: Values) -> dict[str, Any]:
    return {"headers": TUS}


def tus_chunk(_world: AuthorizationWorld, _values: Values) -> dict[str, Any]:
    return {
        "content": mp4_bytes(1024),
        "headers": {
            **TUS,
            "Content-Type": "application/offset+octet-stream",
            "Upload-Offset": "0",
        },
    }


def thumbnail(_world: AuthorizationWorld, _values: Values) -> dict[str, Any]:
    return {"files": {"file": ("thumb.png", png_bytes(), "image/png")}}


def payment_event(world: AuthorizationWorld, values: Values) -> dict[str, Any]:
    body, headers = signed_webhook(world.runtime.settings, "charge.succeeded", values["reference"])
    return {"content": body, "headers": headers}


@dataclass(frozen=True)
class Case:
    """One row: `route` as the application declares it, `url` as called (the route's
    template by default), the request, and the status each caller must get.

    `fresh` makes the objects one caller's request uses (its values fill the
    templates); `versions` adds the caller's own `my_version` and `my_creator_version`.
    `owner` names the account owning the object the url names: another user and
    another creator must then be kept out (403 or 404). `snapshot` reads that object
    back: whoever is not among `changers` (by default, the callers answered 2xx) must
    leave it as it was."""

    method: str
    route: str
    expected: dict[str, int]
    url: str | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    fresh: Fresh | None = None
    versions: bool = False
    money: bool = False
    payload: Payload | None = None
    owner: str | None = None
    snapshot: Snapshot | None = None
    changers: frozenset[str] | None = None
    stream: bool = False

    def __post_init__(self) -> None:
        if self.owner is not None:
            outsiders = {self.expected["other_user"], self.expected["other_creator"]}
            assert outsiders <= {403, 404}, f"{self}: another account reaches the object"
            assert self.expected[self.owner] < 300, f"{self}: its owner is refused"

    def __str__(self) -> str:
        return f"{self.method} {self.url or self.route}"

    def may_change(self, caller: str) -> bool:
        if self.changers is not None:
            return caller in self.changers
        return 200 <= self.expected[caller] < 300


#                       anon user othr crtr ocrt mod  admn ban  unvf
EVERYONE_200 = expect("200  200  200  200  200  200  200  200  200")
READERS_200 = expect("200  200  200  200  200  200  200  401  200")
SIGNED_IN_200 = expect("401  200  200  200  200  200  200  401  200")
SIGNED_IN_201 = expect("401  201  201  201  201  201  201  401  201")
STAFF_200 = expect("401  403  403  403  403  200  200  401  403")
ADMIN_200 = expect("401  403  403  403  403  403  200  401  403")
CREATORS_200 = expect("401  403  403  200  200  404  404  401  403")
USER_ONLY_200 = expect("401  200  404  404  404  404  404  401  404")
CREATOR_ONLY_200 = expect("401  404  404  200  404  404  404  401  404")
CREATOR_AND_STAFF_200 = expect("401  404  404  200  404  200  200  401  404")
UNPUBLISHED = expect("404  404  404  200  404  200  200  401  404")

AUTH_AND_ACCOUNTS = [
    Case(
        "POST",
        "/auth/register",
        expect("201  201  201  201  201  201  201  201  201"),
        body={
            "email": "{new_name}@example.com",
            "username": "{new_name}",
            "password": STRONG_PASSWORD,
        },
        fresh=fresh_account,
    ),
    Case(
        "POST",
        "/auth/login",
        EVERYONE_200,
        body={"login": "{account_username}", "password": PASSWORD},
        fresh=fresh_account,
    ),
    Case(
        "POST",
        "/auth/refresh",
        EVERYONE_200,
        body={"refresh_token": "{refresh_token}"},
        fresh=fresh_account,
    ),
    Case(
        "POST",
        "/auth/logout",
        expect("401  204  204  204  204  204  204  401  204"),
        body={"refresh_token": "{refresh_token}"},
        fresh=fresh_user_session,
        snapshot=rows_of(RefreshToken.user_id, "user_id"),
        changers=frozenset({"user"}),
    ),
    Case(
        "POST",
        "/auth/verify-email",
        EVERYONE_200,
        body={"token": "{verification_token}"},
        fresh=fresh_account,
    ),
    Case(
        "POST",
        "/auth/verify-email/resend",
        expect("401  202  202  202  202  202  202  401  202"),
    ),
    Case(
        "POST",
        "/auth/password-reset",
        expect("202  202  202  202  202  202  202  202  202"),
        body={"email": "{email}"},
    ),
    Case(
        "POST",
        "/auth/password-reset/confirm",
        expect("204  204  204  204  204  204  204  204  204"),
        body={"token": "{reset_token}", "new_password": "quiet-harbor-lantern-97"},
        fresh=fresh_account,
    ),
    Case("GET", "/users/me", SIGNED_IN_200),
    Case(
        "PATCH",
        "/users/me",
        SIGNED_IN_200,
        body={"display_name": "Renamed"},
        headers={"If-Match": '"{my_version}"'},
        versions=True,
        snapshot=USER_ACCOUNT,
        changers=frozenset({"user"}),
    ),
    Case(
        "DELETE",
        "/users/me",
        expect("401  204  204  204  204  204  204  401  204"),
        body={"password": PASSWORD},
        snapshot=USER_ACCOUNT,
        changers=frozenset({"user"}),
    ),
    Case("GET", "/users/me/preferences", SIGNED_IN_200),
    Case(
        "PATCH",
        "/users/me/preferences",
        SIGNED_IN_200,
        body={"theme": "dark"},
        snapshot=USER_ACCOUNT,
        changers=frozenset({"user"}),
    ),
    Case("GET", "/users/{username}", EVERYONE_200),
    Case("GET", "/users/{username}/playlists", EVERYONE_200),
    Case("GET", "/users/me/history", SIGNED_IN_200),
    Case(
        "DELETE",
        "/users/me/history",
        expect("401  204  204  204  204  204  204  401  204"),
        snapshot=rows_of(View.user_id, "user_id"),
        changers=frozenset({"user"}),
    ),
    Case("GET", "/users/me/likes", SIGNED_IN_200),
    Case("GET", "/users/me/following", SIGNED_IN_200),
    Case("GET", "/users/me/feed", SIGNED_IN_200),
    Case("GET", "/admin/users", ADMIN_200),
    Case("GET", "/admin/users/{user_id}", ADMIN_200),
    Case(
        "PATCH",
        "/admin/users/{user_id}",
        ADMIN_200,
        url="/admin/users/{account_id}",
        body={"status": "SUSPENDED"},
        headers={"If-Match": '"1"'},
        fresh=fresh_account,
        snapshot=row(User, "account_id"),
    ),
    Case(
        "POST",
        "/admin/users/{user_id}/restore",
        ADMIN_200,
        url="/admin/users/{account_id}/restore",
        fresh=fresh_deleted_account,
        snapshot=row(User, "account_id"),
    ),
]

CREATORS = [
    Case(
        "POST",
        "/creators",
        expect("401  201  201  409  409  201  201  401  201"),
        body={"display_name": "New Creator", "handle": "{handle}"},
        fresh=fresh_handle,
    ),
    Case("GET", "/creators", EVERYONE_200),
    Case("GET", "/creators/me", CREATORS_200),
    Case(
        "PATCH",
        "/creators/me",
        CREATORS_200,
        body={"display_name": "Renamed"},
        headers={"If-Match": '"{my_creator_version}"'},
        versions=True,
        snapshot=CREATOR_PROFILE,
        changers=frozenset({"creator"}),
    ),
    Case("GET", "/creators/me/earnings", CREATORS_200),
    Case("GET", "/creators/me/statistics", CREATORS_200),
    Case("GET", "/creators/me/statistics/content", CREATORS_200),
    Case("GET", "/creators/me/subscribers", CREATORS_200),
    Case(
        "PUT",
        "/creators/me/tiers",
        CREATORS_200,
        body={"tiers": [{"tier": "BASIC", "price": "6.00", "currency": "USD"}]},
        snapshot=rows_of(CreatorTier.creator_id, "creator_id"),
        changers=frozenset({"creator"}),
    ),
    Case(
        "POST",
        "/creators/me/withdrawals",
        expect("401  403  403  201  201  404  404  401  403"),
        body={"amount": "1.00", "currency": "USD"},
        money=True,
        snapshot=rows_of(Transaction.creator_id, "creator_id"),
        changers=frozenset({"creator"}),
    ),
    Case("GET", "/creators/{handle}", READERS_200, url="/creators/{creator_handle}"),
    Case(
        "GET",
        "/creators/{handle}/content",
        READERS_200,
        url="/creators/{creator_handle}/content",
    ),
    Case(
        "GET",
        "/creators/{handle}",
        expect("404  404  404  404  404  200  200  401  404"),
        url="/creators/{pending_handle}",
    ),
    Case(
        "GET",
        "/creators/{handle}/content",
        expect("404  404  404  404  404  200  200  401  404"),
        url="/creators/{pending_handle}/content",
    ),
    Case("GET", "/creators/{handle}/tiers", EVERYONE_200, url="/creators/{creator_handle}/tiers"),
    Case("PUT", "/creators/{handle}/follow", SIGNED_IN_200, url="/creators/{studio_handle}/follow"),
    Case(
        "DELETE", "/creators/{handle}/follow", SIGNED_IN_200, url="/creators/{studio_handle}/follow"
    ),
    Case(
        "POST",
        "/creators/{handle}/subscriptions",
        SIGNED_IN_201,
        body={"tier": "BASIC"},
        money=True,
        fresh=fresh_paid_creator,
    ),
    Case(
        "POST",
        "/creators/{handle}/tips",
        SIGNED_IN_201,
        url="/creators/{studio_handle}/tips",
        body={"amount": "2.00", "currency": "USD"},
        money=True,
    ),
    Case(
        "POST",
        "/admin/creators/{creator_id}/{decision}",
        STAFF_200,
        url="/admin/creators/{pending_creator_id}/approve",
        fresh=fresh_pending_creator,
        snapshot=row(Creator, "pending_creator_id"),
    ),
]

CONTENT = [
    Case(
        "POST",
        "/content",
        expect("401  403  403  201  201  404  404  401  403"),
        body={"title": "Fresh", "type": "VIDEO"},
    ),
    Case("GET", "/content", READERS_200),
    Case("GET", "/content/trending", READERS_200),
    Case("GET", "/search", READERS_200, url="/search?q=content"),
    Case("GET", "/content/{content_id}", READERS_200, url="/content/{published_id}"),
    Case(
        "GET",
        "/content/{content_id}",
        UNPUBLISHED,
        url="/content/{draft_id}",
        owner="creator",
    ),
    Case(
        "PATCH",
        "/content/{content_id}",
        CREATOR_AND_STAFF_200,
        body={"title": "Changed"},
        headers={"If-Match": '"1"'},
        fresh=fresh_draft,
        owner="creator",
        snapshot=row(Content, "content_id"),
    ),
    Case(
        "DELETE",
        "/content/{content_id}",
        expect("401  404  404  204  404  204  204  401  404"),
        fresh=fresh_draft,
        owner="creator",
        snapshot=row(Content, "content_id"),
    ),
    Case(
        "POST",
        "/content/{content_id}/publish",
        CREATOR_ONLY_200,
        fresh=fresh_draft,
        owner="creator",
        snapshot=row(Content, "content_id"),
    ),
    Case(
        "POST",
        "/content/{content_id}/restore",
        CREATOR_AND_STAFF_200,
        fresh=fresh_deleted_content,
        owner="creator",
        snapshot=row(Content, "content_id"),
    ),
    Case(
        "POST",
        "/content/{content_id}/review",
        expect("401  404  404  403  404  200  200  401  404"),
        body={"decision": "approve"},
        fresh=fresh_content_in_review,
        snapshot=row(Content, "content_id"),
    ),
    Case(
        "POST",
        "/content/{content_id}/media",
        expect("401  404  404  201  404  404  404  401  404"),
        url="/content/{draft_id}/media",
        payload=tus_creation,
        owner="creator",
        snapshot=rows_of(MediaAsset.content_id, "draft_id"),
    ),
    Case(
        "OPTIONS",
        "/content/{content_id}/media",
        expect("204  204  204  204  204  204  204  204  204"),
        url="/content/{draft_id}/media",
    ),
    Case(
        "POST",
        "/content/{content_id}/thumbnail",
        expect("401  404  404  201  404  404  404  401  404"),
        url="/content/{draft_id}/thumbnail",
        payload=thumbnail,
        owner="creator",
        snapshot=rows_of(MediaAsset.content_id, "draft_id"),
    ),
    Case(
        "GET",
        "/content/{content_id}/media",
        CREATOR_AND_STAFF_200,
        url="/content/{draft_id}/media",
        owner="creator",
    ),
    Case("GET", "/media/{asset_id}", READERS_200, url="/media/{media_id}"),
    Case("HEAD", "/media/{asset_id}", READERS_200, url="/media/{media_id}"),
    Case("GET", "/media/{asset_id}", UNPUBLISHED, url="/media/{draft_media_id}", owner="creator"),
    Case(
        "GET",
        "/media/{asset_id}",
        expect("403  200  403  200  403  200  200  401  403"),
        url="/media/{premium_media_id}",
        owner="creator",
    ),
    Case(
        "GET",
        "/content/{content_id}/hls/{path}",
        READERS_200,
        url="/content/{published_id}/hls/master.m3u8",
    ),
    Case(
        "GET",
        "/media/{asset_id}",
        UNPUBLISHED,
        url="/media/{loose_media_id}",
        owner="creator",
    ),
    Case(
        "GET",
        "/content/{content_id}/hls/{path}",
        UNPUBLISHED,
        url="/content/{draft_id}/hls/master.m3u8",
        owner="creator",
    ),
    Case(
        "GET",
        "/content/{content_id}/hls/{path}",
        expect("403  200  403  200  403  200  200  401  403"),
        url="/content/{premium_id}/hls/720p/segment-00000.ts",
        owner="creator",
    ),
    Case(
        "HEAD",
        "/content/{content_id}/hls/{path}",
        READERS_200,
        url="/content/{published_id}/hls/720p/index.m3u8",
    ),
    Case(
        "POST",
        "/content/{content_id}/views",
        expect("202  202  202  202  202  202  202  401  202"),
        url="/content/{published_id}/views",
    ),
    Case(
        "POST",
        "/content/{content_id}/views",
        expect("404  404  404  202  404  202  202  401  404"),
        url="/content/{draft_id}/views",
        owner="creator",
        snapshot=row(Content, "draft_id"),
    ),
    Case("PUT", "/content/{content_id}/like", SIGNED_IN_200, url="/content/{published_id}/like"),
    Case(
        "PUT",
        "/content/{content_id}/like",
        CREATOR_AND_STAFF_200,
        url="/content/{draft_id}/like",
        owner="creator",
        snapshot=row(Content, "draft_id"),
    ),
    Case("DELETE", "/content/{content_id}/like", SIGNED_IN_200, url="/content/{published_id}/like"),
    Case(
        "GET",
        "/content/{content_id}/comments",
        READERS_200,
        url="/content/{published_id}/comments",
    ),
    Case(
        "POST",
        "/content/{content_id}/comments",
        SIGNED_IN_201,
        url="/content/{published_id}/comments",
        body={"text": "Lovely light"},
    ),
    Case(
        "GET",
        "/content/{content_id}/comments",
        UNPUBLISHED,
        url="/content/{draft_id}/comments",
        owner="creator",
    ),
    Case(
        "POST",
        "/content/{content_id}/comments",
        expect("401  404  404  201  404  201  201  401  404"),
        url="/content/{draft_id}/comments",
        body={"text": "Lovely light"},
        owner="creator",
        snapshot=row(Content, "draft_id"),
    ),
    Case(
        "POST",
        "/content/{content_id}/purchase",
        SIGNED_IN_201,
        url="/content/{studio_premium_id}/purchase",
        money=True,
    ),
]

COMMENTS = [
    Case("GET", "/comments/{comment_id}", READERS_200),
    Case("GET", "/comments/{comment_id}/replies", READERS_200),
    Case(
        "GET",
        "/comments/{comment_id}",
        UNPUBLISHED,
        url="/comments/{draft_comment_id}",
        owner="creator",
    ),
    Case(
        "GET",
        "/comments/{comment_id}/replies",
        UNPUBLISHED,
        url="/comments/{draft_comment_id}/replies",
        owner="creator",
    ),
    Case(
        "PATCH",
        "/comments/{comment_id}",
        expect("401  200  403  403  403  403  403  401  403"),
        body={"text": "Edited"},
        headers={"If-Match": '"1"'},
        fresh=fresh_comment,
        owner="user",
        snapshot=row(Comment, "comment_id"),
    ),
    Case(
        "DELETE",
        "/comments/{comment_id}",
        expect("401  204  403  204  403  204  204  401  403"),
        fresh=fresh_comment,
        owner="user",
        snapshot=row(Comment, "comment_id"),
    ),
    Case(
        "POST",
        "/comments/{comment_id}/restore",
        STAFF_200,
        fresh=fresh_deleted_comment,
        snapshot=row(Comment, "comment_id"),
    ),
    Case(
        "POST",
        "/comments/{comment_id}/pin",
        expect("401  403  403  200  403  403  403  401  403"),
        fresh=fresh_comment,
        snapshot=row(Comment, "comment_id"),
    ),
    Case(
        "DELETE",
        "/comments/{comment_id}/pin",
        expect("401  403  403  200  403  403  403  401  403"),
        fresh=fresh_pinned_comment,
        snapshot=row(Comment, "comment_id"),
    ),
]

PLAYLISTS = [
    Case("GET", "/playlists", SIGNED_IN_200),
    Case("POST", "/playlists", SIGNED_IN_201, body={"name": "Later"}),
    Case(
        "GET",
        "/playlists/{playlist_id}",
        expect("404  200  404  404  404  404  404  401  404"),
        owner="user",
    ),
    Case("GET", "/playlists/{playlist_id}", READERS_200, url="/playlists/{public_playlist_id}"),
    Case(
        "PATCH",
        "/playlists/{playlist_id}",
        USER_ONLY_200,
        body={"name": "Renamed"},
        headers={"If-Match": '"1"'},
        fresh=fresh_playlist,
        owner="user",
        snapshot=PLAYLIST_AND_ITEMS,
    ),
    Case(
        "DELETE",
        "/playlists/{playlist_id}",
        expect("401  204  404  404  404  404  404  401  404"),
        fresh=fresh_playlist,
        owner="user",
        snapshot=PLAYLIST_AND_ITEMS,
    ),
    Case(
        "GET",
        "/playlists/{playlist_id}/items",
        expect("404  200  404  404  404  404  404  401  404"),
        owner="user",
    ),
    Case(
        "POST",
        "/playlists/{playlist_id}/items",
        expect("401  201  404  404  404  404  404  401  404"),
        body={"content_id": "{studio_item_id}"},
        fresh=fresh_playlist,
        owner="user",
        snapshot=PLAYLIST_AND_ITEMS,
    ),
    Case(
        "POST",
        "/playlists/{playlist_id}/items",
        expect("401  422  404  404  404  404  404  401  404"),
        body={"content_id": "{draft_id}"},
        fresh=fresh_playlist,
        snapshot=PLAYLIST_AND_ITEMS,
    ),
    Case(
        "DELETE",
        "/playlists/{playlist_id}/items/{content_id}",
        expect("401  204  404  404  404  404  404  401  404"),
        url="/playlists/{playlist_id}/items/{published_id}",
        fresh=fresh_playlist,
        owner="user",
        snapshot=PLAYLIST_AND_ITEMS,
    ),
    Case(
        "PUT",
        "/playlists/{playlist_id}/items/order",
        USER_ONLY_200,
        body={"content_ids": ["{premium_id}", "{published_id}"]},
        fresh=fresh_playlist,
        owner="user",
        snapshot=PLAYLIST_AND_ITEMS,
    ),
]

MONEY = [
    Case("GET", "/subscriptions", SIGNED_IN_200),
    Case("GET", "/subscriptions/{subscription_id}", USER_ONLY_200, owner="user"),
    Case(
        "PATCH",
        "/subscriptions/{subscription_id}",
        USER_ONLY_200,
        body={"auto_renew": False},
        headers={"If-Match": '"1"'},
        fresh=fresh_subscription,
        owner="user",
        snapshot=row(Subscription, "subscription_id"),
    ),
    Case(
        "DELETE",
        "/subscriptions/{subscription_id}",
        USER_ONLY_200,
        fresh=fresh_subscription,
        owner="user",
        snapshot=row(Subscription, "subscription_id"),
    ),
    Case("GET", "/transactions", SIGNED_IN_200),
    Case(
        "POST",
        "/admin/transactions/{transaction_id}/refund",
        expect("401  403  403  403  403  403  201  401  403"),
        money=True,
        fresh=fresh_payment,
        snapshot=row(Transaction, "transaction_id"),
    ),
    Case("POST", "/webhooks/payments", EVERYONE_200, payload=payment_event),
]

NOTIFICATIONS = [
    Case("GET", "/notifications", SIGNED_IN_200),
    Case("GET", "/notifications/unread-count", SIGNED_IN_200),
    Case(
        "POST",
        "/notifications/read-all",
        SIGNED_IN_200,
        snapshot=rows_of(Notification.user_id, "user_id"),
        changers=frozenset({"user"}),
    ),
    Case(
        "POST",
        "/notifications/{notification_id}/read",
        USER_ONLY_200,
        fresh=fresh_notification,
        owner="user",
        snapshot=row(Notification, "notification_id"),
    ),
    Case("GET", "/notifications/stream", SIGNED_IN_200, stream=True),
    Case(
        "GET",
        "/notifications/unsubscribe",
        EVERYONE_200,
        url="/notifications/unsubscribe?token={unsubscribe_token}",
    ),
    Case(
        "POST",
        "/notifications/unsubscribe",
        EVERYONE_200,
        url="/notifications/unsubscribe?token={unsubscribe_token}",
    ),
    Case(
        "POST",
        "/admin/announcements",
        expect("401  403  403  403  403  403  202  401  403"),
        body={"title": "Maintenance tonight"},
    ),
]

MODERATION = [
    Case(
        "POST",
        "/reports",
        SIGNED_IN_201,
        body={
            "target_type": "content",
            "target_id": "{studio_item_id}",
            "type": "SPAM",
            "reason": "Looks like spam",
        },
    ),
    Case(
        "POST",
        "/reports",
        expect("401  404  404  422  404  201  201  401  404"),
        body={
            "target_type": "content",
            "target_id": "{draft_id}",
            "type": "SPAM",
            "reason": "Looks like spam",
        },
    ),
    Case("GET", "/reports", SIGNED_IN_200),
    Case("GET", "/reports/{report_id}", USER_ONLY_200, owner="user"),
    Case("GET", "/moderation/reports", STAFF_200),
    Case("GET", "/moderation/reports/{report_id}", STAFF_200),
    Case(
        "PATCH",
        "/moderation/reports/{report_id}",
        STAFF_200,
        body={"status": "DISMISSED"},
        headers={"If-Match": '"1"'},
        fresh=fresh_report,
        snapshot=row(Report, "report_id"),
    ),
    Case("GET", "/moderation/audit", STAFF_200),
]

TAXONOMY = [
    Case("GET", "/categories", READERS_200),
    Case(
        "GET",
        "/categories",
        expect("401  403  403  403  403  403  200  401  403"),
        url="/categories?include_inactive=true",
    ),
    Case("GET", "/categories/{slug}", EVERYONE_200, url="/categories/{category_slug}"),
    Case(
        "POST",
        "/categories",
        expect("401  403  403  403  403  403  201  401  403"),
        body={"name": "Night Skies"},
    ),
    Case(
        "PATCH",
        "/categories/{slug}",
        ADMIN_200,
        body={"name": "Renamed"},
        fresh=fresh_category,
        snapshot=row(Category, "category_id"),
    ),
    Case(
        "DELETE",
        "/categories/{slug}",
        expect("401  403  403  403  403  403  204  401  403"),
        fresh=fresh_category,
        snapshot=row(Category, "category_id"),
    ),
    Case(
        "POST",
        "/categories/{slug}/restore",
        ADMIN_200,
        fresh=fresh_deleted_category,
        snapshot=row(Category, "category_id"),
    ),
    Case("GET", "/tags", EVERYONE_200),
]

UPLOADS = [
    Case(
        "HEAD",
        "/uploads/{asset_id}",
        CREATOR_ONLY_200,
        url="/uploads/{upload_id}",
        payload=tus_head,
        fresh=fresh_upload,
        owner="creator",
    ),
    Case(
        "PATCH",
        "/uploads/{asset_id}",
        expect("401  404  404  204  404  404  404  401  404"),
        url="/uploads/{upload_id}",
        payload=tus_chunk,
        fresh=fresh_upload,
        owner="creator",
        snapshot=row(MediaAsset, "upload_id"),
    ),
    Case(
        "DELETE",
        "/uploads/{asset_id}",
        expect("401  404  404  204  404  404  404  401  404"),
        url="/uploads/{upload_id}",
        payload=tus_head,
        fresh=fresh_upload,
        owner="creator",
        snapshot=row(MediaAsset, "upload_id"),
    ),
    Case(
        "OPTIONS",
        "/uploads/{asset_id}",
        expect("204  204  204  204  204  204  204  204  204"),
        url="/uploads/{upload_id}",
        fresh=fresh_upload,
    ),
]

CASES = [
    *AUTH_AND_ACCOUNTS,
    *CREATORS,
    *CONTENT,
    *COMMENTS,
    *PLAYLISTS,
    *MONEY,
    *NOTIFICATIONS,
    *MODERATION,
    *TAXONOMY,
    *UPLOADS,
]


@pytest.fixture(scope="module")
async def api(
    settings: Settings, runtime: Runtime
) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    """A client of the application with rate limits off (every caller repeats the same
    request within the minute: the limits are not what this table is about)."""
    async with api_with(settings, runtime, rate_limits_enabled=False) as served_api:
        yield served_api


@asynccontextmanager
async def client_for(
    case: Case, api: httpx.AsyncClient, runtime: Runtime
) -> AsyncIterator[httpx.AsyncClient]:
    """The client the case's requests go through: the application served over HTTP for
    a stream (the ASGI transport keeps a response until it ends), else `api`."""
    if not case.stream:
        yield api
        return
    async with (
        listening(create_app(runtime.settings, runtime=runtime)) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as http,
    ):
        yield http


async def send(
    http: httpx.AsyncClient, world: AuthorizationWorld, case: Case, caller: str, values: Values
) -> httpx.Response:
    """The case's request as `caller`; a stream is closed as soon as it has answered."""
    request = case.payload(world, values) if case.payload is not None else {}
    headers = {
        **(money(world, caller) if case.money else world.headers(caller)),
        **filled(case.headers, values),
        **request.pop("headers", {}),
    }
    url = API + filled(case.url or case.route, values)
    if case.body is not None:
        request["json"] = filled(case.body, values)
    if not case.stream:
        return await http.request(case.method, url, headers=headers, **request)
    async with http.stream(case.method, url, headers=headers) as response:
        return response


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_each_caller_gets_the_status_the_rules_give(
    api: tuple[httpx.AsyncClient, Runtime], session: AsyncSession, case: Case
) -> None:
    client, runtime = api
    world = await build_world(session, client, runtime)
    answers: dict[str, int] = {}
    changed_by: dict[str, tuple[Any, Any]] = {}

    async with client_for(case, client, runtime) as http:
        for caller in CALLERS:
            values = dict(world.values)
            if case.fresh is not None:
                values.update(await case.fresh(world))
            if case.versions:
                values.update(await current_versions(world, caller))
            before = await case.snapshot(session, values) if case.snapshot else None

            response = await send(http, world, case, caller, values)

            answers[caller] = response.status_code
            if response.status_code >= 400 and case.method != "HEAD":
                assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE, caller
            if response.status_code == 401:
                assert response.headers["www-authenticate"] == "Bearer", caller
            if case.snapshot is not None and not case.may_change(caller):
                after = await case.snapshot(session, values)
                if after != before:
                    changed_by[caller] = (before, after)

    assert answers == case.expected
    assert changed_by == {}, "a caller the rules keep out changed the object"


async def test_the_table_has_a_row_for_every_route_and_none_for_a_route_that_is_gone(
    settings: Settings,
) -> None:
    app = create_app(settings)
    routes = {
        (method, context.path_format.removeprefix(API_PREFIX))
        for context in iter_route_contexts(app.routes)
        if context.path_format is not None and context.path_format.startswith(API_PREFIX + "/")
        for method in getattr(context.original_route, "methods", None) or ()
    }
    table = {(case.method, case.route) for case in CASES}

    assert len(routes) > 100
    assert sorted(routes - table) == [], "routes without a row"
    assert sorted(table - routes) == [], "rows of routes that are gone"
