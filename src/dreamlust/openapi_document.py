"""The OpenAPI document as the API behaves: each operation's errors, whether it needs a
sign-in or only reads one when it is sent, and where what it creates can be found.

Every error is an RFC 9457 problem (`errors.problem`) with the media type
`application/problem+json`. FastAPI documents only its own 422 body, as
`application/json`; a client generated from that document, or a contract test such as
Schemathesis, would find every other error undocumented. So once the document is built,
each operation is given:

- the statuses its shape implies: 422 where it takes input; 401 where it reads a bearer
  token, and 403 where it needs one (a suspended account, a missing role); 404 where its
  path names something; 400 where it takes a page cursor; 409, 412 and 428 where it takes
  `If-Match`; 413, 429 and 503 where it writes (body limit, write limits, a store that is
  down);
- a `default` problem for the rest (a conflict with existing data, a store that is down
  during a read, an unexpected error), as the OpenAPI specification intends `default`.

FastAPI documents the bearer scheme of a route as required whenever the route reads a
token, though `optional_user` serves the signed-out too; those operations are given
"bearer or nothing" (as routes that read the caller themselves declare with
`OPTIONAL_BEARER`), so that a client knows the token is optional.

An operation that creates something (a 201) links to the operations that address it
next (OpenAPI `links`): a new playlist to reading, changing and deleting it and to its
items, a new comment to its replies, a new upload to its progress. `_ADDRESSES` says,
for each body a 201 answers with, which path parameters name the resource and where
their values are; an operation is linked when those parameters are all its path
parameters, less any whose value is one of a fixed list. A client follows the links
instead of guessing; a stateful contract test chains create, read, update and delete.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from dreamlust.auth.dependencies import current_user, optional_user
from dreamlust.errors import PROBLEM_MEDIA_TYPE

_WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem: what went wrong, for people and for programs.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "examples": ["urn:dreamlust:problem:not-found"]},
        "title": {"type": "string", "examples": ["Not Found"]},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "examples": ["No such content."]},
        "errors": {
            "type": "array",
            "description": "For 422: each field that is not valid, and why.",
            "items": {
                "type": "object",
                "required": ["loc", "msg"],
                "properties": {
                    "loc": {"type": "array", "items": {"type": "string"}},
                    "msg": {"type": "string"},
                },
            },
        },
    },
}
_DESCRIPTIONS = {
    "400": "The request is malformed (a cursor that was not issued by this API).",
    "401": "A bearer token is missing, expired, revoked or not valid.",
    "403": "The signed-in account may not do this.",
    "404": "Nothing by that name, or nothing this caller may see.",
    "409": "The resource was changed meanwhile, or the request conflicts with its state.",
    "412": "`If-Match` names a version that is no longer current.",
    "413": "The request body is too large.",
    "422": "The request is not valid; `errors` names each field and why.",
    "428": "This change needs `If-Match` with the version it is based on.",
    "429": "Too many requests; `Retry-After` says when to try again.",
    "503": "A store the request needs is unavailable; `Retry-After` says when to retry.",
    "default": "Any other error, as a problem.",
}
_PROBLEM_CONTENT = {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}}
# For each body a 201 answers with: the ways its resource is named in paths, each a set
# of path parameters and where their values are (runtime expressions of OpenAPI links).
_ADDRESSES: dict[str, list[dict[str, str]]] = {
    "AssetRead": [{"asset_id": "$response.body#/id"}],
    "CategoryRead": [{"slug": "$response.body#/slug"}],
    "CommentRead": [{"comment_id": "$response.body#/id"}],
    "ContentRead": [{"content_id": "$response.body#/id"}],
    "CreatorRead": [{"handle": "$response.body#/handle"}, {"creator_id": "$response.body#/id"}],
    "ItemRead": [
        {"playlist_id": "$request.path.playlist_id", "content_id": "$response.body#/content/id"}
    ],
    "MyReport": [{"report_id": "$response.body#/id"}],
    "PlaylistRead": [{"playlist_id": "$response.body#/id"}],
    "PurchaseRead": [{"transaction_id": "$response.body#/transaction/id"}],
    "Subscribed": [
        {"subscription_id": "$response.body#/subscription/id"},
        {"transaction_id": "$response.body#/transaction/id"},
    ],
    "TransactionRead": [{"transaction_id": "$response.body#/id"}],
    "UserPrivate": [{"username": "$response.body#/username"}, {"user_id": "$response.body#/id"}],
}


def install_openapi_document(app: FastAPI) -> None:
    """Build `app`'s OpenAPI document once, with the problems, the sign-in and the links
    of each operation."""

    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()  # FastAPI's document, kept in `app.openapi_schema`
            _mark_optional_sign_in(app, document)
            add_problems(document)
            add_links(document)
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]


def add_problems(document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = _PROBLEM_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status in _statuses(path, method, operation):
                if status == "422" or status not in responses:  # FastAPI's 422 is replaced
                    responses[status] = _problem_response(status)
            for status, answer in responses.items():  # errors a route documents itself
                if status.isdigit() and int(status) >= 400 and "content" not in answer:
                    answer["content"] = _PROBLEM_CONTENT


def _statuses(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    parameters = {(p["in"], p["name"].lower()) for p in operation.get("parameters", ())}
    security = operation.get("security")
    statuses = []
    if parameters or "requestBody" in operation:
        statuses.append("422")
    if security:
        statuses.append("401")
        if {} not in security:  # a token is required, not only read when sent
            statuses.append("403")
    if "{" in path:
        statuses.append("404")
    if ("query", "cursor") in parameters:
        statuses.append("400")
    if ("header", "if-match") in parameters:
        statuses += ["409", "412", "428"]
    if method in _WRITE_METHODS:
        statuses += ["413", "429", "503"]
    statuses.append("default")
    return statuses


def add_links(document: dict[str, Any]) -> None:
    """Link each 201 to the operations that address the resource it created."""
    operations = [
        operation
        for path_operations in document.get("paths", {}).values()
        for operation in path_operations.values()
    ]
    for operation in operations:
        created = operation.get("responses", {}).get("201", {})
        schema = created.get("content", {}).get("application/json", {}).get("schema", {})
        name = schema.get("$ref", "").rpartition("/")[2]
        links = {
            target["operationId"]: {
                "operationId": target["operationId"],
                "parameters": dict(address),
            }
            for address in _ADDRESSES.get(name, ())
            for target in operations
            if _named_parameters(target) == set(address)
        }
        if links:
            created["links"] = links


def _named_parameters(operation: dict[str, Any]) -> set[str]:
    """The path parameters that name something: all but those chosen from a fixed list."""
    return {
        parameter["name"]
        for parameter in operation.get("parameters", ())
        if parameter["in"] == "path" and "enum" not in parameter.get("schema", {})
    }


def _problem_response(status: str) -> dict[str, Any]:
    return {"description": _DESCRIPTIONS[status], "content": _PROBLEM_CONTENT}


def _mark_optional_sign_in(app: FastAPI, document: dict[str, Any]) -> None:
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or context.path_format is None:
            continue
        calls = _calls(route.dependant)
        if optional_user not in calls or current_user in calls:
            continue
        for method in context.methods or ():
            operation = document["paths"][context.path_format].get(method.lower())
            security = operation.get("security") if operation else None
            if security and {} not in security:
                security.append({})


def _calls(dependant: Dependant) -> set[object]:
    """Every function the route's dependencies call, however deep."""
    calls: set[object] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        calls.add(current.call)
        pending.extend(current.dependencies)
    return calls
