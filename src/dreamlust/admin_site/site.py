"""The admin site, mounted on the application at /admin."""

from __future__ import annotations

from pathlib import Path

from sqladmin import Admin, ModelView
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from dreamlust.admin_site.authentication import AdminAuthentication
from dreamlust.admin_site.sessions import ApplicationSessions
from dreamlust.admin_site.views.accounts import UserView
from dreamlust.admin_site.views.content import ContentView
from dreamlust.admin_site.views.creators import CreatorView
from dreamlust.admin_site.views.ledger import TransactionView
from dreamlust.admin_site.views.moderation import AuditLogView, ModerationCaseView, ReportView
from dreamlust.config import Settings

BASE_URL = "/admin"
TEMPLATES = Path(__file__).parent / "templates"
VIEWS: tuple[type[ModelView], ...] = (
    UserView,
    CreatorView,
    ContentView,
    ReportView,
    ModerationCaseView,
    TransactionView,
    AuditLogView,
)
# sqladmin's routes kept; those of its forms (create, edit, delete, import, export, file
# uploads, the forms' lookups) are removed, so no request can write a row around the
# services. The views' decisions add routes of their own.
_KEPT_ROUTES = frozenset({"statics", "index", "list", "details", "login", "logout"})


def mount_admin_site(app: Starlette, settings: Settings) -> Admin:
    sessions = ApplicationSessions(app)
    authentication = AdminAuthentication(settings, sessions, BASE_URL)
    admin = Admin(
        app,
        session_maker=sessions,
        base_url=BASE_URL,
        title="dreamlust admin",
        templates_dir=str(TEMPLATES),
        authentication_backend=authentication,
    )
    authentication.templates = admin.templates
    admin.admin.router.routes = [
        route for route in admin.admin.router.routes if _route_name(route) in _KEPT_ROUTES
    ]
    for view in VIEWS:
        # sqladmin keeps its admin on the view class it is given: a subclass per site
        # keeps two applications of one process (tests) from sharing one.
        admin.add_view(type(view.__name__, (view,), {}))
    return admin


def _route_name(route: BaseRoute) -> str | None:
    name: str | None = getattr(route, "name", None)
    return name
