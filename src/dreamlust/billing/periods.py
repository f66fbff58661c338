"""Billing periods: a month is a calendar month (a period from the 31st ends on the last
day of a shorter month), a year twelve of them."""

from __future__ import annotations

import calendar
from datetime import datetime

from dreamlust.models.enums import BillingInterval

_MONTHS = {BillingInterval.MONTH: 1, BillingInterval.YEAR: 12}


def period_end(start: datetime, interval: BillingInterval) -> datetime:
    return _months_later(start, _MONTHS[interval])


def period_start(end: datetime, interval: BillingInterval) -> datetime:
    """The start of the period that ends at `end`."""
    return _months_later(end, -_MONTHS[interval])


def _months_later(moment: datetime, count: int) -> datetime:
    months = moment.month - 1 + count
    year, month = moment.year + months // 12, months % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)
