"""Time-ordered UUIDv7 identifiers, generated in Python."""

import uuid

import uuid_utils
import uuid_utils.compat


def new_id() -> uuid.UUID:
    return uuid_utils.compat.uuid7()


def new_id_hex() -> str:
    """A new id as 32 hex digits, made without a `uuid.UUID` (a request's id: making
    one and converting it cost five times as much)."""
    return uuid_utils.uuid7().hex
