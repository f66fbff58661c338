"""HTTP surface of uploads: tus 1.0 (creation, HEAD, PATCH, termination), single-request
multipart uploads of media and thumbnails, and the list of a content item's assets.

The upload routes read who is calling and what they upload to in a read-only session,
closed before any body is read; their writes are short transactions of their own (see
`ReadSessionRoute`), so a slow client holds no database connection.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import ClientDisconnect

from dreamlust.auth.dependencies import CurrentUser
from dreamlust.config import API_PREFIX
from dreamlust.content.dependencies import ManagedContent, OwnedContent
from dreamlust.dependencies import DbSession, PageParams
from dreamlust.errors import DreamlustError
from dreamlust.kit.rate_limit import Limit
from dreamlust.kit.schemas import Page
from dreamlust.media import tus, uploads
from dreamlust.media.schemas import AssetRead
from dreamlust.media.staging import ClientGone
from dreamlust.media.upload_errors import UnsupportedMediaType
from dreamlust.media.upload_repository import NEWEST_ASSETS, UploadRepository
from dreamlust.models import User
from dreamlust.models.enums import MediaAssetKind
from dreamlust.request_session import Handler, ReadSessionRoute, api_router
from dreamlust.runtime import runtime_of

_MULTIPART = "multipart/form-data"


class TusRoute(ReadSessionRoute):
    """Every response, errors included, says which tus version it speaks."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def with_version(request: Request) -> Response:
            try:
                response = await handler(request)
            except DreamlustError as exc:
                exc.headers.setdefault("Tus-Resumable", tus.VERSION)
                raise
            response.headers.setdefault("Tus-Resumable", tus.VERSION)
            return response

        return with_version


router = APIRouter(route_class=TusRoute, prefix=API_PREFIX, tags=["uploads"])
assets_router = api_router(tags=["uploads"])


def _upload_location(asset_id: uuid.UUID) -> str:
    return f"{API_PREFIX}/uploads/{asset_id}"


async def _body(request: Request) -> AsyncIterator[bytes]:
    try:
        async for chunk in request.stream():
            if chunk:
                yield chunk
    except ClientDisconnect:
        raise ClientGone from None


async def _start_upload(request: Request, user: User, session: AsyncSession) -> uploads.Intake:
    """Count the upload against the user's rate, then let go of the read session."""
    runtime = runtime_of(request)
    await runtime.rate_limiter.hit(Limit.UPLOAD, str(user.id))
    await session.close()
    return uploads.Intake.of(runtime)


def _capabilities(request: Request) -> Response:
    settings = runtime_of(request).settings
    return Response(
        status_code=status.HTTP_204_NO_CONTENT, headers=tus.capabilities(settings.max_upload_bytes)
    )


@router.options("/content/{content_id}/media", include_in_schema=False)
async def media_upload_options(content_id: uuid.UUID, request: Request) -> Response:
    return _capabilities(request)


@router.options("/uploads/{asset_id}", include_in_schema=False)
async def upload_options(asset_id: uuid.UUID, request: Request) -> Response:
    return _capabilities(request)


@router.post(
    "/content/{content_id}/media", status_code=status.HTTP_201_CREATED, response_model=AssetRead
)
async def upload_media(
    content: OwnedContent,
    user: CurrentUser,
    session: DbSession,
    request: Request,
    response: Response,
) -> AssetRead:
    """The content item's media file. tus creation (`Tus-Resumable`, `Upload-Length`,
    `Upload-Metadata` with `filename`): 201 with the upload's `Location`, to which the
    bytes go by PATCH. Or, for files up to the single-request limit, a
    `multipart/form-data` body with the file in the field `file`: 201 with the asset,
    PROCESSING. The type is read from the bytes and must fit the content (415)."""
    target = uploads.Target(user.id, content.id, content.type, MediaAssetKind.MEDIA)
    if _is_multipart(request):
        return await _receive_form(request, user, session, target)
    tus.require_version(request.headers)
    length = tus.upload_length(request.headers)
    metadata = tus.metadata(request.headers)
    intake = await _start_upload(request, user, session)
    filename = metadata.get("filename") or metadata.get("name")
    asset = await uploads.create_upload(intake, target, length, filename)
    response.headers["Location"] = _upload_location(asset.id)
    response.headers["Upload-Offset"] = "0"
    return AssetRead.model_validate(asset)


@router.post(
    "/content/{content_id}/thumbnail", status_code=status.HTTP_201_CREATED, response_model=AssetRead
)
async def upload_thumbnail(
    content: OwnedContent, user: CurrentUser, session: DbSession, request: Request
) -> AssetRead:
    """An image for the content's thumbnail, as `multipart/form-data` with the field
    `file`: 201 with the asset, PROCESSING."""
    if not _is_multipart(request):
        raise UnsupportedMediaType(f"Send the image as {_MULTIPART} with the field 'file'.")
    target = uploads.Target(user.id, content.id, content.type, MediaAssetKind.THUMBNAIL)
    return await _receive_form(request, user, session, target)


@router.head("/uploads/{asset_id}")
async def upload_progress(asset_id: uuid.UUID, user: CurrentUser, request: Request) -> Response:
    """How many bytes of the upload arrived (`Upload-Offset`) of how many (`Upload-Length`)."""
    tus.require_version(request.headers)
    upload = await uploads.upload_of(uploads.Intake.of(runtime_of(request)), user.id, asset_id)
    return Response(
        status_code=status.HTTP_200_OK,
        headers={
            "Upload-Offset": str(upload.offset),
            "Upload-Length": str(upload.asset.file_size),
            "Cache-Control": "no-store",
        },
    )


@router.patch("/uploads/{asset_id}", status_code=status.HTTP_204_NO_CONTENT)
async def upload_chunk(
    asset_id: uuid.UUID, user: CurrentUser, session: DbSession, request: Request
) -> Response:
    """Bytes of the upload from `Upload-Offset` on (which must be its current offset, or
    409), as `application/offset+octet-stream`, with an optional `Upload-Checksum:
    sha256 <base64>` (460 when the bytes do not match it; nothing is kept)."""
    tus.require_version(request.headers)
    if request.headers.get("content-type", "").split(";")[0].strip() != tus.OFFSET_CONTENT_TYPE:
        raise UnsupportedMediaType(f"Send the bytes as {tus.OFFSET_CONTENT_TYPE}.")
    chunk = uploads.Chunk(
        offset=tus.upload_offset(request.headers),
        length=tus.content_length(request.headers),
        checksum=tus.checksum(request.headers),
    )
    await session.close()
    offset = await uploads.receive_chunk(
        uploads.Intake.of(runtime_of(request)), user.id, asset_id, chunk, _body(request)
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers={"Upload-Offset": str(offset)})


@router.delete("/uploads/{asset_id}", status_code=status.HTTP_204_NO_CONTENT)
async def terminate_upload(
    asset_id: uuid.UUID, user: CurrentUser, session: DbSession, request: Request
) -> Response:
    """Cancel an upload in progress: its bytes and its asset are forgotten."""
    tus.require_version(request.headers)
    await session.close()
    await uploads.terminate(uploads.Intake.of(runtime_of(request)), user.id, asset_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@assets_router.get("/content/{content_id}/media", response_model=Page[AssetRead])
async def list_assets(
    content: ManagedContent, session: DbSession, page: PageParams, request: Request
) -> Page[AssetRead]:
    """The content item's files, newest first, with their status and, when processing
    failed, why (its creator and staff)."""
    repository = UploadRepository(session)
    result = await repository.page(
        repository.of_content(content.id), NEWEST_ASSETS, page, runtime_of(request).paginator
    )
    return Page[AssetRead].model_validate(
        result.map(AssetRead.model_validate), from_attributes=True
    )


def _is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith(_MULTIPART)


async def _receive_form(
    request: Request, user: User, session: AsyncSession, target: uploads.Target
) -> AssetRead:
    content_type = request.headers["content-type"]
    declared = tus.content_length(request.headers)
    intake = await _start_upload(request, user, session)
    asset = await uploads.receive_form(intake, target, content_type, declared, _body(request))
    return AssetRead.model_validate(asset)
