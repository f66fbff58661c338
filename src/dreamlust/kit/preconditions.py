"""Optimistic-locking preconditions: `If-Match: "<version>"` or a `version` in the body."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Header, Response

from dreamlust.errors import BadRequest, PreconditionRequired
from dreamlust.kit.model import VersionedMixin

_STRONG_ETAG = re.compile(r'^"(\d{1,18})"$')


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, resource: VersionedMixin) -> None:
    response.headers["ETag"] = etag(resource.version)


IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=64)]


def expected_version(if_match: str | None, body_version: int | None) -> int:
    """The version the client claims to be changing; one of the two must be given.

    A weak or malformed validator can never match a strong ETag: it is a 400, and the
    service's comparison turns a well-formed but stale one into 412 (If-Match) or 409.
    """
    if if_match is not None:
        match = _STRONG_ETAG.match(if_match.strip())
        if match is None:
            raise BadRequest('If-Match must be a strong ETag such as "3".')
        return int(match.group(1))
    if body_version is not None:
        return body_version
    raise PreconditionRequired(
        'This update needs the version you are changing: send If-Match: "<version>" '
        "or a version field in the body."
    )
