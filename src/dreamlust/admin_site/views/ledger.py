"""The ledger: every transaction, read-only (refunds are taken through the API, which
asks for an idempotency key)."""

from __future__ import annotations

from dreamlust.admin_site.views.base import ReadOnlyView
from dreamlust.models import Transaction


class TransactionView(ReadOnlyView, model=Transaction):
    name = "Transaction"
    name_plural = "Transactions"
    icon = "fa-solid fa-receipt"
    category = "Money"
    column_list = [
        Transaction.created_at,
        Transaction.type,
        Transaction.status,
        Transaction.amount,
        Transaction.fee,
        Transaction.currency,
        Transaction.user_id,
        Transaction.creator_id,
    ]
    column_details_list = [
        Transaction.id,
        Transaction.type,
        Transaction.status,
        Transaction.amount,
        Transaction.fee,
        Transaction.currency,
        Transaction.user_id,
        Transaction.creator_id,
        Transaction.subscription_id,
        Transaction.content_id,
        Transaction.refund_of_id,
        Transaction.period_start,
        Transaction.period_end,
        Transaction.provider,
        Transaction.provider_reference,
        Transaction.details,
        Transaction.created_at,
        Transaction.updated_at,
        Transaction.version,
    ]
    column_sortable_list = [Transaction.created_at, Transaction.amount]
    column_searchable_list = [Transaction.provider_reference]
    search_text = (Transaction.provider_reference,)
    search_ids = (
        Transaction.id,
        Transaction.user_id,
        Transaction.creator_id,
        Transaction.subscription_id,
        Transaction.content_id,
    )
