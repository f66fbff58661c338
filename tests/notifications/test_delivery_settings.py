"""Each type of notification is delivered as its recipient set it: off, in the app, by
e-mail or both. E-mails go to verified addresses of accounts that take e-mail, through
the mailer, with a one-click unsubscribe (RFC 8058) that stops just that type."""

from __future__ import annotations

from email.message import EmailMessage
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.models import Creator, User
from dreamlust.models.enums import ContentStatus
from dreamlust.notifications import service as notifications
from dreamlust.notifications.unsubscribe import UnsubscribeTokens
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for, mails, make_account
from tests.fixtures.factories import make_content
from tests.fixtures.money import API, paid_creator, tip

PREFERENCES = f"{API}/users/me/preferences"
UNSUBSCRIBE = f"{API}/notifications/unsubscribe"


async def _mailable_creator(session: AsyncSession) -> tuple[Creator, User]:
    """A creator whose owner has a verified address."""
    creator, owner = await paid_creator(session)
    owner.email_verified = True
    await session.commit()
    return creator, owner


async def _set(client: httpx.AsyncClient, runtime: Runtime, user: User, **settings: object) -> None:
    response = await client.patch(
        PREFERENCES, json={"notifications": settings}, headers=headers_for(runtime, user)
    )
    assert response.status_code == 200, response.text


async def _follow(client: httpx.AsyncClient, runtime: Runtime, creator: Creator, fan: User) -> None:
    path = f"{API}/creators/{creator.handle}/follow"
    assert (await client.put(path, headers=headers_for(runtime, fan))).status_code == 200


async def _in_app(client: httpx.AsyncClient, runtime: Runtime, user: User) -> list[str]:
    response = await client.get(f"{API}/notifications", headers=headers_for(runtime, user))
    return [item["title"] for item in response.json()["items"]]


def _mailed(runtime: Runtime, user: User) -> list[EmailMessage]:
    return mails(runtime.settings.mail_dir, user.email)


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def _unsubscribe_path(message: EmailMessage) -> str:
    link = str(message["List-Unsubscribe"]).strip("<>")
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


@pytest.mark.parametrize(
    ("delivery", "in_app", "by_mail"),
    [("off", False, False), ("in_app", True, False), ("email", False, True), ("both", True, True)],
)
async def test_a_notification_goes_where_its_type_is_set_to_go(
    client: httpx.AsyncClient,
    session: AsyncSession,
    runtime: Runtime,
    delivery: str,
    in_app: bool,
    by_mail: bool,
) -> None:
    creator, owner = await _mailable_creator(session)
    fan = await make_account(session, display_name="Fan Fiona")
    await _set(client, runtime, owner, new_follower=delivery)

    await _follow(client, runtime, creator, fan)

    assert await _in_app(client, runtime, owner) == (
        ["Fan Fiona started following you"] if in_app else []
    )
    sent = _mailed(runtime, owner)
    assert len(sent) == (1 if by_mail else 0)
    if by_mail:
        assert sent[0]["Subject"] == "Fan Fiona started following you"
        assert f"{runtime.settings.public_url}/users/{fan.username}" in _text(sent[0])
        assert sent[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert str(sent[0]["List-Unsubscribe"]).startswith(
            f"<{runtime.settings.public_url}{UNSUBSCRIBE}?token="
        )


async def test_types_follow_their_defaults_until_set(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner = await _mailable_creator(session)
    fan = await make_account(session)

    await _follow(client, runtime, creator, fan)  # new followers: in the app only
    assert _mailed(runtime, owner) == []
    response = await tip(client, runtime, fan, creator, "3.00")
    assert response.status_code == 201, response.text  # payments: in the app and by e-mail

    payment, follow = await _in_app(client, runtime, owner)
    assert "follow" in follow
    assert [message["Subject"] for message in _mailed(runtime, owner)] == [payment]


async def test_no_mail_to_an_unverified_address_or_an_account_that_takes_none(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    unverified_creator, unverified = await paid_creator(session)
    quiet_creator, quiet = await _mailable_creator(session)
    fan = await make_account(session)
    await _set(client, runtime, unverified, new_follower="both")
    await _set(client, runtime, quiet, new_follower="both", email=False)

    await _follow(client, runtime, unverified_creator, fan)
    await _follow(client, runtime, quiet_creator, fan)

    assert _mailed(runtime, unverified) == []
    assert _mailed(runtime, quiet) == []
    assert len(await _in_app(client, runtime, unverified)) == 1
    assert len(await _in_app(client, runtime, quiet)) == 1


async def test_one_click_unsubscribe_stops_the_mail_of_that_type_only(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner = await _mailable_creator(session)
    fans = [await make_account(session) for _ in range(2)]
    await _set(client, runtime, owner, new_follower="both", new_subscriber="both")
    await _follow(client, runtime, creator, fans[0])
    (mail,) = _mailed(runtime, owner)

    response = await client.post(
        _unsubscribe_path(mail),
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"setting": "new_follower", "delivery": "in_app"}
    again = await client.post(_unsubscribe_path(mail))
    assert again.json() == {"setting": "new_follower", "delivery": "in_app"}

    settings = (await client.get(PREFERENCES, headers=headers_for(runtime, owner))).json()
    assert settings["notifications"]["new_follower"] == "in_app"
    assert settings["notifications"]["new_subscriber"] == "both"
    await _follow(client, runtime, creator, fans[1])
    assert len(_mailed(runtime, owner)) == 1
    assert len(await _in_app(client, runtime, owner)) == 2


async def test_unsubscribing_from_mail_only_turns_the_type_off(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    owner = await make_account(session)
    token = runtime.unsubscribe_tokens.issue(owner.id, "payments")
    await _set(client, runtime, owner, payments="email")

    response = await client.post(UNSUBSCRIBE, params={"token": token})
    assert response.json() == {"setting": "payments", "delivery": "off"}


async def test_the_unsubscribe_page_changes_nothing_until_its_button_is_pressed(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    owner = await make_account(session)
    token = runtime.unsubscribe_tokens.issue(owner.id, "new_uploads")

    page = await client.get(UNSUBSCRIBE, params={"token": token})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "new uploads" in page.text
    assert 'method="post"' in page.text
    settings = (await client.get(PREFERENCES, headers=headers_for(runtime, owner))).json()
    assert settings["notifications"]["new_uploads"] == "in_app"


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_forged_or_broken_unsubscribe_token_is_400(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, method: str
) -> None:
    owner = await make_account(session)
    forged = UnsubscribeTokens(b"another secret entirely, 32 bytes!").issue(owner.id, "likes")
    access_token = headers_for(runtime, owner)["Authorization"].removeprefix("Bearer ")
    for token in (forged, "not-a-token", access_token):
        response = await client.request(method, UNSUBSCRIBE, params={"token": token})
        assert response.status_code == 400, token
        assert response.headers["content-type"] == "application/problem+json"
    assert (await client.request(method, UNSUBSCRIBE)).status_code == 422


async def test_a_new_upload_is_mailed_by_the_worker_to_the_followers_who_want_it(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner = await paid_creator(session)
    followers = [await make_account(session, email_verified=True) for _ in range(3)]
    for follower, delivery in zip(followers, ("both", "in_app", "off"), strict=True):
        await _follow(client, runtime, creator, follower)
        await _set(client, runtime, follower, new_uploads=delivery)
    draft = await make_content(
        session,
        creator,
        title="Harbour at dawn",
        status=ContentStatus.DRAFT,
        media_url="https://media.example.com/harbour.mp4",
        duration=60,
    )
    await session.commit()

    published = await client.post(
        f"{API}/content/{draft.id}/publish", headers=headers_for(runtime, owner)
    )
    assert published.status_code == 200, published.text
    assert [_mailed(runtime, follower) for follower in followers] == [[], [], []]
    await notifications.deliver_pending(runtime.database)

    (mail,) = _mailed(runtime, followers[0])
    assert "Harbour at dawn" in str(mail["Subject"])
    assert f"{runtime.settings.public_url}/content/{draft.id}" in _text(mail)
    assert [_mailed(runtime, follower) for follower in followers[1:]] == [[], []]
    assert [len(await _in_app(client, runtime, follower)) for follower in followers] == [1, 1, 0]
