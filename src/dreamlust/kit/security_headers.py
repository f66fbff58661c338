"""The browser security headers every response carries, in one plain ASGI middleware.

The API answers JSON, so a browser that opens an answer directly must neither sniff it
into HTML, frame it, run anything in it, nor tell the next site where it came from.
The HTML pages (the interactive docs, which load Swagger UI and ReDoc from a CDN with
inline scripts, and the admin site) keep whatever content policy they set themselves;
the other headers fit them as they are. Strict-Transport-Security is only sent when
the deployment is reached over HTTPS: a browser would otherwise refuse the plain-HTTP
site of a development machine for a year.

The headers are built once; per response the middleware only looks at which of them
the response already has (a response that sets one keeps its own value).
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dreamlust.errors import problem

API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"
STRICT_TRANSPORT_SECURITY = "max-age=31536000"
# Paths of HTML pages that need scripts and styles: no content policy is added to them.
PAGES = ("/docs", "/redoc", "/admin")

_EVERY_RESPONSE = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
_CONTENT_SECURITY_POLICY = (b"content-security-policy", API_CONTENT_SECURITY_POLICY.encode())
_STRICT_TRANSPORT = (b"strict-transport-security", STRICT_TRANSPORT_SECURITY.encode())


class SecurityHeaders:
    """Adds the security headers to every HTTP response, and answers an error that
    escaped every handler itself, so that response carries them too (the outermost
    error middleware would send it without them)."""

    def __init__(self, app: ASGIApp, *, https: bool, pages: Iterable[str] = PAGES) -> None:
        self.app = app
        common = [*_EVERY_RESPONSE, *((_STRICT_TRANSPORT,) if https else ())]
        self._page_headers = tuple(common)
        self._api_headers = (*common, _CONTENT_SECURITY_POLICY)
        self._pages = frozenset(pages)
        self._under_pages = tuple(f"{page}/" for page in self._pages)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = self._page_headers if self._is_page(scope["path"]) else self._api_headers
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = _with(message.get("headers", ()), headers)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if started:
                raise
            # Re-raised after answering, so the error middleware still logs it.
            await problem(500, "An unexpected error occurred.")(scope, receive, send_with_headers)
            raise

    def _is_page(self, path: str) -> bool:
        return path in self._pages or path.startswith(self._under_pages)


def _with(
    existing: Iterable[tuple[bytes, bytes]], added: tuple[tuple[bytes, bytes], ...]
) -> list[tuple[bytes, bytes]]:
    headers = list(existing)
    present = {name.lower() for name, _ in headers}
    for header in added:
        if header[0] not in present:
            headers.append(header)
    return headers
