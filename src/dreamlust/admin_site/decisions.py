"""Decisions taken on the admin page (suspend an account, approve a creator …). Each one
calls the service function the API calls, so it obeys the same rules, is written to the
audit log and is version-checked as there.

A decision takes two requests. The action's GET (the button sqladmin shows on the list
and detail pages) changes nothing: it shows the chosen rows as they are now, with their
versions, and a form to confirm. Confirming POSTs the versions seen and the session's
CSRF token; the decision is then taken on all the rows in one transaction, or on none
when one is refused (a stale version, a step the rules forbid), and the refusal is
shown on the same page.

Why a token on top of SameSite=Lax cookies: Lax keeps the cookie off cross-site POSTs,
but a same-site page (another service on a sibling subdomain) still sends it, and the
token, kept in the signed session and compared in constant time, stops those too. And
since Lax does send the cookie on cross-site top-level GETs, no GET changes anything.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from sqladmin import expose
from sqladmin.flash import Flash
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from dreamlust.admin_site import sign_ins
from dreamlust.admin_site.authentication import CSRF_KEY, signed_in_administrator
from dreamlust.admin_site.sessions import ApplicationSessions
from dreamlust.admin_site.views.base import ReadOnlyView
from dreamlust.config import Settings
from dreamlust.errors import DreamlustError
from dreamlust.kit.soft_delete import INCLUDE_DELETED
from dreamlust.models import User

MAX_TARGETS = 100
MAX_REASON_LENGTH = 200
TEMPLATE = "dreamlust/confirm.html"
_STALE = "The row was changed by someone else meanwhile; look at it again and decide anew."
_CONFLICT = "The decision conflicts with data stored meanwhile; look again and decide anew."


@dataclass(frozen=True)
class DecisionContext:
    """What a decision is taken with: the transaction, the administrator taking it,
    the settings, and the reason given (None when none was)."""

    session: AsyncSession
    admin: User
    settings: Settings
    reason: str | None


Apply = Callable[[DecisionContext, uuid.UUID, int], Awaitable[object]]


@dataclass(frozen=True)
class Decision:
    """One kind of decision on a view's rows: `apply` takes it on one row, given the
    row's id and the version the administrator saw."""

    slug: str
    label: str
    summary: str
    apply: Apply
    asks_reason: bool = False


@dataclass(frozen=True)
class Target:
    id: uuid.UUID
    version: int


@dataclass(frozen=True)
class ShownRow:
    id: uuid.UUID
    description: str
    version: int
    url: str


def decisions_by_slug(*decisions: Decision) -> Mapping[str, Decision]:
    return {decision.slug: decision for decision in decisions}


class DecisionView(ReadOnlyView):
    """A read-only view whose rows can be decided on (see the module's docstring).
    A subclass lists its `decisions` and declares one sqladmin `@action` per decision
    that returns `self.confirm(request, slug)`."""

    decisions: ClassVar[Mapping[str, Decision]] = {}

    def describe(self, row: Any) -> str:
        """A row in a few words, on the confirmation page."""
        return str(row.id)

    async def confirm(self, request: Request, slug: str) -> Response:
        ids = _chosen_ids(request.query_params.get("pks", ""))
        rows = await self._rows(request, ids)
        if not rows:
            raise HTTPException(status_code=404, detail="None of the chosen rows exists.")
        return await self._confirmation(request, self.decisions[slug], rows)

    @expose("/decide/{slug}", methods=["POST"])
    async def decide(self, request: Request) -> Response:
        decision = self.decisions.get(request.path_params["slug"])
        if decision is None:
            raise HTTPException(status_code=404, detail="No such decision.")
        form = await request.form()
        _check_csrf_token(request, form)
        targets = _targets(form.getlist("target"))
        reason = _reason(form.get("reason"))
        runtime = self._sessions().runtime
        try:
            async with runtime.database.transaction() as session:
                admin = await sign_ins.acting_administrator(
                    session, signed_in_administrator(request)
                )
                context = DecisionContext(session, admin, runtime.settings, reason)
                for target in targets:
                    await decision.apply(context, target.id, target.version)
        except DreamlustError as exc:
            error, status = exc.detail, exc.status
        except StaleDataError:
            error, status = _STALE, 409
        except IntegrityError:
            error, status = _CONFLICT, 409
        else:
            Flash.success(request, f"{decision.label}: done for {self._count(len(targets))}.")
            return RedirectResponse(self._next_page(request, targets), status_code=303)
        rows = await self._rows(request, [target.id for target in targets])
        return await self._confirmation(request, decision, rows, error=error, status=status)

    def _sessions(self) -> ApplicationSessions:
        sessions = self.session_maker
        assert isinstance(sessions, ApplicationSessions)
        return sessions

    async def _rows(self, request: Request, ids: Sequence[uuid.UUID]) -> list[ShownRow]:
        model: Any = self.model
        stmt = (
            select(model)
            .where(model.id.in_(ids))
            .order_by(model.created_at, model.id)
            .execution_options(**{INCLUDE_DELETED: True})
        )
        async with self._sessions()() as session:
            found = (await session.scalars(stmt)).all()
        return [
            ShownRow(
                id=row.id,
                description=self.describe(row),
                version=row.version,
                url=str(self._build_url_for("admin:details", request, row)),
            )
            for row in found
        ]

    async def _confirmation(
        self,
        request: Request,
        decision: Decision,
        rows: list[ShownRow],
        *,
        error: str | None = None,
        status: int = 200,
    ) -> Response:
        context = {
            "model_view": self,
            "decision": decision,
            "rows": rows,
            "what": self._count(len(rows)),
            "csrf_token": request.session.get(CSRF_KEY, ""),
            "max_reason_length": MAX_REASON_LENGTH,
            "error": error,
            "title": f"{decision.label}: {self._count(len(rows))}",
        }
        return await self.templates.TemplateResponse(request, TEMPLATE, context, status_code=status)

    def _count(self, number: int) -> str:
        return f"{number} {(self.name if number == 1 else self.name_plural).lower()}"

    def _next_page(self, request: Request, targets: Sequence[Target]) -> str:
        if len(targets) == 1:
            return str(
                request.url_for("admin:details", identity=self.identity, pk=str(targets[0].id))
            )
        return str(request.url_for("admin:list", identity=self.identity))


def _bad_request(detail: str) -> HTTPException:
    return HTTPException(status_code=400, detail=detail)


def _chosen_ids(pks: str) -> list[uuid.UUID]:
    parts = [part for part in pks.split(",") if part]
    if not parts:
        raise _bad_request("Choose at least one row.")
    if len(parts) > MAX_TARGETS:
        raise _bad_request(f"Choose at most {MAX_TARGETS} rows at once.")
    try:
        return [uuid.UUID(part) for part in parts]
    except ValueError:
        raise _bad_request("A chosen row is not an id.") from None


def _targets(values: Iterable[object]) -> list[Target]:
    targets = []
    for value in values:
        id_, _, version = str(value).partition(":")
        try:
            targets.append(Target(id=uuid.UUID(id_), version=int(version)))
        except ValueError:
            raise _bad_request("The form was altered: a row is not an id and a version.") from None
    if not targets or len(targets) > MAX_TARGETS:
        raise _bad_request(f"Decide on between 1 and {MAX_TARGETS} rows at once.")
    return targets


def _reason(value: object) -> str | None:
    reason = str(value or "").strip()
    if len(reason) > MAX_REASON_LENGTH:
        raise _bad_request(f"Give a reason of at most {MAX_REASON_LENGTH} characters.")
    if not reason.isprintable():
        raise _bad_request("Give the reason on one line, without control characters.")
    return reason or None


def _check_csrf_token(request: Request, form: FormData) -> None:
    expected = request.session.get(CSRF_KEY)
    presented = form.get("csrf_token")
    if not (
        isinstance(expected, str)
        and isinstance(presented, str)
        and hmac.compare_digest(expected.encode(), presented.encode())
    ):
        raise HTTPException(
            status_code=403, detail="The form has expired; open the decision again."
        )
