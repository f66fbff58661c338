"""Endpoints called with their parameters solved in one step each.

FastAPI solves a route's parameters one at a time on every request: for each one it
looks up its aliases, walks its annotation to learn whether it is a sequence and
validates it on its own, inside two exit stacks opened per request for dependencies
with `yield`. On the public reads that is a large share of the request: a list of
content, with its eight query parameters, spent about 130 µs of CPU on them, a sixth of
the request (see bench/README.md).

A coroutine endpoint that takes nothing but the request, path parameters, at most one
query model (`Annotated[Model, Query()]`, which OpenAPI shows as the model's fields) and
at most one JSON body that is not embedded has nothing for FastAPI to solve that pydantic
cannot do in one call: its path parameters are validated by one model, its query string
by its own, its body by its field as FastAPI validates it, and the errors are raised as
FastAPI raises them (a `RequestValidationError` located in `path`, `query` or `body`; a
body that is not JSON, or cannot be read, as FastAPI answers it).
"""

from __future__ import annotations

import functools
import inspect
import json
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request, Response, params
from fastapi._compat import ModelField, Undefined
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_body_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError, create_model
from starlette.convertors import (
    Convertor,
    FloatConvertor,
    IntegerConvertor,
    PathConvertor,
    StringConvertor,
    UUIDConvertor,
)
from starlette.routing import request_response

Endpoint = Callable[..., Awaitable[Response]]
Handler = Callable[[Request], Coroutine[Any, Any, Response]]

# What a dependant may hold besides path parameters, a query model and the request:
# any of these leaves the endpoint to FastAPI.
_OTHER_PARAMETERS = (
    "websocket_param_name",
    "http_connection_param_name",
    "response_param_name",
    "background_tasks_param_name",
    "security_scopes_param_name",
)


# What each of Starlette's convertors makes of the text it matched.
_CONVERTED: dict[type[Convertor[Any]], type] = {
    StringConvertor: str,
    PathConvertor: str,
    IntegerConvertor: int,
    FloatConvertor: float,
    UUIDConvertor: uuid.UUID,
}


@dataclass(frozen=True)
class DirectCall:
    """How to call one endpoint with its parameters: see the module's docstring."""

    endpoint: Endpoint
    request_name: str | None
    converted: tuple[str, ...]
    path: type[BaseModel] | None
    query_name: str | None
    query: type[BaseModel] | None
    body: ModelField | None

    @classmethod
    def of(
        cls,
        dependant: Dependant,
        convertors: Mapping[str, Convertor[Any]],
        *,
        strict_content_type: bool = True,
    ) -> DirectCall | None:
        """The direct call of the endpoint `dependant` describes, when it takes nothing
        FastAPI would have to solve (see the module's docstring); None otherwise.
        `convertors`: the route's, by path parameter; `strict_content_type`: the route's
        (whether a body without a content type is left unparsed)."""
        if (
            not inspect.iscoroutinefunction(dependant.call)
            or dependant.dependencies
            or not all(_is_json_body(field) for field in dependant.body_params)
            or len(dependant.body_params) > 1
            or (dependant.body_params and not strict_content_type)
            or dependant.header_params
            or dependant.cookie_params
            or any(getattr(dependant, name) is not None for name in _OTHER_PARAMETERS)
            or len(dependant.query_params) > 1
        ):
            return None
        query = dependant.query_params[0] if dependant.query_params else None
        model: type[BaseModel] | None = None
        if query is not None:
            annotation = query.field_info.annotation
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                return None
            model = annotation
        converted = [f for f in dependant.path_params if _is_converted(f, convertors.get(f.name))]
        checked = [field for field in dependant.path_params if field not in converted]
        path = None
        if checked:
            fields: dict[str, Any] = {
                field.name: (field.field_info.annotation, field.field_info) for field in checked
            }
            path = create_model("PathParameters", **fields)
        return cls(
            endpoint=dependant.call,
            request_name=dependant.request_param_name,
            converted=tuple(field.name for field in converted),
            path=path,
            query_name=query.name if query is not None else None,
            query=model,
            body=dependant.body_params[0] if dependant.body_params else None,
        )

    async def __call__(self, request: Request) -> Response:
        # Read first, as FastAPI does: a body that is not valid JSON is answered before
        # the parameters are looked at.
        received = await _received_body(request) if self.body is not None else Undefined
        path_params = request.path_params
        values: dict[str, Any] = {name: path_params[name] for name in self.converted}
        errors: list[Any] = []
        if self.path is not None:
            try:
                values.update(iter(self.path.model_validate(path_params)))
            except ValidationError as error:
                errors += _located("path", error)
        if self.query is not None:
            assert self.query_name is not None
            try:
                values[self.query_name] = self.query.model_validate(dict(request.query_params))
            except ValidationError as error:
                errors += _located("query", error)
        if self.body is not None:
            body, body_errors = await request_body_to_args([self.body], received, False)
            values.update(body)
            errors += body_errors
        if errors:
            raise RequestValidationError(errors)
        if self.request_name is not None:
            values[self.request_name] = request
        return await self.endpoint(**values)


def _is_converted(field: ModelField, convertor: Convertor[Any] | None) -> bool:
    """Whether the route's convertor already made the path parameter what its field
    declares (`{content_id:uuid}` for a plain `uuid.UUID`): a value it matched is then
    valid as it is, and its model would only check it again."""
    if convertor is None:
        return False
    info = field.field_info
    return info.annotation is _CONVERTED.get(type(convertor)) and not info.metadata


def _is_json_body(field: ModelField) -> bool:
    """Whether `field` is a body parameter FastAPI reads as JSON and does not embed."""
    info = field.field_info
    return (
        isinstance(info, params.Body)
        and not isinstance(info, params.Form)
        and not getattr(info, "embed", None)
    )


async def _received_body(request: Request) -> Any:
    """The request's body as FastAPI hands it to a JSON body parameter: `Undefined` when
    empty, the JSON value of an `application/json` or `application/*+json` body, its
    bytes otherwise. JSON that does not parse is a `RequestValidationError`; a body that
    cannot be read, a 400 (an HTTP error raised while reading, the body limit's 413,
    stays as it is)."""
    try:
        body = await request.body()
        if not body:
            return Undefined
        if not _is_json_type(request.headers.get("content-type")):
            return body
        return await request.json()
    except json.JSONDecodeError as error:
        raise RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body", error.pos),
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": error.msg},
                }
            ],
            body=error.doc,
        ) from error
    except HTTPException:
        raise
    except Exception as error:
        raise HTTPException(400, "There was an error parsing the body") from error


@functools.lru_cache(maxsize=64)
def _is_json_type(content_type: str | None) -> bool:
    """Whether a body of this `Content-Type` is JSON to FastAPI: `application/json` or
    `application/*+json`, read as `email.message` reads the header (parameters and case
    ignored; a value that is not one type and subtype is `text/plain`)."""
    if content_type is None:
        return False
    media_type = content_type.partition(";")[0].strip().lower()
    if media_type.count("/") != 1:
        return False
    main, subtype = media_type.split("/")
    return main == "application" and (subtype == "json" or subtype.endswith("+json"))


def _located(where: str, error: ValidationError) -> list[dict[str, Any]]:
    return [
        {**detail, "loc": (where, *detail["loc"])}
        for detail in error.errors(include_url=False, include_context=False)
    ]


class DirectCallRoute(APIRoute):
    """A route whose endpoint is called directly when nothing in it needs FastAPI's
    solving (see the module's docstring), and through FastAPI otherwise."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        super().__init__(path, endpoint, **options)
        if self.direct_call is not None:
            # Nothing to close after the response: Starlette's request_response, without
            # the exit stacks FastAPI's opens for dependencies with `yield`. (Its errors
            # are answered at the route, inside what wraps the route's `handle`: the
            # write limit's quota headers reach them.)
            self.app = request_response(self.get_route_handler())

    @functools.cached_property
    def direct_call(self) -> DirectCall | None:
        strict = self.strict_content_type
        return DirectCall.of(
            self.dependant,
            self.param_convertors,
            strict_content_type=strict.value if isinstance(strict, DefaultPlaceholder) else strict,
        )

    def get_route_handler(self) -> Handler:
        return self.direct_call or super().get_route_handler()
