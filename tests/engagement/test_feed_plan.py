"""The feed is read in order from an index, however many creators the viewer follows."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.content.repository import LATEST
from dreamlust.content.visibility import Viewer
from dreamlust.engagement.repository import FollowRepository
from dreamlust.models import User
from dreamlust.runtime import Runtime
from tests.content.test_query_plans import IN_ORDER_FOR_ONE_CREATOR, explain_cards
from tests.fixtures.plans import assert_read_in_order


async def test_the_feed_is_read_in_order_from_an_index(
    session: AsyncSession, runtime: Runtime, backend: str
) -> None:
    viewer = Viewer(user=User(id=uuid.uuid4()))
    follows = FollowRepository(session)

    plans = await explain_cards(
        session, runtime, LATEST, lambda page: follows.feed(viewer, page, runtime.paginator)
    )

    for plan in plans:
        assert_read_in_order(plan, "content", IN_ORDER_FOR_ONE_CREATOR[LATEST.scope], backend)
