"""Where notifications go besides the database: e-mail, and the live feed of the API
processes. A process lends its outlets to every session of its database
(`Database.info`), so a delivery made in any transaction reaches them once it commits."""

from __future__ import annotations

import functools
import logging
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.config import API_PREFIX
from dreamlust.db import Database
from dreamlust.kit.after_commit import after_commit
from dreamlust.mail import MailDeliveryError, Mailer, OutgoingMail, notification_mail
from dreamlust.notifications.kinds import TOPICS
from dreamlust.notifications.live import LiveFeed
from dreamlust.notifications.unsubscribe import UnsubscribeTokens

logger = logging.getLogger(__name__)
_KEY = "notification_outlets"


@dataclass(frozen=True)
class Email:
    """A notification for one recipient, to be sent by e-mail."""

    user_id: uuid.UUID
    address: str
    setting: str
    title: str
    message: str | None
    link: str | None


@dataclass(frozen=True)
class Outlets:
    mailer: Mailer
    feed: LiveFeed
    unsubscribe: UnsubscribeTokens
    public_url: str

    def lend_to(self, database: Database) -> None:
        """A database's sessions reach the outlets of one process's runtime."""
        if database.info.get(_KEY, self) is not self:
            raise RuntimeError("this database lends its sessions to another runtime already")
        database.info[_KEY] = self

    def lend_to_session(self, session: AsyncSession) -> None:
        session.info[_KEY] = self

    def unsubscribe_link(self, user_id: uuid.UUID, setting: str) -> str:
        token = self.unsubscribe.issue(user_id, setting)
        query = urlencode({"token": token})
        return f"{self.public_url.rstrip('/')}{API_PREFIX}/notifications/unsubscribe?{query}"

    def mail(self, email: Email) -> OutgoingMail:
        link = None if email.link is None else f"{self.public_url.rstrip('/')}{email.link}"
        return notification_mail(
            email.address,
            title=email.title,
            message=email.message,
            link=link,
            unsubscribe_link=self.unsubscribe_link(email.user_id, email.setting),
            topic=TOPICS[email.setting],
        )

    async def send(self, emails: list[Email]) -> None:
        for email in emails:
            try:
                await self.mailer.send(self.mail(email))
            except (MailDeliveryError, ValueError):  # logged by the mailer, or a bad header
                logger.warning("a notification e-mail to user %s was not sent", email.user_id)


def outlets_of(session: AsyncSession) -> Outlets:
    try:
        outlets: Outlets = session.info[_KEY]
    except KeyError:
        raise RuntimeError("this session's database has no notification outlets") from None
    return outlets


def after_delivery(
    session: AsyncSession, in_app: list[uuid.UUID], emails: list[Email] | None = None
) -> None:
    """Once the session's transaction commits: wake the live streams of the users who got
    a notification in the app, and send the e-mails."""
    outlets = outlets_of(session)
    if in_app:
        after_commit(session, functools.partial(outlets.feed.publish, in_app))
    if emails:
        after_commit(session, functools.partial(outlets.send, emails))
