"""Request bodies take JSON as it is typed: no number becomes a boolean, no text or
boolean becomes a number.

Pydantic's lax mode would take `0` for `false` and `"3"` for `3`; a client that sends
those has a bug it should hear about. The models are found through the application's
routes, nested models included, so a body added later is held to the same rule.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, ValidationError, create_model
from pydantic.fields import FieldInfo

from dreamlust.app import create_app
from tests.conftest import make_settings

WRONG_VALUES: dict[type, tuple[object, ...]] = {bool: (0, 1, "true", "yes"), int: ("3", True, 3.0)}


def _body_models() -> set[type[BaseModel]]:
    app = create_app(make_settings("sqlite+aiosqlite:///unused.db"))
    found: set[type[BaseModel]] = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            for param in route.dependant.body_params:
                found.update(_models_in(param.field_info.annotation))
    return found


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        for field in annotation.model_fields.values():
            yield from _models_in(field.annotation)
        return
    for argument in typing.get_args(annotation):
        yield from _models_in(argument)


def _scalar(annotation: Any) -> type | None:
    """`bool` or `int` when the field holds one (optional or not), else None."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _scalar(typing.get_args(annotation)[0])
    if annotation in WRONG_VALUES:
        return typing.cast(type, annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        kinds = {_scalar(argument) for argument in typing.get_args(annotation)} - {None}
        return kinds.pop() if len(kinds) == 1 else None
    return None


def _typed_fields() -> list[tuple[str, type, FieldInfo]]:
    fields = [
        (f"{model.__name__}.{name}", kind, field)
        for model in _body_models()
        for name, field in model.model_fields.items()
        if (kind := _scalar(field.annotation)) is not None
    ]
    return sorted(fields, key=lambda entry: entry[0])


FIELDS = _typed_fields()


def test_the_bodies_have_boolean_and_integer_fields_to_check() -> None:
    names = {name for name, _, _ in FIELDS}
    assert {"PlaylistCreate.is_public", "CategoryCreate.sort_order", "ContentUpdate.version"} <= (
        names
    )
    assert "NotificationSettingsUpdate.email" in names


@pytest.mark.parametrize(("name", "kind", "field"), FIELDS, ids=[name for name, _, _ in FIELDS])
def test_a_value_of_another_json_type_is_refused(name: str, kind: type, field: FieldInfo) -> None:
    probe = create_model("Probe", value=(field.annotation, field))
    for wrong in WRONG_VALUES[kind]:
        with pytest.raises(ValidationError):
            probe.model_validate({"value": wrong})
