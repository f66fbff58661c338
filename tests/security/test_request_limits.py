"""Request bodies are bounded: past `DREAMLUST_MAX_REQUEST_BODY_BYTES` a body is a 413
(declared or streamed), uploads keep limits of their own, and JSON nested absurdly deep
is refused as bad input, never a crash."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import HTTPException
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Message, Receive, Scope, Send

from dreamlust.config import Settings
from dreamlust.kit.body_limit import BodyLimit
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import bearer, make_account
from tests.fixtures.uploads import MiB, create_upload, creator_with_content, mp4_bytes, patch

PROBLEM = "application/problem+json"
LOGIN = "/api/v1/auth/login"
JSON = {"content-type": "application/json"}


def _login_body(size: int) -> bytes:
    """A login of exactly `size` bytes (its login far too long to be valid)."""
    head, tail = b'{"password": "x", "login": "', b'"}'
    return head + b"a" * (size - len(head) - len(tail)) + tail


def _assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == 413
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_body_over_the_limit_is_413_problem_json(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    limit = settings.max_request_body_bytes
    _assert_too_large(await client.post(LOGIN, content=_login_body(limit + 1), headers=JSON))

    at_the_limit = await client.post(LOGIN, content=_login_body(limit), headers=JSON)
    assert at_the_limit.status_code == 422, "read and judged on its content"


async def test_a_streamed_body_without_a_length_is_cut_off_at_the_limit(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    body = _login_body(settings.max_request_body_bytes + 64 * 1024)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    response = await client.post(LOGIN, content=chunks(), headers=JSON)
    assert "content-length" not in response.request.headers
    _assert_too_large(response)


@pytest.mark.parametrize(
    ("http_version", "headers", "bounded"),
    [
        ("1.1", [], False),  # HTTP/1: without either header, a request has no body
        ("1.1", [(b"transfer-encoding", b"chunked")], True),
        ("1.1", [(b"content-length", b"x")], True),  # not a length: read, and counted
        ("2", [], True),  # HTTP/2 streams a body without announcing it
    ],
)
async def test_only_a_request_that_may_have_a_body_has_its_body_counted(
    http_version: str, headers: list[tuple[bytes, bytes]], bounded: bool
) -> None:
    chunks = [b"x" * 8, b"x" * 8]

    async def receive() -> Message:
        body = chunks.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(chunks)}

    read: list[bytes] = []

    async def reader(_scope: Scope, app_receive: Receive, _send: Send) -> None:
        while True:
            message = await app_receive()
            read.append(message["body"])
            if not message["more_body"]:
                return

    scope = {"type": "http", "http_version": http_version, "path": "/", "headers": headers}
    limited = BodyLimit(reader, limit=10)
    if bounded:
        with pytest.raises(HTTPException) as refused:
            await limited(scope, receive, _no_send)
        assert refused.value.status_code == 413
        assert read == [b"x" * 8], "cut off once past the limit"
    else:
        await limited(scope, receive, _no_send)
        assert read == [b"x" * 8, b"x" * 8], "passed on as it came"


async def _no_send(_message: Message) -> None:
    raise AssertionError("nothing is answered")


async def test_the_limit_covers_signed_in_writes_and_forms_too(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, settings: Settings
) -> None:
    user = await make_account(session)
    oversized = b"x" * (settings.max_request_body_bytes + 1)
    _assert_too_large(
        await client.patch(
            "/api/v1/users/me",
            content=oversized,
            headers={**JSON, **bearer(runtime.access_tokens.issue(user))},
        )
    )
    form = await client.post(
        "/admin/login",
        content=oversized,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 413


async def test_an_upload_chunk_may_be_larger_than_the_body_limit(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, settings: Settings
) -> None:
    creator = await creator_with_content(session, runtime)
    data = mp4_bytes(settings.max_request_body_bytes + MiB)
    created = await create_upload(client, creator, len(data))
    assert created.status_code == 201, created.text
    sent = await patch(client, created.headers["Location"], creator, 0, data)
    assert sent.status_code == 204, sent.text
    assert sent.headers["upload-offset"] == str(len(data))


@pytest.mark.parametrize("depth", [33, 1_000, 100_000])
async def test_json_nested_too_deep_is_bad_input_not_a_crash(
    client: httpx.AsyncClient, depth: int
) -> None:
    nested = "[" * depth + "]" * depth
    for body in (nested, f'{{"login": {nested}, "password": "x"}}'):
        response = await client.post(LOGIN, content=body, headers=JSON)
        assert response.status_code in (400, 422), response.text
        assert response.headers["content-type"] == PROBLEM
        assert "Recursion" not in response.text
        assert "Traceback" not in response.text
