"""Every enumeration of the data model, stored as its string value."""

from enum import StrEnum


class UserRole(StrEnum):
    USER = "USER"
    CREATOR = "CREATOR"
    MODERATOR = "MODERATOR"
    ADMIN = "ADMIN"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    def at_least(self, other: "UserRole") -> bool:
        return self.rank >= other.rank


_ROLE_RANK = {role: rank for rank, role in enumerate(UserRole)}


class UserStatus(StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    BANNED = "BANNED"
    INACTIVE = "INACTIVE"


class EmailTokenPurpose(StrEnum):
    VERIFY_EMAIL = "VERIFY_EMAIL"
    RESET_PASSWORD = "RESET_PASSWORD"  # noqa: S105 (a purpose, not a password)


class CreatorStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    SUSPENDED = "SUSPENDED"


class ContentType(StrEnum):
    VIDEO = "VIDEO"
    PHOTO = "PHOTO"
    VR = "VR"
    AUDIO = "AUDIO"
    LIVE_STREAM = "LIVE_STREAM"


class ContentStatus(StrEnum):
    DRAFT = "DRAFT"
    PENDING_REVIEW = "PENDING_REVIEW"
    PUBLISHED = "PUBLISHED"
    ARCHIVED = "ARCHIVED"
    REJECTED = "REJECTED"


class VRProjection(StrEnum):
    EQUIRECTANGULAR_360 = "EQUIRECTANGULAR_360"
    EQUIRECTANGULAR_180 = "EQUIRECTANGULAR_180"
    CUBEMAP = "CUBEMAP"
    FISHEYE = "FISHEYE"


class VRStereoFormat(StrEnum):
    MONO = "MONO"
    SIDE_BY_SIDE = "SIDE_BY_SIDE"
    TOP_BOTTOM = "TOP_BOTTOM"


class MediaAssetKind(StrEnum):
    MEDIA = "MEDIA"
    THUMBNAIL = "THUMBNAIL"
    POSTER = "POSTER"


class MediaAssetStatus(StrEnum):
    UPLOADING = "UPLOADING"
    PROCESSING = "PROCESSING"
    READY = "READY"
    FAILED = "FAILED"


class SubscriptionTier(StrEnum):
    BASIC = "BASIC"
    PREMIUM = "PREMIUM"
    VIP = "VIP"
    CUSTOM = "CUSTOM"


class SubscriptionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"
    PENDING = "PENDING"
    FAILED = "FAILED"


class BillingInterval(StrEnum):
    MONTH = "MONTH"
    YEAR = "YEAR"


class TransactionType(StrEnum):
    SUBSCRIPTION = "SUBSCRIPTION"
    TIP = "TIP"
    PREMIUM_CONTENT = "PREMIUM_CONTENT"
    REFUND = "REFUND"
    WITHDRAWAL = "WITHDRAWAL"


class TransactionStatus(StrEnum):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    REFUNDED = "REFUNDED"
    CANCELED = "CANCELED"


class NotificationType(StrEnum):
    NEW_FOLLOWER = "NEW_FOLLOWER"
    NEW_SUBSCRIBER = "NEW_SUBSCRIBER"
    NEW_COMMENT = "NEW_COMMENT"
    NEW_REPLY = "NEW_REPLY"
    NEW_LIKE = "NEW_LIKE"
    NEW_UPLOAD = "NEW_UPLOAD"
    CONTENT_APPROVED = "CONTENT_APPROVED"
    CONTENT_REJECTED = "CONTENT_REJECTED"
    PAYMENT_RECEIVED = "PAYMENT_RECEIVED"
    REPORT_RESOLVED = "REPORT_RESOLVED"
    SYSTEM_ANNOUNCEMENT = "SYSTEM_ANNOUNCEMENT"
    MENTION = "MENTION"


class Audience(StrEnum):
    """Who a notification event is for."""

    USER = "USER"
    FOLLOWERS = "FOLLOWERS"  # of a creator, and its live subscribers
    EVERYONE = "EVERYONE"
    ROLE = "ROLE"


class ReportTargetType(StrEnum):
    CONTENT = "CONTENT"
    COMMENT = "COMMENT"
    USER = "USER"
    CREATOR = "CREATOR"


class ReportType(StrEnum):
    SPAM = "SPAM"
    HARASSMENT = "HARASSMENT"
    INAPPROPRIATE_CONTENT = "INAPPROPRIATE_CONTENT"
    COPYRIGHT_VIOLATION = "COPYRIGHT_VIOLATION"
    FAKE_ACCOUNT = "FAKE_ACCOUNT"
    UNDERAGE = "UNDERAGE"
    OTHER = "OTHER"


class ReportStatus(StrEnum):
    PENDING = "PENDING"
    UNDER_REVIEW = "UNDER_REVIEW"
    RESOLVED = "RESOLVED"
    DISMISSED = "DISMISSED"
    ACTION_TAKEN = "ACTION_TAKEN"


class ModerationAction(StrEnum):
    NONE = "NONE"
    HIDE_CONTENT = "HIDE_CONTENT"
    DELETE_COMMENT = "DELETE_COMMENT"
    SUSPEND_USER = "SUSPEND_USER"
    BAN_USER = "BAN_USER"
