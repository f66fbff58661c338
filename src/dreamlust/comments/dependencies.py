"""Comments loaded as the caller may see them, or 404."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from dreamlust.comments import service
from dreamlust.comments.service import PlacedComment
from dreamlust.content.dependencies import ViewerDep
from dreamlust.dependencies import DbSession


async def get_live_comment(
    comment_id: uuid.UUID, viewer: ViewerDep, session: DbSession
) -> PlacedComment:
    """A comment that is not deleted, on content the caller may see."""
    return await service.locate(session, comment_id, viewer)


async def get_listed_comment(
    comment_id: uuid.UUID, viewer: ViewerDep, session: DbSession
) -> PlacedComment:
    """A comment as it appears in its list: live, or a tombstone that still has replies."""
    return await service.locate(session, comment_id, viewer, tombstones=True)


LiveComment = Annotated[PlacedComment, Depends(get_live_comment)]
ListedComment = Annotated[PlacedComment, Depends(get_listed_comment)]
