"""User preferences: stored as one JSON document, always read through this model."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

Language = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", max_length=35)]


class Theme(StrEnum):
    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"


class NsfwPolicy(StrEnum):
    HIDE = "hide"
    BLUR = "blur"
    SHOW = "show"


class VideoQuality(StrEnum):
    AUTO = "auto"
    Q240 = "240p"
    Q360 = "360p"
    Q480 = "480p"
    Q720 = "720p"
    Q1080 = "1080p"
    Q1440 = "1440p"
    Q2160 = "2160p"


class Delivery(StrEnum):
    """How one type of notification reaches its recipient."""

    OFF = "off"
    IN_APP = "in_app"
    EMAIL = "email"
    BOTH = "both"

    @property
    def in_app(self) -> bool:
        return self in (Delivery.IN_APP, Delivery.BOTH)

    @property
    def by_email(self) -> bool:
        return self in (Delivery.EMAIL, Delivery.BOTH)

    def without_email(self) -> Delivery:
        return Delivery.IN_APP if self.in_app else Delivery.OFF


# Likes come in aggregate and often: in the app only, never by e-mail.
InAppOnly = Literal[Delivery.OFF, Delivery.IN_APP]


class NotificationSettings(BaseModel):
    """Per type of notification, how it is delivered; `email` off stops every e-mail."""

    model_config = ConfigDict(extra="forbid")

    email: bool = True
    new_follower: Delivery = Delivery.IN_APP
    new_subscriber: Delivery = Delivery.BOTH
    comments: Delivery = Delivery.IN_APP
    likes: InAppOnly = Delivery.IN_APP
    new_uploads: Delivery = Delivery.IN_APP
    payments: Delivery = Delivery.BOTH
    reviews: Delivery = Delivery.BOTH
    reports: Delivery = Delivery.IN_APP
    announcements: Delivery = Delivery.IN_APP


class Preferences(BaseModel):
    model_config = ConfigDict(extra="forbid")

    theme: Theme = Theme.SYSTEM
    language: Language = "en"
    nsfw_policy: NsfwPolicy = NsfwPolicy.HIDE
    autoplay: bool = True
    default_quality: VideoQuality = VideoQuality.AUTO
    hide_history: bool = False
    notifications: NotificationSettings = NotificationSettings()

    @classmethod
    def of(cls, stored: dict[str, Any] | None) -> Preferences:
        """Stored preferences with defaults for anything not yet set."""
        return cls.model_validate(stored or {})


class NotificationSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: StrictBool | None = None
    new_follower: Delivery | None = None
    new_subscriber: Delivery | None = None
    comments: Delivery | None = None
    likes: InAppOnly | None = None
    new_uploads: Delivery | None = None
    payments: Delivery | None = None
    reviews: Delivery | None = None
    reports: Delivery | None = None
    announcements: Delivery | None = None


class PreferencesUpdate(BaseModel):
    """A partial change: only the fields sent are changed."""

    model_config = ConfigDict(extra="forbid")

    theme: Theme | None = None
    language: Language | None = None
    nsfw_policy: NsfwPolicy | None = None
    autoplay: StrictBool | None = None
    default_quality: VideoQuality | None = None
    hide_history: StrictBool | None = None
    notifications: NotificationSettingsUpdate | None = None

    def apply_to(self, current: Preferences) -> Preferences:
        changes = self.model_dump(exclude_unset=True, exclude_none=True, exclude={"notifications"})
        merged = current.model_copy(update=changes)
        if self.notifications is not None:
            notifications = self.notifications.model_dump(exclude_unset=True, exclude_none=True)
            merged.notifications = current.notifications.model_copy(update=notifications)
        return Preferences.model_validate(merged.model_dump())
