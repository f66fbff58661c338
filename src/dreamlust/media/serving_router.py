"""HTTP surface of serving media: asset files and the HLS streams of content."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request, Response

from dreamlust.auth.dependencies import OPTIONAL_BEARER
from dreamlust.content.dependencies import reading_of
from dreamlust.media import serving
from dreamlust.media.responses import file_response
from dreamlust.request_session import api_router
from dreamlust.runtime import runtime_of

router = api_router(tags=["media"])
_HLS = "/content/{content_id}/hls/{path:path}"
_FILE: dict[str, Any] = {
    "responses": {
        200: {"description": "The whole file.", "content": {"application/octet-stream": {}}},
        206: {"description": "The requested byte ranges."},
        304: {"description": "The client's copy is current."},
        307: {"description": "On S3: a short-lived presigned URL of the file."},
        416: {"description": "No requested range lies within the file."},
    },
    "response_class": Response,
    "openapi_extra": OPTIONAL_BEARER,
}


@router.get("/media/{asset_id}", **_FILE)
@router.head("/media/{asset_id}", **_FILE)
async def serve_asset(asset_id: uuid.UUID, request: Request) -> Response:
    """The file of a READY asset, under the visibility rules of its content."""
    session, viewer, _ = await reading_of(request)
    served = await serving.asset_file(session, asset_id, viewer)
    return await file_response(request, runtime_of(request).storage, served)


@router.get(_HLS, **_FILE)
@router.head(_HLS, **_FILE)
async def serve_hls(content_id: uuid.UUID, path: str, request: Request) -> Response:
    """A playlist or segment of the content's HLS stream, under the rules of its media."""
    session, viewer, _ = await reading_of(request)
    served = await serving.hls_file(session, content_id, path, viewer)
    return await file_response(request, runtime_of(request).storage, served)
