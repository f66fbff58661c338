"""An endpoint called directly gets what FastAPI would hand it, and fails as FastAPI fails."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import pytest
from fastapi import APIRouter, Body, Depends, FastAPI, Path, Query, Request, Response
from fastapi.routing import APIRoute
from httpx import ASGITransport, AsyncClient
from pydantic import BaseModel, Field

from dreamlust.app import create_app
from dreamlust.config import Settings
from dreamlust.content.cards import json_response
from dreamlust.errors import install_error_handlers
from dreamlust.kit.direct_call import DirectCallRoute
from dreamlust.kit.pagination import PageRequest
from dreamlust.kit.schemas import SingleLine
from dreamlust.models.enums import ContentType


class ProbeQuery(PageRequest):
    q: Annotated[str, Field(max_length=10), SingleLine]
    type: ContentType | None = None
    is_vr: bool | None = None
    sort: Literal["latest", "popular"] = "latest"


async def probe(
    item_id: uuid.UUID,
    name: Annotated[str, Path(max_length=5)],
    request: Request,
    query: Annotated[ProbeQuery, Query()],
) -> Response:
    return json_response(
        {
            "item_id": item_id,
            "name": name,
            "path": request.url.path,
            "query": query.model_dump(mode="json"),
        }
    )


class ProbeBody(BaseModel):
    duration: Annotated[int, Field(strict=True, ge=0)] | None = None
    label: Annotated[str, Field(max_length=5)] = "none"


async def with_body(
    item_id: uuid.UUID, body: Annotated[ProbeBody | None, Body()] = None
) -> Response:
    return json_response(
        {"item_id": item_id, "body": body.model_dump() if body is not None else None}
    )


async def with_required_body(item_id: uuid.UUID, body: ProbeBody) -> Response:
    return json_response({"item_id": item_id, "body": body.model_dump()})


async def with_embedded_body(
    item_id: uuid.UUID, body: Annotated[ProbeBody, Body(embed=True)]
) -> Response:
    return json_response({"item_id": item_id, "body": body.model_dump()})


async def typed(item_id: uuid.UUID, n: Annotated[int, Path(ge=2)]) -> Response:
    return json_response({"item_id": item_id, "n": n})


async def _nothing() -> None:
    return None


async def with_dependency(item_id: uuid.UUID, _: Annotated[None, Depends(_nothing)]) -> Response:
    return json_response({"item_id": item_id})


def in_thread(item_id: uuid.UUID) -> Response:
    return json_response({"item_id": item_id})


def _app(route_class: type[APIRoute]) -> FastAPI:
    router = APIRouter(route_class=route_class)
    router.add_api_route("/items/{item_id}/{name}", probe, methods=["GET"])
    router.add_api_route("/typed/{item_id:uuid}/{n:int}", typed, methods=["GET"])
    router.add_api_route("/solved/{item_id}", with_dependency, methods=["GET"])
    router.add_api_route("/threaded/{item_id}", in_thread, methods=["GET"])
    router.add_api_route("/bodies/{item_id}", with_body, methods=["POST"])
    router.add_api_route("/required-bodies/{item_id}", with_required_body, methods=["POST"])
    router.add_api_route("/embedded-bodies/{item_id}", with_embedded_body, methods=["POST"])
    app = FastAPI(routes=router.routes)
    install_error_handlers(app)
    return app


ITEM = uuid.UUID("5f0c3c1e-7d7a-4c43-9d0e-6c1b8f0a2b11")
REQUESTS = [
    f"/items/{ITEM}/abc?q=heron",
    f"/items/{ITEM}/abc?q=heron&limit=5&cursor=xyz&type=VIDEO&is_vr=true&sort=popular",
    f"/items/{ITEM}/abc?q=heron&is_vr=0&unknown=1",
    f"/items/{ITEM}/abc?q=first&q=second",  # the last of a repeated parameter
    f"/items/{ITEM}/abc",  # q is required
    f"/items/{ITEM}/abc?q=heron&limit=0",
    f"/items/{ITEM}/abc?q=heron&limit=101&type=NOPE&sort=oldest",
    f"/items/{ITEM}/abc?q=heron&limit=many&is_vr=maybe",
    f"/items/{ITEM}/abc?q=far+too+long+words",
    f"/items/{ITEM}/abc?q=two%0Alines",
    f"/items/{ITEM}/abc?q=heron&cursor=" + "c" * 1025,
    "/items/not-a-uuid/abcdefg?limit=0",  # path and query both wrong
    f"/items/{ITEM.hex}/abc?q=heron",  # a UUID without dashes is a UUID
    # Made a UUID and an int by the route's convertors, the int still held to its bound.
    f"/typed/{ITEM}/3",
    f"/typed/{ITEM.hex.upper()}/2",
    f"/typed/{ITEM}/1",
    "/typed/not-a-uuid/3",  # matches no route
]


JSON = {"content-type": "application/json"}
# (path, body, headers) of a POST
BODY_REQUESTS = [
    (f"/bodies/{ITEM}", b'{"duration": 30, "label": "abc"}', JSON),
    (f"/bodies/{ITEM}", b"", JSON),  # no body: the default
    (f"/bodies/{ITEM}", b"null", JSON),
    (f"/bodies/{ITEM}", b'{"duration": "30"}', JSON),  # strict: a string is no int
    (f"/bodies/{ITEM}", b'{"duration": -1, "label": "far too long"}', JSON),
    (f"/bodies/{ITEM}", b'{"duration": 30', JSON),  # not JSON
    (f"/bodies/{ITEM}", b"[1, 2]", JSON),
    (f"/bodies/{ITEM}", b'{"duration": 30}', {"content-type": "Application/JSON; charset=utf-8"}),
    (f"/bodies/{ITEM}", b'{"duration": 30}', {"content-type": "application/merge-patch+json"}),
    (f"/bodies/{ITEM}", b'{"duration": 30}', {"content-type": "text/plain"}),  # left as bytes
    (f"/bodies/{ITEM}", b'{"duration": 30}', {"content-type": "application/json, text/plain"}),
    (f"/bodies/{ITEM}", b'{"duration": 30}', {}),  # no content type: left as bytes
    ("/bodies/not-a-uuid", b'{"duration": -1}', JSON),  # path and body both wrong
    ("/bodies/not-a-uuid", b"{", JSON),  # JSON that does not parse is answered first
    (f"/required-bodies/{ITEM}", b"", JSON),  # a required body missing
    (f"/required-bodies/{ITEM}", b'{"label": "abc"}', JSON),
    (f"/embedded-bodies/{ITEM}", b'{"body": {"label": "abc"}}', JSON),
]


async def _answers(
    method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> list[tuple[int, object]]:
    answers = []
    for route_class in (APIRoute, DirectCallRoute):
        transport = ASGITransport(app=_app(route_class))
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.request(method, path, content=body, headers=headers)
        answers.append((response.status_code, response.json()))
    return answers


@pytest.mark.parametrize("path", REQUESTS)
async def test_a_direct_call_answers_as_fastapi_solving_the_parameters_answers(path: str) -> None:
    answers = await _answers("GET", path)
    assert answers[0] == answers[1]


@pytest.mark.parametrize(("path", "body", "headers"), BODY_REQUESTS)
async def test_a_direct_call_reads_a_body_as_fastapi_reads_it(
    path: str, body: bytes, headers: dict[str, str]
) -> None:
    answers = await _answers("POST", path, body, headers)
    assert answers[0] == answers[1]


def test_a_path_parameter_its_convertor_made_what_it_declares_is_not_validated_again() -> None:
    [route] = [
        r for r in _app(DirectCallRoute).routes if getattr(r, "path", "").startswith("/typed")
    ]
    assert isinstance(route, DirectCallRoute)
    call = route.direct_call
    assert call is not None
    assert call.converted == ("item_id",)
    assert call.path is not None
    assert set(call.path.model_fields) == {"n"}, "n has a bound of its own"


async def test_only_endpoints_with_nothing_else_to_solve_are_called_directly() -> None:
    routes = {
        route.path: route
        for route in _app(DirectCallRoute).routes
        if isinstance(route, DirectCallRoute)
    }
    assert routes["/items/{item_id}/{name}"].direct_call is not None
    assert routes["/bodies/{item_id}"].direct_call is not None
    assert routes["/required-bodies/{item_id}"].direct_call is not None
    assert routes["/embedded-bodies/{item_id}"].direct_call is None  # left to FastAPI
    assert routes["/solved/{item_id}"].direct_call is None
    assert routes["/threaded/{item_id}"].direct_call is None  # run in a thread
    transport = ASGITransport(app=_app(DirectCallRoute))
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        for path in (f"/solved/{ITEM}", f"/threaded/{ITEM}"):
            response = await client.get(path)
            assert response.json() == {"item_id": str(ITEM)}


def test_the_public_reads_views_and_likes_are_called_directly(settings: Settings) -> None:
    app = create_app(settings)
    direct = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, DirectCallRoute) and route.direct_call is not None
        for method in route.methods or ()
    }
    assert {
        ("GET", "/api/v1/content"),
        ("GET", "/api/v1/content/trending"),
        ("GET", "/api/v1/content/{content_id:uuid}"),
        ("GET", "/api/v1/creators/{handle}/content"),
        ("GET", "/api/v1/search"),
        ("POST", "/api/v1/content/{content_id}/views"),
        ("PUT", "/api/v1/content/{content_id}/like"),
        ("DELETE", "/api/v1/content/{content_id}/like"),
    } <= direct
