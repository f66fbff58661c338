"""Every response carries the browser security headers; API answers a content policy
that allows nothing, the HTML pages (docs, admin) none that would break them, and only
a deployment behind HTTPS asks browsers for HTTPS."""

from __future__ import annotations

import httpx
from fastapi import Response
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.app import create_app
from dreamlust.config import Settings
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import bearer, make_account
from tests.fixtures.serving import served

EVERY_RESPONSE = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}
API_POLICY = "default-src 'none'; frame-ancestors 'none'"


def _assert_common(response: httpx.Response) -> None:
    for name, value in EVERY_RESPONSE.items():
        assert response.headers.get(name) == value, (response.url, name)
    assert "strict-transport-security" not in response.headers


async def test_api_answers_carry_the_headers_and_a_policy_that_allows_nothing(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    user = await make_account(session)
    answers = [
        await client.get("/healthz"),
        await client.get("/openapi.json"),
        await client.get("/api/v1/content"),
        await client.get("/api/v1/users/me", headers=bearer(runtime.access_tokens.issue(user))),
        await client.get("/api/v1/users/me"),  # 401
        await client.get("/api/v1/nothing-here"),  # 404
        await client.post("/api/v1/auth/login", json={}),  # 422
    ]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 200, 401, 404, 422]
    for answer in answers:
        _assert_common(answer)
        assert answer.headers["content-security-policy"] == API_POLICY


async def test_the_docs_and_the_admin_pages_keep_working_without_the_api_policy(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/docs", "/redoc", "/admin/login"):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert page.headers["content-type"].startswith("text/html")
        _assert_common(page)
        assert "content-security-policy" not in page.headers, path

    signed_out = await client.get("/admin/")
    assert signed_out.status_code in (302, 303, 307)
    _assert_common(signed_out)


async def test_a_page_path_is_matched_whole_not_by_its_first_letters(
    client: httpx.AsyncClient,
) -> None:
    lookalike = await client.get("/administrators")
    assert lookalike.status_code == 404
    assert lookalike.headers["content-security-policy"] == API_POLICY


async def test_a_response_that_sets_a_header_itself_keeps_its_own_value(
    settings: Settings, runtime: Runtime
) -> None:
    app = create_app(settings, runtime=runtime)

    @app.get("/framable")
    async def framable() -> Response:
        return Response("{}", headers={"X-Frame-Options": "SAMEORIGIN"})

    async with served(app) as client:
        response = await client.get("/framable")
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_strict_transport_security_only_behind_https(
    settings: Settings, runtime: Runtime
) -> None:
    behind_https = settings.model_copy(update={"public_url": "https://dreamlust.example"})
    async with served(create_app(behind_https, runtime=runtime)) as client:
        for path in ("/healthz", "/docs", "/admin/login"):
            response = await client.get(path)
            assert response.headers["strict-transport-security"] == "max-age=31536000", path
            assert response.headers["x-content-type-options"] == "nosniff"
