"""The OpenAPI document names every error an operation answers, as the problem it is,
and says which operations need a sign-in and which only read one."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for
from tests.fixtures.factories import make_content, make_creator, make_user

PROBLEM = "application/problem+json"


async def _document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _operation(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    """The operation `path` is routed to (templates matched segment by segment)."""
    for template, operations in document["paths"].items():
        pattern = "^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in operations:
            operation: dict[str, Any] = operations[method.lower()]
            return operation
    raise AssertionError(f"{method} {path} is not in the document")


def assert_documented(document: dict[str, Any], response: httpx.Response) -> None:
    """The response's status and media type are those the document gives its operation."""
    request = response.request
    responses = _operation(document, request.method, request.url.path)["responses"]
    documented = responses.get(str(response.status_code), responses.get("default"))
    assert documented is not None, f"{response.status_code} of {request.url.path} undocumented"
    media_type = response.headers["content-type"].split(";")[0]
    assert media_type in documented.get("content", {}), (response.status_code, media_type)


async def test_every_operation_documents_its_errors_as_problems(
    client: httpx.AsyncClient,
) -> None:
    document = await _document(client)
    assert "HTTPValidationError" not in str(document)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "default" in responses, (method, path)
            for status, answer in responses.items():
                if status == "default" or int(status) >= 400:
                    assert set(answer["content"]) == {PROBLEM}, (method, path, status)
            if "{" in path:
                assert "404" in responses, (method, path)
            if any(p["name"] == "If-Match" for p in operation.get("parameters", ())):
                assert {"409", "412", "428"} <= set(responses), (method, path)
            if method in {"post", "put", "patch", "delete"}:
                assert {"429", "503"} <= set(responses), (method, path)


async def test_the_errors_sent_are_the_errors_documented(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    document = await _document(client)
    owner = await make_user(session)
    content = await make_content(session, await make_creator(session, owner))
    await session.commit()
    owner_headers = headers_for(runtime, owner)
    item = f"/api/v1/content/{content.id}"
    answers = [
        await client.get("/api/v1/content/00000000-0000-0000-0000-000000000000"),
        await client.get("/api/v1/content", params={"cursor": "not-a-cursor"}),
        await client.get("/api/v1/users/me"),
        await client.get("/api/v1/users/me", headers={"Authorization": "Bearer nonsense"}),
        await client.patch(item, json={"title": "New"}, headers=owner_headers),
        await client.patch(
            item, json={"title": "New"}, headers={**owner_headers, "If-Match": '"99"'}
        ),
        await client.patch(
            item, json={"is_public": 0}, headers={**owner_headers, "If-Match": '"1"'}
        ),
        await client.post("/api/v1/playlists", json={"name": ""}, headers=owner_headers),
    ]
    assert [answer.status_code for answer in answers] == [404, 400, 401, 401, 428, 412, 422, 422]
    for answer in answers:
        assert_documented(document, answer)


async def test_operations_that_serve_the_signed_out_document_the_token_as_optional(
    client: httpx.AsyncClient,
) -> None:
    document = await _document(client)
    optional = [{"HTTPBearer": []}, {}]
    for path in (
        "/api/v1/categories",
        "/api/v1/creators/{handle}",
        "/api/v1/playlists/{playlist_id}",
        "/api/v1/content/{content_id}",
    ):
        operation = document["paths"][path]["get"]
        assert operation["security"] == optional, path
        assert "403" not in operation["responses"], path
    assert {} not in document["paths"]["/api/v1/users/me"]["get"]["security"]
    assert (await client.get("/api/v1/categories")).status_code == 200
