"""money: tiers, subscription periods, ledger fees and refunds, provider events

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 22:30:00.000000

- `creator_tiers` replaces the three price columns of `creators` (their prices move
  into it as monthly BASIC, PREMIUM and VIP tiers, and back on the way down).
- `subscriptions` learn the level their tier includes, a downgrade waiting for the next
  period, the payment method renewals charge, and the retry state of a failed renewal.
- `transactions` learn the platform fee, the payment a refund returns, and the period
  a subscription payment covers.
- `idempotency_records` keep the first response as text, to replay it byte for byte.
- `payment_events` keep the provider's webhook events, applied once each.
- `content.premium_tier`: the lowest tier whose subscribers play a premium item.
- The view `creator_balances` derives every creator's balance per currency from the
  ledger, in exact integer cents on both databases.

Columns are added and dropped with plain ALTER TABLE (SQLite 3.35+ drops columns in
place), never by copying a table: a copy of a table that others reference would, with
foreign keys on, cascade into them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import uuid_utils.compat
from alembic import context, op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIERS = ("BASIC", "PREMIUM", "VIP", "CUSTOM")
_INFLOWS = "('SUBSCRIPTION', 'TIP', 'PREMIUM_CONTENT')"
_PRICE_COLUMNS = {"BASIC": "price_basic", "PREMIUM": "price_premium", "VIP": "price_vip"}
_LEVELS = {"BASIC": 1, "PREMIUM": 2, "VIP": 3}


def _cents(column: str) -> str:
    return f"CAST(ROUND({column} * 100) AS BIGINT)"


def _sum_if(condition: str, value: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN {value} ELSE 0 END)"


_GROSS = _sum_if(f"type IN {_INFLOWS} AND status = 'COMPLETED'", _cents("amount"))
_FEES = (
    _sum_if(f"status = 'COMPLETED' AND type IN {_INFLOWS}", _cents("fee"))
    + " - "
    + _sum_if("status = 'COMPLETED' AND type = 'REFUND'", _cents("fee"))
)
_REFUNDS = _sum_if("type = 'REFUND' AND status = 'COMPLETED'", _cents("amount"))
_WITHDRAWN = _sum_if("type = 'WITHDRAWAL' AND status IN ('PENDING', 'COMPLETED')", _cents("amount"))
_PENDING = _sum_if(
    f"type IN {_INFLOWS} AND status = 'PENDING'", f"{_cents('amount')} - {_cents('fee')}"
)

CREATOR_BALANCES = f"""
CREATE VIEW creator_balances AS
SELECT creator_id,
       currency,
       {_GROSS} AS gross_cents,
       {_FEES} AS fee_cents,
       {_REFUNDS} AS refunded_cents,
       {_WITHDRAWN} AS withdrawn_cents,
       {_PENDING} AS pending_cents,
       {_GROSS} - ({_FEES}) - {_REFUNDS} - {_WITHDRAWN} AS available_cents
FROM transactions
WHERE creator_id IS NOT NULL
GROUP BY creator_id, currency
"""  # noqa: S608 (built from constants only)


def _enum(name: str, values: Sequence[str]) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _add_column(table: str, column: sa.Column[object], sqlite_ddl: str) -> None:
    """Add a column; on SQLite as written in `sqlite_ddl`, with its constraints inline
    (Alembic would want to copy the table for them)."""
    if op.get_context().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} ADD COLUMN {sqlite_ddl}")
    else:
        op.add_column(table, column)


def _drop_column(table: str, column: str) -> None:
    op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")


def _check_in(column: str, values: Sequence[str]) -> str:
    listed = ", ".join(f"'{value}'" for value in values)
    return f"CHECK ({column} IN ({listed}))"


def upgrade() -> None:
    op.create_table(
        "creator_tiers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("creator_id", sa.Uuid(), nullable=False),
        sa.Column("tier", _enum("tier", _TIERS), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("interval", _enum("interval", ("MONTH", "YEAR")), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column(
            "benefits",
            sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.CheckConstraint("level BETWEEN 1 AND 3", name=op.f("ck_creator_tiers_level_range")),
        sa.CheckConstraint("price > 0", name=op.f("ck_creator_tiers_price_positive")),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_creator_tiers_creator_id_creators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_creator_tiers")),
        sa.UniqueConstraint("creator_id", "tier", name=op.f("uq_creator_tiers_creator_id_tier")),
    )
    op.create_table(
        "payment_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=50), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_events")),
        sa.UniqueConstraint(
            "provider", "event_id", name=op.f("uq_payment_events_provider_event_id")
        ),
    )
    _move_prices_into_tiers()

    _add_column(
        "subscriptions",
        sa.Column("level", sa.SmallInteger(), server_default="1", nullable=False),
        "level SMALLINT DEFAULT '1' NOT NULL",
    )
    _add_column(
        "subscriptions",
        sa.Column("next_tier", _enum("next_tier", _TIERS), nullable=True),
        f"next_tier VARCHAR(32) {_check_in('next_tier', _TIERS)}",
    )
    _add_column(
        "subscriptions",
        sa.Column("payment_method", sa.String(length=64), nullable=True),
        "payment_method VARCHAR(64)",
    )
    _add_column(
        "subscriptions",
        sa.Column("failed_attempts", sa.Integer(), server_default="0", nullable=False),
        "failed_attempts INTEGER DEFAULT '0' NOT NULL",
    )
    _add_column(
        "subscriptions",
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True),
        "retry_at DATETIME",
    )
    op.execute(
        "UPDATE subscriptions SET level = CASE tier WHEN 'VIP' THEN 3 WHEN 'PREMIUM' THEN 2 "
        "WHEN 'CUSTOM' THEN 3 ELSE 1 END"
    )
    op.drop_index("ix_subscriptions_subscriber_id_created_at", table_name="subscriptions")
    op.create_index(
        "ix_subscriptions_subscriber_id_created_at_id",
        "subscriptions",
        ["subscriber_id", "created_at", "id"],
    )
    op.create_index(
        "ix_subscriptions_creator_id_created_at_id",
        "subscriptions",
        ["creator_id", "created_at", "id"],
    )

    _add_column(
        "transactions",
        sa.Column(
            "refund_of_id",
            sa.Uuid(),
            sa.ForeignKey(
                "transactions.id",
                name=op.f("fk_transactions_refund_of_id_transactions"),
            ),
            nullable=True,
        ),
        "refund_of_id CHAR(32) CONSTRAINT fk_transactions_refund_of_id_transactions "
        "REFERENCES transactions (id)",
    )
    _add_column(
        "transactions",
        sa.Column("fee", sa.Numeric(precision=12, scale=2), server_default="0", nullable=False),
        "fee NUMERIC(12, 2) DEFAULT '0' NOT NULL",
    )
    _add_column(
        "transactions",
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=True),
        "period_start DATETIME",
    )
    _add_column(
        "transactions",
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=True),
        "period_end DATETIME",
    )
    op.create_index(op.f("ix_transactions_refund_of_id"), "transactions", ["refund_of_id"])
    op.drop_index("ix_transactions_user_id_created_at", table_name="transactions")
    op.create_index(
        "ix_transactions_user_id_created_at_id", "transactions", ["user_id", "created_at", "id"]
    )

    _drop_column("idempotency_records", "response_body")
    _add_column(
        "idempotency_records",
        sa.Column("response_body", sa.Text(), nullable=True),
        "response_body TEXT",
    )

    _add_column(
        "content",
        sa.Column(
            "premium_tier", _enum("premium_tier", _TIERS), server_default="BASIC", nullable=False
        ),
        f"premium_tier VARCHAR(32) DEFAULT 'BASIC' NOT NULL {_check_in('premium_tier', _TIERS)}",
    )
    op.execute(CREATOR_BALANCES)


def _move_prices_into_tiers() -> None:
    if context.is_offline_mode():
        return  # rendering SQL (`--sql`): there are no rows to read
    connection = op.get_bind()
    tiers = sa.table(
        "creator_tiers",
        sa.column("id", sa.Uuid()),
        sa.column("creator_id", sa.Uuid()),
        sa.column("price", sa.Numeric(12, 2)),
        sa.column("benefits", sa.JSON()),
        *(sa.column(name) for name in ("tier", "name", "currency", "interval", "level")),
    )
    priced = sa.text(
        "SELECT id, payout_currency, price_basic, price_premium, price_vip FROM creators "
        "WHERE price_basic IS NOT NULL OR price_premium IS NOT NULL OR price_vip IS NOT NULL"
    ).columns(
        sa.column("id", sa.Uuid()),
        sa.column("payout_currency", sa.String()),
        *(sa.column(column, sa.Numeric(12, 2)) for column in _PRICE_COLUMNS.values()),
    )
    values = [
        {
            "id": uuid_utils.compat.uuid7(),
            "creator_id": row.id,
            "tier": tier,
            "name": tier.title(),
            "price": getattr(row, column),
            "currency": row.payout_currency,
            "interval": "MONTH",
            "level": _LEVELS[tier],
            "benefits": [],
        }
        for row in connection.execute(priced)
        for tier, column in _PRICE_COLUMNS.items()
        if getattr(row, column) is not None
    ]
    if values:
        connection.execute(tiers.insert(), values)
    for column in _PRICE_COLUMNS.values():
        _drop_column("creators", column)


def downgrade() -> None:
    op.execute("DROP VIEW creator_balances")
    _drop_column("content", "premium_tier")
    _drop_column("idempotency_records", "response_body")
    _add_column(
        "idempotency_records",
        sa.Column(
            "response_body",
            sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql"),
            nullable=True,
        ),
        "response_body JSON",
    )
    op.drop_index("ix_transactions_user_id_created_at_id", table_name="transactions")
    op.create_index("ix_transactions_user_id_created_at", "transactions", ["user_id", "created_at"])
    op.drop_index(op.f("ix_transactions_refund_of_id"), table_name="transactions")
    for column in ("period_end", "period_start", "fee", "refund_of_id"):
        _drop_column("transactions", column)
    op.drop_index("ix_subscriptions_creator_id_created_at_id", table_name="subscriptions")
    op.drop_index("ix_subscriptions_subscriber_id_created_at_id", table_name="subscriptions")
    op.create_index(
        "ix_subscriptions_subscriber_id_created_at",
        "subscriptions",
        ["subscriber_id", "created_at"],
    )
    for column in ("retry_at", "failed_attempts", "payment_method", "next_tier", "level"):
        _drop_column("subscriptions", column)
    for column in _PRICE_COLUMNS.values():
        op.add_column("creators", sa.Column(column, sa.Numeric(precision=12, scale=2)))
    for tier, column in _PRICE_COLUMNS.items():
        op.execute(
            f"UPDATE creators SET {column} = (SELECT price FROM creator_tiers "  # noqa: S608
            f"WHERE creator_tiers.creator_id = creators.id AND creator_tiers.tier = '{tier}')"
        )
    op.drop_table("payment_events")
    op.drop_table("creator_tiers")
