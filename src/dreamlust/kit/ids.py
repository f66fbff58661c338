"""Time-ordered UUIDv7 identifiers, generated in Python."""

import uuid

import uuid_utils.compat


def new_id() -> uuid.UUID:
    return uuid_utils.compat.uuid7()
