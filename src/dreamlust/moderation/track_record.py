"""What a report weighs: its reporter's track record, the share of their closed reports
that were upheld (RESOLVED or ACTION_TAKEN rather than DISMISSED), read pessimistically.

    weight = (upheld + 0.2) / (closed + 10)

as if every reporter had ten closed reports already, of which one in fifty was upheld: a
reporter without history weighs 0.02, one whose 3 reports were all upheld 0.25, 10 of 10
0.51, 10 dismissed 0.01. Fifty throwaway accounts together weigh what four reporters
with three upheld reports each weigh; a reporter earns weight only by reports that
moderators uphold. The weight is taken when the report is made and kept on it, so the
queue adds up stored weights and reads nothing else. Weights are whole thousandths
(1000 is a reporter always right), so that scores add up exactly.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.models import ReporterRecord
from dreamlust.models.enums import ReportStatus
from dreamlust.moderation.repository import ModerationRepository

FULL_WEIGHT = 1000
PRIOR_UPHELD = 0.2
PRIOR_CLOSED = 10
CLOSED = frozenset({ReportStatus.RESOLVED, ReportStatus.DISMISSED, ReportStatus.ACTION_TAKEN})
UPHELD = frozenset({ReportStatus.RESOLVED, ReportStatus.ACTION_TAKEN})


def weight(closed: int, upheld: int) -> int:
    """The weight, in thousandths, of a report by someone with this record."""
    return round(FULL_WEIGHT * (upheld + PRIOR_UPHELD) / (closed + PRIOR_CLOSED))


def weight_of_record(record: ReporterRecord | None) -> int:
    if record is None:
        return weight(0, 0)
    return weight(record.closed_reports, record.upheld_reports)


async def weight_of(session: AsyncSession, reporter_id: uuid.UUID) -> int:
    """What a report by this user weighs now."""
    return weight_of_record(await ModerationRepository(session).record_of(reporter_id))


async def count_decision(session: AsyncSession, case_id: uuid.UUID, status: ReportStatus) -> None:
    """Every reporter of the case has one more closed report, and one more upheld one
    when the decision upheld the reports."""
    await ModerationRepository(session).count_closed(case_id, upheld=status in UPHELD)


def as_float(thousandths: int) -> float:
    return thousandths / FULL_WEIGHT
