"""The OpenAPI document names every error an operation answers, as the problem it is,
says which operations need a sign-in and which only read one, and links what an
operation creates to the operations that address it."""

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


def _operations(document: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Every operation by its id: method, path template and the operation."""
    return {
        operation["operationId"]: (method, path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rpartition("/")[2]]
    return schema


def _path_parameters(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in operation.get("parameters", ()) if p["in"] == "path"}


async def test_every_link_leads_to_an_operation_and_sets_its_parameters(
    client: httpx.AsyncClient,
) -> None:
    document = await _document(client)
    operations = _operations(document)
    links = 0
    for source_id, (_method, _path, source) in operations.items():
        for status, answer in source["responses"].items():
            for name, link in answer.get("links", {}).items():
                links += 1
                where = (source_id, status, name)
                assert link["operationId"] in operations, where
                target = operations[link["operationId"]][2]
                named = _path_parameters(target)
                assert set(link["parameters"]) <= set(named), where
                unset = set(named) - set(link["parameters"])
                assert all("enum" in named[p]["schema"] for p in unset), (where, unset)
                body = answer["content"]["application/json"]["schema"]
                for expression in link["parameters"].values():
                    _assert_resolves(document, source, body, expression, where)
    assert links > 0


def _assert_resolves(
    document: dict[str, Any],
    source: dict[str, Any],
    body: dict[str, Any],
    expression: str,
    where: tuple[str, str, str],
) -> None:
    """`expression` names a path parameter of the source, or a required field of its
    answer's body."""
    if expression.startswith("$request.path."):
        assert expression.removeprefix("$request.path.") in _path_parameters(source), where
        return
    assert expression.startswith("$response.body#/"), (where, expression)
    schema = _resolve(document, body)
    for field in expression.removeprefix("$response.body#/").split("/"):
        assert field in schema.get("required", ()), (where, expression)
        schema = _resolve(document, schema["properties"][field])


async def test_what_is_created_links_to_what_reads_changes_and_deletes_it(
    client: httpx.AsyncClient,
) -> None:
    document = await _document(client)
    operations = _operations(document)

    def targets(method: str, path: str) -> set[tuple[str, str]]:
        links = document["paths"][path][method]["responses"]["201"].get("links", {})
        return {operations[link["operationId"]][:2] for link in links.values()}

    for path, path_operations in document["paths"].items():
        for method, operation in path_operations.items():
            created = operation["responses"].get("201", {}).get("content", {})
            if "application/json" in created:
                assert targets(method, path), (method, path)
    playlist = "/api/v1/playlists/{playlist_id}"
    assert {("get", playlist), ("patch", playlist), ("delete", playlist)} <= targets(
        "post", "/api/v1/playlists"
    )
    assert ("delete", playlist + "/items/{content_id}") in targets("post", playlist + "/items")
    comment = "/api/v1/comments/{comment_id}"
    assert {("get", comment), ("patch", comment), ("delete", comment)} <= targets(
        "post", "/api/v1/content/{content_id}/comments"
    )
    assert ("post", "/api/v1/admin/creators/{creator_id}/{decision}") in targets(
        "post", "/api/v1/creators"
    )


async def test_a_client_following_the_links_of_a_new_playlist_finds_it(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    document = await _document(client)
    operations = _operations(document)
    owner = await make_user(session)
    content = await make_content(session, await make_creator(session))
    await session.commit()
    headers = headers_for(runtime, owner)
    created = await client.post("/api/v1/playlists", json={"name": "Late"}, headers=headers)
    assert created.status_code == 201
    added = await client.post(
        f"/api/v1/playlists/{created.json()['id']}/items",
        json={"content_id": str(content.id)},
        headers=headers,
    )
    assert added.status_code == 201

    requests = []
    for response, source, request_path in (
        (created, "/api/v1/playlists", {}),
        (added, "/api/v1/playlists/{playlist_id}/items", {"playlist_id": created.json()["id"]}),
    ):
        for link in document["paths"][source]["post"]["responses"]["201"]["links"].values():
            method, template, _ = operations[link["operationId"]]
            values = {
                name: _evaluate(expression, response.json(), request_path)
                for name, expression in link["parameters"].items()
            }
            if method in {"get", "delete"}:
                requests.append((method, template, template.format(**values)))
    reached = []
    # Reads first, then deletes: the item before its playlist.
    for method, template, url in sorted(requests, key=lambda r: (r[0] == "delete", -len(r[1]))):
        answer = await client.request(method, url, headers=headers)
        reached.append((method, template, answer.status_code))
    assert sorted(reached) == [
        ("delete", "/api/v1/playlists/{playlist_id}", 204),
        ("delete", "/api/v1/playlists/{playlist_id}/items/{content_id}", 204),
        ("get", "/api/v1/playlists/{playlist_id}", 200),
        ("get", "/api/v1/playlists/{playlist_id}/items", 200),
    ]


def _evaluate(expression: str, body: Any, request_path: dict[str, str]) -> str:
    """The value of a link's runtime expression, for an answer's body and the path
    parameters of its request."""
    if expression.startswith("$request.path."):
        return request_path[expression.removeprefix("$request.path.")]
    for field in expression.removeprefix("$response.body#/").split("/"):
        body = body[field]
    return str(body)
