"""The OpenAPI document as the API behaves: each operation's errors, and whether it
needs a sign-in or only reads one when it is sent.

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


def install_openapi_document(app: FastAPI) -> None:
    """Build `app`'s OpenAPI document once, with the problems and the sign-in of each
    operation."""

    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()  # FastAPI's document, kept in `app.openapi_schema`
            _mark_optional_sign_in(app, document)
            add_problems(document)
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
