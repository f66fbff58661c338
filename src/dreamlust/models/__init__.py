"""The ORM models. Importing this package registers every table on `Base.metadata`."""

from dreamlust.kit.model import Base
from dreamlust.models.billing import (
    CreatorTier,
    IdempotencyRecord,
    PaymentEvent,
    Subscription,
    Transaction,
)
from dreamlust.models.content import (
    Content,
    ContentPurchase,
    MediaAsset,
    content_categories,
    content_tags,
)
from dreamlust.models.creators import Creator, Follow, creator_categories
from dreamlust.models.engagement import Comment, Like, View, ViewMark
from dreamlust.models.jobs import JobCursor
from dreamlust.models.moderation import AuditLogEntry, ModerationCase, Report, ReporterRecord
from dreamlust.models.notifications import Notification, NotificationEvent
from dreamlust.models.playlists import Playlist, PlaylistItem
from dreamlust.models.taxonomy import Category, Tag
from dreamlust.models.users import EmailToken, RefreshToken, User

__all__ = [
    "AuditLogEntry",
    "Base",
    "Category",
    "Comment",
    "Content",
    "ContentPurchase",
    "Creator",
    "CreatorTier",
    "EmailToken",
    "Follow",
    "IdempotencyRecord",
    "JobCursor",
    "Like",
    "MediaAsset",
    "ModerationCase",
    "Notification",
    "NotificationEvent",
    "PaymentEvent",
    "Playlist",
    "PlaylistItem",
    "RefreshToken",
    "Report",
    "ReporterRecord",
    "Subscription",
    "Tag",
    "Transaction",
    "User",
    "View",
    "ViewMark",
    "content_categories",
    "content_tags",
    "creator_categories",
]
