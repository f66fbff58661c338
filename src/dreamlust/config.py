"""Every setting of the service, read once from the environment.

`DATABASE_URL` and `REDIS_URL` keep their conventional names; everything else is
`DREAMLUST_*`. Outside development a secret key must be set explicitly.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

API_PREFIX = "/api/v1"
_PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "dev", "development"})
_MIN_SECRET_LENGTH = 32
_MIN_METRICS_TOKEN_LENGTH = 16


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


def normalize_database_url(url: str) -> str:
    """Accept plain `postgresql://` and `sqlite://` URLs and pick the async drivers."""
    for plain, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgresql+psycopg://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DREAMLUST_", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    database_url: str = Field(
        default="sqlite+aiosqlite:///./dreamlust.db",
        validation_alias=AliasChoices("DATABASE_URL", "DREAMLUST_DATABASE_URL"),
    )
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_URL", "DREAMLUST_REDIS_URL")
    )
    secret_key: SecretStr | None = None
    secret_key_file: Path = Path("var/secret_key")

    db_pool_size: Annotated[int, Field(ge=1, le=200)] = 10
    db_max_overflow: Annotated[int, Field(ge=0, le=200)] = 10
    db_pool_recycle_seconds: Annotated[int, Field(ge=60)] = 1800
    db_echo: bool = False
    sqlite_busy_timeout_ms: Annotated[int, Field(ge=0)] = 10_000
    # How long a PostgreSQL migration waits for a table lock before it gives up (and can be
    # run again), rather than stalling every query queued behind its lock request.
    migration_lock_timeout_seconds: Annotated[int, Field(ge=1, le=600)] = 10

    access_token_minutes: Annotated[int, Field(ge=1, le=1440)] = 15
    refresh_token_days: Annotated[int, Field(ge=1, le=365)] = 30
    email_verification_hours: Annotated[int, Field(ge=1)] = 24
    password_reset_minutes: Annotated[int, Field(ge=5)] = 60
    public_url: str = "http://127.0.0.1:8000"
    auto_approve_creators: bool = True
    content_review_required: bool = False
    # Open reports on published content whose weighted score reaches this take it off
    # every listing until staff decide; None leaves it listed.
    moderation_auto_hide_score: Annotated[float, Field(gt=0)] | None = None

    mail_backend: Literal["file", "smtp"] = "file"
    mail_dir: Path = Path("var/mail")
    mail_from: str = "dreamlust <no-reply@dreamlust.local>"
    smtp_host: str = "localhost"
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_use_tls: bool = False
    smtp_timeout_seconds: Annotated[float, Field(gt=0)] = 10.0

    media_backend: Literal["local", "s3"] = "local"
    media_dir: Path = Path("var/media")
    upload_dir: Path = Path("var/uploads")
    max_upload_bytes: Annotated[int, Field(ge=1)] = 4 * 1024**3
    max_image_bytes: Annotated[int, Field(ge=1)] = 50 * 1024**2
    max_single_request_upload_bytes: Annotated[int, Field(ge=1)] = 100 * 1024**2
    # The largest body of any request but an upload's (JSON, forms): past it, a 413.
    max_request_body_bytes: Annotated[int, Field(ge=1024)] = 1024**2
    storage_quota_bytes: Annotated[int, Field(ge=0)] = 20 * 1024**3
    upload_expiry_hours: Annotated[float, Field(gt=0)] = 24.0
    media_processing_seconds: Annotated[float, Field(gt=0)] = 2.0
    # A worker renews its lease on an asset every third of this while it processes it;
    # a lease not renewed (the worker died) lets another worker take the asset over.
    media_processing_lease_seconds: Annotated[float, Field(ge=3)] = 900.0
    media_max_attempts: Annotated[int, Field(ge=1)] = 3
    media_tool_timeout_seconds: Annotated[float, Field(gt=0)] = 120.0
    media_transcode_timeout_seconds: Annotated[float, Field(gt=0)] = 3600.0
    media_max_image_pixels: Annotated[int, Field(ge=1)] = 100_000_000
    ffmpeg_path: str = "ffmpeg"
    ffprobe_path: str = "ffprobe"
    s3_endpoint_url: Annotated[str, Field(pattern=r"^https?://[^/?#\s]+/?$")] | None = None
    s3_bucket: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")] = (
        "dreamlust-media"
    )
    s3_region: Annotated[str, Field(pattern=r"^[a-z0-9-]{1,32}$")] = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    # SigV4 presigned URLs live at most 7 days.
    s3_presign_seconds: Annotated[int, Field(ge=10, le=604_800)] = 300

    rate_limits_enabled: bool = True
    rate_limit_login_per_account: str = "5/minute"
    rate_limit_login_per_address: str = "20/minute"
    rate_limit_register: str = "10/hour"
    rate_limit_password_reset: str = "5/hour"  # noqa: S105 (a rate, not a secret)
    rate_limit_verification_resend: str = "3/hour"
    rate_limit_comment: str = "10/minute"
    rate_limit_report: str = "10/hour"
    rate_limit_upload: str = "30/hour"
    # Every write under /api/v1 (POST, PUT, PATCH, DELETE), on top of the limits above.
    rate_limit_write_per_account: str = "120/minute"
    rate_limit_write_per_address: str = "600/minute"
    trusted_proxies: list[str] = []

    worker_schedule_seconds: Annotated[float, Field(gt=0)] = 15.0
    trending_refresh_seconds: Annotated[float, Field(gt=0)] = 300.0
    view_dedup_minutes: Annotated[int, Field(gt=0)] = 30
    view_flush_seconds: Annotated[float, Field(gt=0)] = 5.0
    view_buffer_prefix: Annotated[str, Field(min_length=1)] = "dreamlust:views"

    cache_enabled: bool = True
    cache_ttl_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0
    cache_max_entries: Annotated[int, Field(ge=1)] = 2_000
    cache_prefix: Annotated[str, Field(min_length=1)] = "dreamlust:cache"

    platform_fee_bps: Annotated[int, Field(ge=0, le=10_000)] = 2_000
    currencies: Annotated[
        list[Annotated[str, Field(pattern=r"^[A-Z]{3}$")]], Field(min_length=1)
    ] = [
        "USD",
        "EUR",
        "GBP",
    ]
    max_payment_amount: Annotated[Decimal, Field(gt=0, le=Decimal("9999999999.99"))] = Decimal(
        "10000.00"
    )
    payment_webhook_secret: SecretStr | None = None
    payment_webhook_tolerance_seconds: Annotated[int, Field(ge=1)] = 300
    idempotency_key_hours: Annotated[int, Field(ge=24)] = 24
    renewal_seconds: Annotated[float, Field(gt=0)] = 60.0
    notification_delivery_seconds: Annotated[float, Field(gt=0)] = 5.0
    notification_retention_days: Annotated[int, Field(ge=1)] = 90
    like_notification_window_minutes: Annotated[int, Field(ge=1)] = 60
    notification_heartbeat_seconds: Annotated[float, Field(gt=0)] = 15.0
    renewal_retry_hours: Annotated[float, Field(gt=0)] = 24.0
    renewal_grace_days: Annotated[float, Field(ge=0)] = 3.0

    log_level: str = "INFO"
    # json or text lines; unset: json in production, text elsewhere.
    log_format: Literal["json", "text"] | None = None
    access_log: bool = True
    slow_query_ms: Annotated[float, Field(ge=0)] = 500.0
    # /metrics answers a client in these networks, or one sending this bearer token.
    metrics_token: SecretStr | None = None
    metrics_allowed_networks: list[str] = ["127.0.0.0/8", "::1/128"]
    # `dreamlust worker` serves its own metrics (job runs, failures, durations) in
    # Prometheus format on this address and port; unset, it serves none.
    worker_metrics_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    worker_metrics_address: str = "127.0.0.1"
    soft_delete_retention_days: Annotated[int, Field(ge=1)] = 30
    purge_seconds: Annotated[float, Field(gt=0)] = 3600.0
    purge_batch_size: Annotated[int, Field(ge=1, le=10_000)] = 500
    media_gc_seconds: Annotated[float, Field(gt=0)] = 86_400.0
    cors_origins: list[str] = []
    # The admin web page at /admin (ADMIN accounts only) and how long its sign-in lasts.
    admin_site_enabled: bool = True
    admin_session_hours: Annotated[float, Field(gt=0, le=168)] = 8.0

    _signing_key: bytes | None = PrivateAttr(default=None)

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return normalize_database_url(value)

    @model_validator(mode="after")
    def _require_real_secret(self) -> Settings:
        if self.env is Environment.DEVELOPMENT:
            return self
        key = self.secret_key.get_secret_value() if self.secret_key else ""
        if key.lower() in _PLACEHOLDER_SECRETS or len(key) < _MIN_SECRET_LENGTH:
            raise ValueError(
                f"DREAMLUST_SECRET_KEY must be set to a random value of at least "
                f"{_MIN_SECRET_LENGTH} characters when DREAMLUST_ENV={self.env.value}"
            )
        return self

    @field_validator("metrics_allowed_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError as exc:
                raise ValueError(f"{entry!r} is not an IP address or CIDR network") from exc
        return [entry.strip() for entry in value]

    @field_validator("metrics_token")
    @classmethod
    def _real_metrics_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if len(value.get_secret_value()) < _MIN_METRICS_TOKEN_LENGTH:
            raise ValueError(
                f"DREAMLUST_METRICS_TOKEN must be at least {_MIN_METRICS_TOKEN_LENGTH} characters"
            )
        return value

    @model_validator(mode="after")
    def _s3_credentials_in_pairs(self) -> Settings:
        if (self.s3_access_key_id is None) != (self.s3_secret_access_key is None):
            raise ValueError(
                "DREAMLUST_S3_ACCESS_KEY_ID and DREAMLUST_S3_SECRET_ACCESS_KEY are set together "
                "(or neither, to use the environment's credentials)"
            )
        return self

    @property
    def soft_delete_retention(self) -> timedelta:
        return timedelta(days=self.soft_delete_retention_days)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def webhook_secret(self) -> bytes:
        """The key payment webhooks are signed with; derived from the secret key when
        no key of its own is set."""
        if self.payment_webhook_secret is not None:
            return self.payment_webhook_secret.get_secret_value().encode()
        return (
            hmac.new(self.signing_key(), b"payment-webhooks", hashlib.sha256).hexdigest().encode()
        )

    def signing_key(self) -> bytes:
        """The secret key; in development one is generated once and kept in a local file."""
        if self._signing_key is None:
            self._signing_key = self._load_signing_key()
        return self._signing_key

    def _load_signing_key(self) -> bytes:
        if self.secret_key is not None and self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value().encode()
        path = self.secret_key_file
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip().encode()


@lru_cache
def get_settings() -> Settings:
    return Settings()
