"""The staff queue: targets with open reports (or the cases of one status), the most
credible first. A case's score is the sum of its reports' weights, each its reporter's
track record (see `track_record`), so one target reported by a few reporters whose
reports were upheld before outranks one reported by a crowd of new accounts. The page
is read in order from an index on the score; each entry carries its newest reports."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.kit.pagination import KeysetPage, PageRequest, Paginator
from dreamlust.models import ModerationCase, Report
from dreamlust.models.enums import ReportStatus
from dreamlust.moderation.repository import BY_SCORE, CaseRepository, ModerationRepository

REPORTS_PER_ENTRY = 10


@dataclass(frozen=True)
class Entry:
    """A case and its newest reports (at most `REPORTS_PER_ENTRY`), newest first."""

    case: ModerationCase
    reports: list[Report]


async def entries(
    session: AsyncSession, status: ReportStatus | None, page: PageRequest, paginator: Paginator
) -> KeysetPage[Entry]:
    """The open cases, or those of `status`, highest score first."""
    queue = CaseRepository(session)
    cases = await queue.page(queue.cases(status), BY_SCORE, page, paginator)
    reports: dict[uuid.UUID, list[Report]] = defaultdict(list)
    if cases.items:
        repository = ModerationRepository(session)
        newest = repository.latest_reports([case.id for case in cases.items], REPORTS_PER_ENTRY)
        found = await repository.all_of(newest)
        for report in sorted(found, key=lambda r: (r.created_at, r.id), reverse=True):
            reports[report.case_id].append(report)
    return cases.map(lambda case: Entry(case, reports[case.id]))
