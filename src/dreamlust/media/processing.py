"""Processing uploaded media in the worker, never in a request.

An asset waits as PROCESSING once its original is in storage. A worker claims the oldest
one in a short transaction by taking a lease on it (`lease_until`, one more attempt),
works outside any transaction (fetches the original into a temporary folder, runs Pillow
or ffprobe/ffmpeg, uploads the derived files) while renewing the lease, and commits the
outcome in a second short transaction, only if its lease is still the asset's. A worker
that dies leaves a lease that runs out; another worker then takes the asset over, and
after `media_max_attempts` claims it is FAILED. A file that is not what it claims to be
is FAILED at once, with a reason the creator reads, and nothing of it stays in storage.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import shutil
import tempfile
import uuid
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, literal

from dreamlust.config import API_PREFIX, Settings
from dreamlust.db import Database
from dreamlust.kit.clock import utcnow
from dreamlust.kit.ids import new_id
from dreamlust.media import images, video
from dreamlust.media.files import delete_files_of
from dreamlust.media.images import ImageRejected, Picture
from dreamlust.media.probe import Probe, ProbeError, probe
from dreamlust.media.processing_repository import ProcessingRepository
from dreamlust.media.storage import (
    ObjectNotFound,
    Storage,
    derived_key,
    original_key,
)
from dreamlust.media.tools import ToolFailed, ToolTimedOut
from dreamlust.models import Content, MediaAsset
from dreamlust.models.enums import (
    ContentType,
    MediaAssetKind,
    MediaAssetStatus,
    VRProjection,
    VRStereoFormat,
)

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

KEPT_FAILING = "Processing kept failing."
THUMBNAIL_WIDTHS = (320, 1280)
_FAILURE_LENGTH = 500
# After an error that is not the file's fault (storage down, a tool missing), the asset
# is tried again after this many seconds per attempt made.
_RETRY_SECONDS = 30
_UPLOADS_AT_ONCE = 8
_HLS_TYPES = {".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t"}
# What a content item of each type may hold as its media.
_FAMILIES = {
    ContentType.PHOTO: frozenset({"image"}),
    ContentType.VIDEO: frozenset({"video"}),
    ContentType.VR: frozenset({"video", "image"}),
    ContentType.AUDIO: frozenset({"audio"}),
    ContentType.LIVE_STREAM: frozenset({"video"}),
}
# The container ffprobe must find in a file of each detected type (one of the names in
# its `format_name`); other types are not checked.
_CONTAINERS = {
    "video/mp4": "mov",
    "video/quicktime": "mov",
    "audio/mp4": "mov",
    "video/webm": "webm",
    "audio/webm": "webm",
    "video/x-matroska": "matroska",
    "video/ogg": "ogg",
    "audio/ogg": "ogg",
    "audio/mpeg": "mp3",
    "audio/flac": "flac",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/aac": "aac",
    "video/x-msvideo": "avi",
    "video/mp2t": "mpegts",
}


class MediaRejected(Exception):
    """The file cannot become READY; the message tells the creator why."""


class LeaseLost(Exception):
    """Another worker holds the asset now: this one's work is dropped."""


@dataclass(frozen=True, slots=True)
class Claim:
    asset_id: uuid.UUID
    owner_id: uuid.UUID
    kind: MediaAssetKind
    content_id: uuid.UUID | None
    content_type: ContentType | None
    mime_type: str
    lease_until: datetime
    attempts: int


@dataclass(frozen=True, slots=True)
class DerivedFile:
    name: str
    kind: MediaAssetKind
    picture: Picture
    size: int
    id: uuid.UUID = field(default_factory=new_id)


@dataclass(frozen=True, slots=True)
class Outcome:
    mime_type: str
    file_size: int
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    # Set when the original was replaced by a cleaned file.
    checksum_sha256: str | None = None
    placeholder: str | None = None
    derived: tuple[DerivedFile, ...] = ()
    renditions: tuple[video.Rendition, ...] = ()
    projection: VRProjection | None = None
    stereo: VRStereoFormat | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def large_thumbnail(self) -> DerivedFile | None:
        name = f"thumb-{max(THUMBNAIL_WIDTHS)}.webp"
        return next((d for d in self.derived if d.name == name), None)


async def process_media(storage: Storage, database: Database, settings: Settings) -> bool:
    """Claims the oldest waiting asset and processes it; False when none waits."""
    claim = await claim_next(storage, database, settings, utcnow())
    if claim is None:
        return False
    lease = _Lease(database, claim, settings.media_processing_lease_seconds)
    folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="dreamlust-media-"))
    try:
        outcome = await lease.hold_while(_process(storage, settings, claim, folder))
    except MediaRejected as exc:
        await _finish_failed(storage, database, claim, lease.held, str(exc))
    except LeaseLost:
        logger.warning("lost the lease on media asset %s; another worker has it", claim.asset_id)
    except Exception:  # not the file's fault: tried again later, counted as an attempt
        logger.exception("processing media asset %s failed; it will be tried again", claim.asset_id)
        await _retry_later(database, claim, lease.held)
    else:
        await _finish_ready(database, claim, lease.held, outcome)
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)
    return True


async def claim_next(
    storage: Storage, database: Database, settings: Settings, now: datetime
) -> Claim | None:
    """A lease on the oldest PROCESSING asset nobody holds, or None. An asset claimed
    `media_max_attempts` times already is FAILED instead, and the next one is tried."""
    while True:
        async with database.transaction() as session:
            repository = ProcessingRepository(session)
            asset = await repository.next_claimable(now)
            if asset is None:
                return None
            exhausted = asset.processing_attempts >= settings.media_max_attempts
            if exhausted:
                await repository.fail(asset.id, KEPT_FAILING)
            else:
                claim = await _lease(repository, asset, settings, now)
        if not exhausted:
            return claim
        logger.warning(
            "media asset %s failed %d times; giving up", asset.id, asset.processing_attempts
        )
        await delete_files_of(storage, [asset.id])


async def _lease(
    repository: ProcessingRepository, asset: MediaAsset, settings: Settings, now: datetime
) -> Claim:
    asset.lease_until = now + timedelta(seconds=settings.media_processing_lease_seconds)
    asset.processing_attempts += 1
    content_type = (
        await repository.content_type(asset.content_id) if asset.content_id is not None else None
    )
    return Claim(
        asset_id=asset.id,
        owner_id=asset.owner_id,
        kind=asset.kind,
        content_id=asset.content_id,
        content_type=content_type,
        mime_type=asset.mime_type or "application/octet-stream",
        lease_until=asset.lease_until,
        attempts=asset.processing_attempts,
    )


class _Lease:
    """Keeps a claim's lease alive while its work runs, renewing it every third of its
    length; when a renewal finds the lease gone, the work is cancelled."""

    def __init__(self, database: Database, claim: Claim, seconds: float) -> None:
        self.database = database
        self.asset_id = claim.asset_id
        self.held = claim.lease_until
        self.seconds = seconds

    async def hold_while(self, work: Awaitable[_T]) -> _T:
        task = asyncio.ensure_future(work)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=self.seconds / 3)
                if done:
                    return task.result()
                if not await self._renew():
                    raise LeaseLost
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    async def _renew(self) -> bool:
        until = utcnow() + timedelta(seconds=self.seconds)
        async with self.database.transaction() as session:
            renewed = await ProcessingRepository(session).renew_lease(
                self.asset_id, self.held, until
            )
        if renewed:
            self.held = until
        return renewed


async def _process(storage: Storage, settings: Settings, claim: Claim, folder: Path) -> Outcome:
    original = folder / "original"
    try:
        await storage.fetch(original_key(claim.asset_id), original)
    except ObjectNotFound:
        raise MediaRejected("The uploaded file is missing; upload it again.") from None
    if _file_size(original) == 0:
        raise MediaRejected("The file is empty.")
    family = claim.mime_type.partition("/")[0]
    _check_fits(claim, family)
    if family == "image":
        return await _process_image(storage, settings, claim, original, folder)
    if family in {"video", "audio"}:
        return await _process_playable(storage, settings, claim, original, folder)
    raise MediaRejected(f"Files of type {claim.mime_type} are not supported.")


def _check_fits(claim: Claim, family: str) -> None:
    if claim.kind is MediaAssetKind.THUMBNAIL and family != "image":
        raise MediaRejected("A thumbnail must be an image.")
    if claim.kind is MediaAssetKind.MEDIA and claim.content_type is not None:
        allowed = _FAMILIES[claim.content_type]
        if family not in allowed:
            raise MediaRejected(
                f"{claim.content_type.value} content takes {' or '.join(sorted(allowed))} files, "
                f"not {claim.mime_type}."
            )


async def _process_image(
    storage: Storage, settings: Settings, claim: Claim, original: Path, folder: Path
) -> Outcome:
    cleaned_path = folder / "cleaned"
    try:
        cleaned = await asyncio.to_thread(
            images.clean,
            original,
            claim.mime_type,
            cleaned_path,
            max_pixels=settings.media_max_image_pixels,
        )
    except ImageRejected as exc:
        raise MediaRejected(str(exc)) from None
    checksum = await asyncio.to_thread(_sha256, cleaned_path)
    size = _file_size(cleaned_path)
    thumbnails = await _thumbnails(storage, claim.asset_id, cleaned_path, folder)
    placeholder = await asyncio.to_thread(images.placeholder, cleaned_path)
    # Last: the cleaned file is moved into the original's place.
    await storage.save(original_key(claim.asset_id), cleaned_path, content_type=cleaned.mime_type)
    return Outcome(
        mime_type=cleaned.mime_type,
        file_size=size,
        width=cleaned.width,
        height=cleaned.height,
        checksum_sha256=checksum,
        placeholder=placeholder,
        derived=tuple(thumbnails),
    )


async def _process_playable(
    storage: Storage, settings: Settings, claim: Claim, original: Path, folder: Path
) -> Outcome:
    family = claim.mime_type.partition("/")[0]
    unreadable = f"The file cannot be read as {family}: it is damaged, incomplete or not {family}."
    with _rejecting(unreadable):
        probed = await probe(
            settings.ffprobe_path, original, time_limit=settings.media_tool_timeout_seconds
        )
    _check_probe(claim.mime_type, family, probed)
    outcome = Outcome(
        mime_type=claim.mime_type,
        file_size=_file_size(original),
        duration=probed.duration,
        projection=probed.projection,
        stereo=probed.stereo,
        details=_details(probed),
    )
    if probed.video is None or family == "audio":
        return outcome
    return await _process_video(storage, settings, claim, original, folder, probed, outcome)


async def _process_video(
    storage: Storage,
    settings: Settings,
    claim: Claim,
    original: Path,
    folder: Path,
    probed: Probe,
    outcome: Outcome,
) -> Outcome:
    assert probed.video is not None
    plan = video.plan_renditions(probed.video.width, probed.video.height)
    if not plan:
        raise MediaRejected(f"The video is too small: at least {video.MIN_HEIGHT} pixels high.")
    poster_path = folder / "poster.jpg"
    with _rejecting("No picture can be read from the video: it is damaged or incomplete."):
        await video.extract_poster(
            settings.ffmpeg_path,
            original,
            poster_path,
            video.poster_time(probed.duration),
            time_limit=settings.media_tool_timeout_seconds,
        )
    if not poster_path.exists():
        raise MediaRejected("No picture can be read from the video: it is damaged or incomplete.")
    poster = await asyncio.to_thread(images.measure, poster_path)
    thumbnails = await _thumbnails(storage, claim.asset_id, poster_path, folder)
    placeholder = await asyncio.to_thread(images.placeholder, poster_path)
    poster_file = DerivedFile("poster.jpg", MediaAssetKind.POSTER, poster, _file_size(poster_path))
    await storage.save(
        derived_key(claim.asset_id, poster_file.name), poster_path, content_type=poster.mime_type
    )
    hls = folder / "hls"
    with _rejecting("The video cannot be converted for streaming: it is damaged or incomplete."):
        renditions = await video.transcode_hls(
            settings.ffmpeg_path,
            original,
            hls,
            plan,
            time_limit=settings.media_transcode_timeout_seconds,
        )
    await _upload_hls(storage, claim.asset_id, hls, renditions)
    return Outcome(
        mime_type=outcome.mime_type,
        file_size=outcome.file_size,
        width=probed.video.width,
        height=probed.video.height,
        duration=outcome.duration,
        placeholder=placeholder,
        derived=(poster_file, *thumbnails),
        renditions=tuple(renditions),
        projection=outcome.projection,
        stereo=outcome.stereo,
        details=outcome.details,
    )


def _check_probe(mime_type: str, family: str, probed: Probe) -> None:
    """Refuses a file whose contents are not what its detected type says."""
    if family == "video" and probed.video is None:
        if probed.only_stills:
            raise MediaRejected("The file is a still image, not a video.")
        raise MediaRejected("The file has no video in it.")
    if family == "audio" and probed.audio is None:
        raise MediaRejected("The file has no audio in it.")
    container = _CONTAINERS.get(mime_type)
    if container is not None and container not in probed.formats:
        found = ", ".join(sorted(probed.formats)) or "unknown"
        raise MediaRejected(f"The file's contents ({found}) do not match its type ({mime_type}).")
    if probed.duration is None:
        raise MediaRejected("The file's duration cannot be read: it is damaged or incomplete.")


@contextmanager
def _rejecting(reason: str) -> Iterator[None]:
    """A tool that fails on the file rejects it with `reason`; one that runs too long
    rejects it too."""
    try:
        yield
    except ToolTimedOut as exc:
        raise MediaRejected(f"Processing the file took too long ({exc}).") from exc
    except (ToolFailed, ProbeError) as exc:
        logger.info("media tool refused a file: %s: %s", exc, getattr(exc, "stderr", ""))
        raise MediaRejected(reason) from exc


def _details(probed: Probe) -> dict[str, Any]:
    details: dict[str, Any] = {"container": sorted(probed.formats)}
    if probed.video is not None:
        details["video_codec"] = probed.video.codec
        details["rotation"] = probed.video.rotation
    if probed.audio is not None:
        details["audio_codec"] = probed.audio.codec
        details["audio_channels"] = probed.audio.channels
    return details


async def _thumbnails(
    storage: Storage, asset_id: uuid.UUID, source: Path, folder: Path
) -> list[DerivedFile]:
    made = []
    for width in THUMBNAIL_WIDTHS:
        name = f"thumb-{width}.webp"
        path = folder / name
        picture = await asyncio.to_thread(images.thumbnail, source, path, width)
        size = _file_size(path)
        await storage.save(derived_key(asset_id, name), path, content_type=picture.mime_type)
        made.append(DerivedFile(name, MediaAssetKind.THUMBNAIL, picture, size))
    return made


async def _upload_hls(
    storage: Storage, asset_id: uuid.UUID, folder: Path, renditions: list[video.Rendition]
) -> None:
    """Every rendition's files, then the master playlist that points at them."""
    files = [
        path
        for rendition in renditions
        for path in sorted((folder / rendition.folder).iterdir())
        if path.suffix in _HLS_TYPES
    ]
    slots = asyncio.Semaphore(_UPLOADS_AT_ONCE)

    async def upload(path: Path) -> None:
        name = path.relative_to(folder.parent).as_posix()
        async with slots:
            await storage.save(
                derived_key(asset_id, name), path, content_type=_HLS_TYPES[path.suffix]
            )

    await asyncio.gather(*(upload(path) for path in files))
    await upload(folder / "master.m3u8")


async def _finish_ready(database: Database, claim: Claim, held: datetime, outcome: Outcome) -> None:
    async with database.transaction() as session:
        repository = ProcessingRepository(session)
        values: dict[str, Any] = {
            "status": MediaAssetStatus.READY,
            "failure": None,
            "mime_type": outcome.mime_type,
            "file_size": outcome.file_size,
            "width": outcome.width,
            "height": outcome.height,
            "duration": math.ceil(outcome.duration) if outcome.duration else None,
            "details": _asset_details(outcome),
        }
        if outcome.checksum_sha256 is not None:
            values["checksum_sha256"] = outcome.checksum_sha256
        if not await repository.finish(claim.asset_id, held, **values):
            logger.warning("media asset %s was taken over before its result", claim.asset_id)
            return
        await repository.replace_derived(claim.asset_id, _derived_rows(claim, outcome))
        if claim.content_id is not None:
            content_values = await _content_values(repository, claim, outcome)
            if content_values:
                await repository.update_content(claim.content_id, content_values)
    logger.info("media asset %s is ready", claim.asset_id)


async def _finish_failed(
    storage: Storage, database: Database, claim: Claim, held: datetime, reason: str
) -> None:
    async with database.transaction() as session:
        failed = await ProcessingRepository(session).finish(
            claim.asset_id,
            held,
            status=MediaAssetStatus.FAILED,
            failure=reason[:_FAILURE_LENGTH],
        )
    if failed:
        logger.info("media asset %s failed: %s", claim.asset_id, reason)
        await delete_files_of(storage, [claim.asset_id])


async def _retry_later(database: Database, claim: Claim, held: datetime) -> None:
    retry_at = utcnow() + timedelta(seconds=_RETRY_SECONDS * claim.attempts)
    async with database.transaction() as session:
        await ProcessingRepository(session).renew_lease(claim.asset_id, held, retry_at)


def _derived_rows(claim: Claim, outcome: Outcome) -> list[MediaAsset]:
    return [
        MediaAsset(
            id=derived.id,
            owner_id=claim.owner_id,
            content_id=claim.content_id,
            source_id=claim.asset_id,
            kind=derived.kind,
            status=MediaAssetStatus.READY,
            storage_key=str(derived_key(claim.asset_id, derived.name)),
            mime_type=derived.picture.mime_type,
            file_size=derived.size,
            width=derived.picture.width,
            height=derived.picture.height,
        )
        for derived in outcome.derived
    ]


async def _content_values(
    repository: ProcessingRepository, claim: Claim, outcome: Outcome
) -> dict[str, Any]:
    """The content fields measured from the asset; a custom thumbnail wins over one
    taken from the media, and VR fields the creator set are kept."""
    assert claim.content_id is not None
    large = outcome.large_thumbnail
    picture: dict[str, Any] = {}
    if large is not None:
        picture = {
            "thumbnail_url": f"{API_PREFIX}/media/{large.id}",
            "blur_placeholder": outcome.placeholder,
        }
    if claim.kind is MediaAssetKind.THUMBNAIL:
        return picture
    if picture and await repository.has_custom_thumbnail(claim.content_id):
        picture = {}
    values: dict[str, Any] = {
        **picture,
        "media_url": f"{API_PREFIX}/media/{claim.asset_id}",
        "media_type": outcome.mime_type,
        "file_size": outcome.file_size,
        "duration": math.ceil(outcome.duration) if outcome.duration else None,
        "width": outcome.width,
        "height": outcome.height,
    }
    if outcome.renditions:
        values["streaming_info"] = {
            "hls": f"{API_PREFIX}/content/{claim.content_id}/hls/master.m3u8",
            "renditions": _rendition_list(outcome),
        }
    if claim.content_type is ContentType.VR:
        values |= _vr_values(outcome)
    return values


def _vr_values(outcome: Outcome) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if outcome.projection is not None:
        column = Content.__table__.c.vr_projection
        values["vr_projection"] = func.coalesce(column, literal(outcome.projection, column.type))
    if outcome.stereo is not None:
        column = Content.__table__.c.vr_stereo_format
        values["vr_stereo_format"] = func.coalesce(column, literal(outcome.stereo, column.type))
    return values


def _asset_details(outcome: Outcome) -> dict[str, Any] | None:
    details = dict(outcome.details)
    if outcome.renditions:
        details["renditions"] = _rendition_list(outcome)
    return details or None


def _rendition_list(outcome: Outcome) -> list[dict[str, int]]:
    return [
        {
            "height": rendition.height,
            "width": rendition.width,
            "bandwidth": rendition.bandwidth,
            "average_bandwidth": rendition.average_bandwidth,
        }
        for rendition in outcome.renditions
    ]


def _file_size(path: Path) -> int:
    return path.stat().st_size


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()
