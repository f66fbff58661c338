"""notification delivery settings

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 01:00:00.000000

Each type of notification now says how it is delivered (off, in_app, email, both)
instead of on or off; `push` goes (nothing pushed). A type that was on keeps its
default delivery, one that was off stays off. Downgrading turns each back into on or off.
"""

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DEFAULTS = {
    "new_follower": "in_app",
    "new_subscriber": "both",
    "comments": "in_app",
    "likes": "in_app",
    "new_uploads": "in_app",
    "payments": "both",
    "announcements": "in_app",
}
_BATCH = 1000

_users = sa.table(
    "users",
    sa.column("id", sa.Uuid()),
    sa.column("preferences", sa.JSON().with_variant(JSONB(), "postgresql")),
)


def _to_delivery(settings: dict[str, Any]) -> dict[str, Any]:
    settings.pop("push", None)
    for key, default in _DEFAULTS.items():
        if isinstance(settings.get(key), bool):
            settings[key] = default if settings[key] else "off"
    return settings


def _to_switches(settings: dict[str, Any]) -> dict[str, Any]:
    for key in ("reviews", "reports"):
        settings.pop(key, None)
    for key in _DEFAULTS:
        if isinstance(settings.get(key), str):
            settings[key] = settings[key] != "off"
    return settings


def _rewrite(change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    if context.is_offline_mode():
        return  # rendering SQL (`--sql`): there are no rows to read
    connection = op.get_bind()
    after = None
    while True:
        stmt = sa.select(_users.c.id, _users.c.preferences).order_by(_users.c.id).limit(_BATCH)
        if after is not None:
            stmt = stmt.where(_users.c.id > after)
        rows = connection.execute(stmt).all()
        if not rows:
            return
        for user_id, preferences in rows:
            settings = (preferences or {}).get("notifications")
            if isinstance(settings, dict):
                preferences["notifications"] = change(dict(settings))
                connection.execute(
                    _users.update().where(_users.c.id == user_id).values(preferences=preferences)
                )
        after = rows[-1].id


def upgrade() -> None:
    _rewrite(_to_delivery)


def downgrade() -> None:
    _rewrite(_to_switches)
