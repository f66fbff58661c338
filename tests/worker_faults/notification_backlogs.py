"""Backlogs of the notification jobs: an announcement to fan out, likes to tell, old
read notifications to forget."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import insert, text

from dreamlust.kit.clock import utcnow
from dreamlust.kit.ids import new_id
from dreamlust.models import Content, JobCursor, Like, NotificationEvent
from dreamlust.models.enums import Audience, ContentStatus, ContentType, NotificationType
from dreamlust.notifications.likes import CURSOR
from tests.fixtures.factories import make_creator, make_user, make_users_in_bulk
from tests.fixtures.worker_process import statement_running
from tests.worker_faults.scene import Scene


@dataclass
class Announcement:
    """A system announcement to everyone, fanned out in batches of 500 recipients, one
    transaction each."""

    recipients: int = 6_000
    variables: dict[str, str] = field(default_factory=dict)
    event_id: uuid.UUID = field(default_factory=new_id)

    async def prepare(self, scene: Scene) -> None:
        async with scene.session() as session:
            await make_users_in_bulk(session, self.recipients)
            await session.execute(
                insert(NotificationEvent).values(
                    id=self.event_id,
                    type=NotificationType.SYSTEM_ANNOUNCEMENT,
                    audience=Audience.EVERYONE,
                    title="Maintenance tonight",
                )
            )
            await session.commit()

    async def _delivered(self, scene: Scene) -> int:
        return await scene.count(
            "SELECT count(*) FROM notifications WHERE event_id = :event", event=self.event_id
        )

    async def at_work(self, scene: Scene) -> bool:
        return 0 < await self._delivered(scene) < self.recipients

    async def assert_unfinished(self, scene: Scene) -> None:
        assert await self._delivered(scene) < self.recipients
        undelivered = await scene.count(
            "SELECT count(*) FROM notification_events WHERE delivered_at IS NULL"
        )
        assert undelivered == 1

    async def before_rerun(self, scene: Scene) -> None:
        return None

    async def assert_finished(self, scene: Scene) -> None:
        assert await self._delivered(scene) == self.recipients
        everyone = await scene.count(
            "SELECT count(*) FROM users WHERE id IN "
            "(SELECT user_id FROM notifications WHERE event_id = :event)",
            event=self.event_id,
        )
        assert everyone == self.recipients
        assert await scene.count("SELECT count(*) FROM notifications") == self.recipients
        undelivered = await scene.count(
            "SELECT count(*) FROM notification_events WHERE delivered_at IS NULL"
        )
        assert undelivered == 0


@dataclass
class UntoldLikes:
    """Likes of many items not told to their creators yet, read 1,000 at a time, each
    batch one transaction that moves the job's cursor."""

    creators: int = 10
    items_per_creator: int = 10
    likers: int = 80
    variables: dict[str, str] = field(default_factory=dict)
    started_at: datetime = field(default_factory=lambda: utcnow() - timedelta(minutes=30))
    owners: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.creators * self.items_per_creator * self.likers

    async def prepare(self, scene: Scene) -> None:
        async with scene.session() as session:
            for _ in range(self.creators):
                owner = await make_user(session, is_creator=True)
                creator = await make_creator(session, owner)
                for number in range(self.items_per_creator):
                    item_id = new_id()
                    self.owners[item_id] = owner.id
                    await session.execute(
                        insert(Content).values(
                            id=item_id,
                            creator_id=creator.id,
                            title=f"Liked {number}",
                            type=ContentType.PHOTO,
                            status=ContentStatus.PUBLISHED,
                            published_at=self.started_at - timedelta(days=1),
                        )
                    )
            likers = await make_users_in_bulk(session, self.likers)
            await session.execute(
                insert(Like),
                [
                    {
                        "content_id": item_id,
                        "user_id": liker,
                        "created_at": self.started_at + timedelta(milliseconds=number),
                    }
                    for number, (item_id, liker) in enumerate(
                        (item_id, liker) for liker in likers for item_id in self.owners
                    )
                ],
            )
            session.add(
                JobCursor(
                    name=CURSOR,
                    position_at=self.started_at - timedelta(seconds=1),
                    position_id=uuid.UUID(int=0),
                )
            )
            await session.commit()

    async def _told_up_to(self, scene: Scene) -> datetime:
        [row] = await scene.rows(
            "SELECT position_at FROM job_cursors WHERE name = :name", name=CURSOR
        )
        moment: datetime = row.position_at
        return moment

    async def at_work(self, scene: Scene) -> bool:
        return await self._told_up_to(scene) >= self.started_at

    async def assert_unfinished(self, scene: Scene) -> None:
        last = self.started_at + timedelta(milliseconds=self.total - 1)
        assert await self._told_up_to(scene) < last

    async def before_rerun(self, scene: Scene) -> None:
        return None

    async def assert_finished(self, scene: Scene) -> None:
        last = self.started_at + timedelta(milliseconds=self.total - 1)
        assert await self._told_up_to(scene) == last
        told = await scene.rows(
            "SELECT user_id, metadata FROM notifications WHERE type = 'NEW_LIKE'"
        )
        by_item = {uuid.UUID(row.metadata["content_id"]): row for row in told}
        assert len(by_item) == len(told) == len(self.owners)
        for item_id, owner in self.owners.items():
            assert by_item[item_id].user_id == owner
            assert by_item[item_id].metadata["count"] == self.likers


@dataclass
class OldReadNotifications:
    """Read notifications past the retention, deleted in one statement: a kill before
    its commit must leave every one."""

    old: int = 60_000
    variables: dict[str, str] = field(default_factory=dict)

    async def prepare(self, scene: Scene) -> None:
        now = utcnow()
        async with scene.session() as session:
            user = await make_user(session)
            for count, is_read, read_days_ago in (
                (self.old, True, 100),
                (100, False, None),
                (100, True, 10),
            ):
                await session.execute(
                    _NOTIFICATIONS_SQL,
                    {
                        "user": user.id,
                        "count": count,
                        "is_read": is_read,
                        "read_at": now - timedelta(days=read_days_ago) if read_days_ago else None,
                        "created_at": now - timedelta(days=120),
                    },
                )
            await session.commit()

    async def _old_read(self, scene: Scene) -> int:
        return await scene.count(
            "SELECT count(*) FROM notifications "
            "WHERE is_read AND read_at < now() - interval '90 days'"
        )

    async def at_work(self, scene: Scene) -> bool:
        return await statement_running(scene.database, "DELETE FROM notifications%")

    async def assert_unfinished(self, scene: Scene) -> None:
        assert await self._old_read(scene) == self.old

    async def before_rerun(self, scene: Scene) -> None:
        return None

    async def assert_finished(self, scene: Scene) -> None:
        assert await self._old_read(scene) == 0
        assert await scene.count("SELECT count(*) FROM notifications WHERE NOT is_read") == 100
        assert await scene.count("SELECT count(*) FROM notifications WHERE is_read") == 100


_NOTIFICATIONS_SQL = text(
    "INSERT INTO notifications (id, user_id, type, title, is_read, read_at, created_at) "
    "SELECT gen_random_uuid(), :user, 'SYSTEM_ANNOUNCEMENT', 'Notice ' || number, :is_read, "
    "CAST(:read_at AS timestamptz), CAST(:created_at AS timestamptz) "
    "FROM generate_series(1, :count) AS number"
)
