"""Taking creators' files: tus resumable uploads and single-request (multipart) ones.

An upload is a `MediaAsset` row in UPLOADING plus a staging file named by its id. Bytes
are appended to the staging file in requests that hold no database connection while
they stream; each request then records the new offset in a short transaction of its
own. The type is decided from the first bytes (`detection`) and must fit the content
item; a file of another type is refused and forgotten at once. After the last byte the
whole file's SHA-256 is recorded, the file moves into storage under `original_key`,
and the asset goes to PROCESSING for the worker.

Should storage fail after the last byte, the upload stays UPLOADING at its full offset
with the file staged: an empty PATCH at that offset tries again. An upload left
unfinished past its expiry is deleted by the worker (`forget_abandoned`).
"""

from __future__ import annotations

import logging
import unicodedata
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePosixPath, PureWindowsPath

from dreamlust.config import Settings
from dreamlust.db import Database
from dreamlust.errors import BadRequest, Conflict, NotFound, ServiceUnavailable
from dreamlust.kit.clock import utcnow
from dreamlust.kit.ids import new_id
from dreamlust.media import form_upload, quota
from dreamlust.media.detection import (
    HEAD_BYTES,
    AmbiguousType,
    Detected,
    Family,
    UnknownType,
    detect,
)
from dreamlust.media.staging import BodyTooLarge, StagedFile, Staging, StagingFull, UploadBusy
from dreamlust.media.storage import Storage, StorageError, StorageFull, original_key
from dreamlust.media.tus import ChecksumMismatch
from dreamlust.media.upload_errors import (
    ContentTooLarge,
    NoRoomForUpload,
    OffsetMismatch,
    UnsupportedMediaType,
    UploadInUse,
)
from dreamlust.media.upload_repository import UploadRepository
from dreamlust.models import MediaAsset
from dreamlust.models.enums import ContentType, MediaAssetKind, MediaAssetStatus
from dreamlust.runtime import Runtime

logger = logging.getLogger(__name__)

_FAMILY_OF_CONTENT = {
    ContentType.VIDEO: Family.VIDEO,
    ContentType.VR: Family.VIDEO,
    ContentType.PHOTO: Family.IMAGE,
    ContentType.AUDIO: Family.AUDIO,
}
_MAX_FILENAME = 255
_EXPIRED_BATCH = 500
# A staging file without an upload is deleted once it is this old (younger ones may
# belong to an upload whose row is being committed).
STRAY_FILE_SECONDS = 3600.0


@dataclass(frozen=True)
class Intake:
    """What taking uploads needs of the process."""

    database: Database
    storage: Storage
    staging: Staging
    settings: Settings

    @classmethod
    def of(cls, runtime: Runtime) -> Intake:
        settings = runtime.settings
        return cls(runtime.database, runtime.storage, Staging(settings.upload_dir), settings)


@dataclass(frozen=True)
class Target:
    """What an upload is for: a content item's media or thumbnail."""

    owner_id: uuid.UUID
    content_id: uuid.UUID
    content_type: ContentType
    kind: MediaAssetKind

    @property
    def family(self) -> Family:
        if self.kind is MediaAssetKind.THUMBNAIL:
            return Family.IMAGE
        family = _FAMILY_OF_CONTENT.get(self.content_type)
        if family is None:
            raise Conflict(f"{self.content_type.value} content takes no uploaded media.")
        return family


@dataclass(frozen=True)
class Chunk:
    """A PATCH: where its bytes go, how many it announces, and their SHA-256 if given."""

    offset: int
    length: int | None
    checksum: bytes | None


def size_limit(settings: Settings, family: Family) -> int:
    return settings.max_image_bytes if family is Family.IMAGE else settings.max_upload_bytes


def display_name(filename: str | None) -> str | None:
    """The name a client gave its file, as text to show: its last path segment (of
    either slash), without control or format characters, at most 255 characters. It
    is never part of any path or key."""
    if not filename:
        return None
    last = PureWindowsPath(PurePosixPath(filename).name).name
    cleaned = "".join(
        char
        for char in unicodedata.normalize("NFC", last)
        if unicodedata.category(char) not in {"Cc", "Cf", "Cs", "Co", "Cn"}
    ).strip()
    if cleaned in {"", ".", ".."}:
        return None
    return cleaned[:_MAX_FILENAME]


async def create_upload(
    intake: Intake, target: Target, length: int, filename: str | None
) -> MediaAsset:
    """A new tus upload of `length` bytes, its size reserved in the owner's quota."""
    limit = size_limit(intake.settings, target.family)
    if length == 0:
        raise BadRequest("An empty file is not media: Upload-Length must be at least 1.")
    if length > limit:
        raise ContentTooLarge(f"The file is {length} bytes; the largest accepted is {limit}.")
    async with intake.database.transaction() as session:
        await quota.reserve(session, target.owner_id, length, intake.settings.storage_quota_bytes)
        asset = _new_asset(intake.settings, target, new_id(), length, display_name(filename))
        await UploadRepository(session).add(asset)
        await intake.staging.create(asset.id)
    return asset


@dataclass(frozen=True)
class Upload:
    asset: MediaAsset
    target: Target

    @property
    def offset(self) -> int:
        """How many bytes the upload has (all of them once it is finished)."""
        asset = self.asset
        return (
            asset.upload_offset if asset.status is MediaAssetStatus.UPLOADING else asset.file_size
        )

    @property
    def finished(self) -> bool:
        return self.asset.status is not MediaAssetStatus.UPLOADING


async def upload_of(intake: Intake, owner_id: uuid.UUID, asset_id: uuid.UUID) -> Upload:
    """The owner's upload (finished or not); 404 for anyone else and once expired."""
    async with intake.database.session(write=False) as session:
        found = await UploadRepository(session).of_owner(asset_id, owner_id)
    if found is None:
        raise NotFound("No such upload.")
    asset, content_type = found
    expires = asset.upload_expires_at
    if asset.status is MediaAssetStatus.UPLOADING and expires is not None and expires < utcnow():
        raise NotFound("No such upload: it expired.")
    assert asset.content_id is not None  # joined to its content
    return Upload(asset, Target(owner_id, asset.content_id, content_type, asset.kind))


async def receive_chunk(
    intake: Intake,
    owner_id: uuid.UUID,
    asset_id: uuid.UUID,
    chunk: Chunk,
    body: AsyncIterator[bytes],
) -> int:
    """Append a PATCH's bytes to the owner's upload; the new offset."""
    upload = await upload_of(intake, owner_id, asset_id)
    if upload.finished:
        return _finished(upload.asset, chunk)
    try:
        file = await intake.staging.open(asset_id)
    except UploadBusy:
        raise UploadInUse(
            "Another request is sending bytes of this upload; ask HEAD for the offset when "
            "it is done and resume from there."
        ) from None
    except FileNotFoundError:
        return await _recover(intake, upload.asset, chunk)
    async with file:
        # Read again under the lock: what an earlier request left is settled now.
        upload = await upload_of(intake, owner_id, asset_id)
        if upload.finished:
            return _finished(upload.asset, chunk)
        return await _append(intake, upload, file, chunk, body)


async def terminate(intake: Intake, owner_id: uuid.UUID, asset_id: uuid.UUID) -> None:
    """Forget an upload in progress: its row and its staged bytes."""
    if (await upload_of(intake, owner_id, asset_id)).finished:
        raise Conflict("This upload is complete; it can no longer be terminated.")
    try:
        file: StagedFile | None = await intake.staging.open(asset_id)
    except UploadBusy:
        raise UploadInUse("A request is sending bytes of this upload right now.") from None
    except FileNotFoundError:
        file = None
    try:
        await _forget(intake, asset_id)
    finally:
        if file is not None:
            await file.close()


async def receive_form(
    intake: Intake,
    target: Target,
    content_type: str,
    declared_length: int | None,
    body: AsyncIterator[bytes],
) -> MediaAsset:
    """A whole file in one multipart request: staged, checked, stored, handed on."""
    settings = intake.settings
    limit = min(settings.max_single_request_upload_bytes, size_limit(settings, target.family))
    if declared_length is not None and declared_length > limit + form_upload.FRAMING_BYTES:
        raise ContentTooLarge(
            f"One request takes files of at most {limit} bytes; send larger ones with tus."
        )
    form_upload.boundary_of(content_type)
    asset_id = new_id()
    await intake.staging.create(asset_id)
    try:
        async with await intake.staging.open(asset_id) as file:
            try:
                form = await form_upload.receive(body, content_type, file, limit=limit)
            except BodyTooLarge:
                raise ContentTooLarge(
                    f"One request takes files of at most {limit} bytes; send larger ones with tus."
                ) from None
            except StagingFull:
                raise NoRoomForUpload(
                    "There is no room left to take this file right now; nothing of it was "
                    "kept. Try again later."
                ) from None
            detected = _fitting(target, await file.head(HEAD_BYTES))
            length = form.received.length
            async with intake.database.transaction() as session:
                await quota.reserve(session, target.owner_id, length, settings.storage_quota_bytes)
                asset = _new_asset(settings, target, asset_id, length, display_name(form.filename))
                asset.upload_offset = length
                asset.mime_type = detected.mime_type
                asset.checksum_sha256 = form.received.digest.hexdigest()
                await UploadRepository(session).add(asset)
            try:
                await _store(intake, asset_id, file, detected.mime_type)
            except (ServiceUnavailable, NoRoomForUpload):
                await _forget(intake, asset_id)
                raise
    finally:
        await intake.staging.delete(asset_id)
    return await _reread(intake, asset_id)


async def forget_abandoned(intake: Intake) -> int:
    """Delete the uploads left unfinished past their expiry, with their staged bytes, and
    staged files that belong to no upload; how many uploads were deleted."""
    now = utcnow()
    forgotten = 0
    while True:
        async with intake.database.transaction() as session:
            repository = UploadRepository(session)
            expired = await repository.expired_uploads(now, _EXPIRED_BATCH)
            deleted = await repository.forget_expired(expired, now)
        for asset_id in deleted:
            await intake.staging.delete(asset_id)
        forgotten += len(deleted)
        if len(expired) < _EXPIRED_BATCH:
            break
    await _forget_stray_files(intake)
    return forgotten


async def _forget_stray_files(intake: Intake) -> None:
    staged = sorted(await intake.staging.upload_ids())
    async with intake.database.session(write=False) as session:
        uploading = await UploadRepository(session).uploading_ids(staged)
    for path in await intake.staging.stray_files(uploading, STRAY_FILE_SECONDS):
        logger.info("deleting stray staged file %s", path.name)
        path.unlink(missing_ok=True)


def _new_asset(
    settings: Settings, target: Target, asset_id: uuid.UUID, length: int, filename: str | None
) -> MediaAsset:
    return MediaAsset(
        id=asset_id,
        owner_id=target.owner_id,
        content_id=target.content_id,
        kind=target.kind,
        status=MediaAssetStatus.UPLOADING,
        storage_key=str(original_key(asset_id)),
        original_filename=filename,
        file_size=length,
        upload_offset=0,
        upload_expires_at=utcnow() + timedelta(hours=settings.upload_expiry_hours),
    )


def _finished(asset: MediaAsset, chunk: Chunk) -> int:
    """A PATCH to an upload that has all its bytes: fine when it adds none at the end."""
    if chunk.offset != asset.file_size:
        raise OffsetMismatch(f"The upload is complete at offset {asset.file_size}.")
    if chunk.length:
        raise ContentTooLarge("The upload already has all its bytes.")
    return asset.file_size


async def _append(
    intake: Intake, upload: Upload, file: StagedFile, chunk: Chunk, body: AsyncIterator[bytes]
) -> int:
    asset = upload.asset
    start = asset.upload_offset
    # Bytes a cut-off request wrote after its last recorded offset are not trusted.
    if await file.size() != start:
        await file.truncate(start)
    if chunk.offset != start:
        raise OffsetMismatch(f"The upload is at offset {start}, not {chunk.offset}.")
    room = asset.file_size - start
    too_large = ContentTooLarge(
        f"The upload takes {room} more bytes (Upload-Length {asset.file_size})."
    )
    if chunk.length is not None and chunk.length > room:
        raise too_large
    try:
        received = await file.append(body, limit=room)
    except BodyTooLarge:
        await file.truncate(start)
        raise too_large from None
    except StagingFull:
        await file.truncate(start)
        raise NoRoomForUpload(
            "There is no room left for this upload's bytes right now; none of this request's "
            f"were kept. Try again later from offset {start}."
        ) from None
    if chunk.checksum is not None and (
        received.interrupted or received.digest.digest() != chunk.checksum
    ):
        await file.truncate(start)
        raise ChecksumMismatch("The bytes do not have the announced checksum; nothing was kept.")
    end = start + received.length
    mime_type = None
    if asset.mime_type is None and end >= min(HEAD_BYTES, asset.file_size):
        mime_type = await _detect_or_forget(intake, upload, file)
    complete = end == asset.file_size
    checksum = await file.sha256() if complete else None
    async with intake.database.transaction() as session:
        moved = await UploadRepository(session).advance(
            asset.id, offset=start, to=end, mime_type=mime_type, checksum=checksum
        )
    if not moved:
        raise Conflict("The upload changed meanwhile; ask HEAD for its offset.")
    if complete:
        await _store(intake, asset.id, file, mime_type or asset.mime_type)
    return end


async def _detect_or_forget(intake: Intake, upload: Upload, file: StagedFile) -> str:
    """The type of the upload's bytes; one that does not fit ends the upload."""
    try:
        return _fitting(upload.target, await file.head(HEAD_BYTES)).mime_type
    except UnsupportedMediaType:
        await _forget(intake, upload.asset.id)
        raise


def _fitting(target: Target, head: bytes) -> Detected:
    """The type of a file with this head, when it is one `target` takes (415 if not)."""
    try:
        detected = detect(head)
    except (UnknownType, AmbiguousType) as exc:
        raise UnsupportedMediaType(f"This file is refused: {exc}.") from exc
    if detected.family is not target.family:
        what = (
            "a thumbnail"
            if target.kind is MediaAssetKind.THUMBNAIL
            else (f"{target.content_type.value} content")
        )
        raise UnsupportedMediaType(
            f"This file is {detected.mime_type}; {what} takes {target.family.value} files."
        )
    return detected


async def _store(
    intake: Intake, asset_id: uuid.UUID, file: StagedFile, mime_type: str | None
) -> None:
    """Move the complete staged file into storage and hand the asset to the worker."""
    try:
        await intake.storage.save(
            original_key(asset_id), file.path, content_type=mime_type or "application/octet-stream"
        )
    except StorageFull as exc:
        logger.warning("no room to store upload %s: %s", asset_id, exc)
        raise NoRoomForUpload(
            "Every byte arrived, but there is no room left to store the file right now. "
            "Try again later (with tus: an empty PATCH at the final offset)."
        ) from exc
    except (StorageError, OSError) as exc:
        logger.warning("could not store upload %s: %s", asset_id, exc)
        raise ServiceUnavailable(
            "Every byte arrived, but the file could not be stored yet. Send an empty PATCH "
            "at the final offset to try again.",
            retry_after=5,
        ) from exc
    async with intake.database.transaction() as session:
        await UploadRepository(session).hand_to_processing(asset_id)


async def _recover(intake: Intake, asset: MediaAsset, chunk: Chunk) -> int:
    """A PATCH to an upload in progress whose staged file is gone: after the last byte,
    the file was stored but the asset not handed on (the process stopped between)."""
    stored = await intake.storage.stat(original_key(asset.id))
    if asset.upload_offset != asset.file_size or stored is None:
        raise NotFound("The bytes of this upload are gone; start a new upload.")
    async with intake.database.transaction() as session:
        await UploadRepository(session).hand_to_processing(asset.id)
    return _finished(asset, chunk)


async def _forget(intake: Intake, asset_id: uuid.UUID) -> None:
    async with intake.database.transaction() as session:
        await UploadRepository(session).forget_upload(asset_id)
    await intake.staging.delete(asset_id)


async def _reread(intake: Intake, asset_id: uuid.UUID) -> MediaAsset:
    async with intake.database.session(write=False) as session:
        asset = await UploadRepository(session).get(asset_id)
    assert asset is not None
    return asset
