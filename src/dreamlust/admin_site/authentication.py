"""Who may use the admin page: sign in with a dreamlust account, ADMIN and ACTIVE only.

The session lives in a cookie signed with a key of its own (derived from the secret
key for this purpose), HttpOnly, SameSite=Lax, Secure in production, scoped to /admin
and valid for `admin_session_hours`. It holds the account's id, the hash of its sign-in
(see `sign_ins`) and the CSRF token of the decision forms (see `decisions`). Every
request reads the account and the sign-in again, so an administrator who is demoted,
suspended, banned, deleted or signed out everywhere is out at once.

Signing in counts against the same rate limits as the API's login, per address and per
account, so the page offers no extra guesses.
"""

from __future__ import annotations

import uuid

from pydantic import ValidationError
from sqladmin.authentication import AuthenticationBackend
from sqladmin.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from dreamlust.admin_site import sign_ins
from dreamlust.admin_site.sessions import ApplicationSessions
from dreamlust.auth.schemas import Credentials
from dreamlust.auth.service import INVALID_CREDENTIALS
from dreamlust.config import Environment, Settings
from dreamlust.errors import DreamlustError
from dreamlust.kit.client_address import client_address
from dreamlust.kit.keys import derive_key, new_opaque_token
from dreamlust.kit.rate_limit import Limit

COOKIE_NAME = "dreamlust_admin"
CSRF_KEY = "csrf"
_USER_KEY = "user_id"
_SIGN_IN_KEY = "sign_in"
_ADMIN_ID_STATE = "dreamlust_admin_id"


def signed_in_administrator(request: Request) -> uuid.UUID:
    """The id of the administrator of this request (set when it was authenticated)."""
    admin_id: uuid.UUID = getattr(request.state, _ADMIN_ID_STATE)
    return admin_id


class AdminAuthentication(AuthenticationBackend):
    def __init__(self, settings: Settings, sessions: ApplicationSessions, base_url: str) -> None:
        super().__init__(
            secret_key=derive_key(settings.signing_key(), "admin-session").hex(),
            session_cookie=COOKIE_NAME,
            max_age=round(settings.admin_session_hours * 3600),
            path=base_url,
            same_site="lax",
            https_only=settings.env is Environment.PRODUCTION,
        )
        self.sessions = sessions
        # The admin site's templates, given once the site is built.
        self.templates: Jinja2Templates | None = None

    async def login(self, request: Request) -> Response | bool:
        form = await request.form()
        try:
            credentials = Credentials(
                login=str(form.get("username", "")).strip(),
                password=str(form.get("password", "")),
            )
        except ValidationError:
            return await self._refused(request, INVALID_CREDENTIALS, 400)
        runtime = self.sessions.runtime
        address = client_address(request, runtime.settings.trusted_proxies)
        try:
            await runtime.rate_limiter.hit(Limit.LOGIN_PER_ADDRESS, address)
            await runtime.rate_limiter.hit(Limit.LOGIN_PER_ACCOUNT, credentials.login.lower())
            async with runtime.database.transaction() as session:
                signed_in = await sign_ins.sign_in(
                    session, runtime, credentials, request.headers.get("user-agent")
                )
        except DreamlustError as exc:
            return await self._refused(request, exc.detail, exc.status, _retry_after(exc))
        request.session.clear()
        request.session.update(
            {
                _USER_KEY: str(signed_in.user_id),
                _SIGN_IN_KEY: signed_in.token_hash,
                CSRF_KEY: new_opaque_token(),
            }
        )
        return True

    async def logout(self, request: Request) -> Response | bool:
        token_hash = request.session.get(_SIGN_IN_KEY)
        if isinstance(token_hash, str):
            async with self.sessions.runtime.database.transaction() as session:
                await sign_ins.sign_out(session, token_hash)
        request.session.clear()
        return RedirectResponse(request.url_for("admin:login"), status_code=302)

    async def authenticate(self, request: Request) -> Response | bool:
        token_hash = request.session.get(_SIGN_IN_KEY)
        if not isinstance(token_hash, str):
            return False
        async with self.sessions() as session:
            admin = await sign_ins.administrator_of(session, token_hash)
        if admin is None:
            request.session.clear()
            return False
        setattr(request.state, _ADMIN_ID_STATE, admin.id)
        return True

    async def _refused(
        self, request: Request, error: str, status: int, headers: dict[str, str] | None = None
    ) -> Response:
        assert self.templates is not None
        response = await self.templates.TemplateResponse(
            request, "sqladmin/login.html", {"error": error}, status_code=status
        )
        response.headers.update(headers or {})
        return response


def _retry_after(error: DreamlustError) -> dict[str, str]:
    return {name: value for name, value in error.headers.items() if name == "Retry-After"}
