"""Slugs and tag names in their one canonical form."""

from __future__ import annotations

import re
import unicodedata

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_SPACES = re.compile(r"\s+")
_TAG_ALLOWED = re.compile(r"^[\w-]+$")
TAG_MAX_LENGTH = 50
SLUG_MAX_LENGTH = 100


def slugify(text: str, max_length: int = SLUG_MAX_LENGTH) -> str:
    """ASCII, lowercase, words joined by single hyphens: "Café Nights!" → "cafe-nights".

    Cut to `max_length`: transliteration can make a slug longer than its text ("™" → "tm").
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-")


def normalize_tag(name: str) -> str:
    """One canonical spelling per tag: case-folded, trimmed, spaces turned into hyphens
    ("Night  Sky" → "night-sky"). It is URL-safe as it is, so it doubles as the slug."""
    folded = unicodedata.normalize("NFKC", name).strip().casefold()
    normalized = _SPACES.sub("-", folded)
    if not normalized or len(normalized) > TAG_MAX_LENGTH or not _TAG_ALLOWED.match(normalized):
        raise ValueError(f"a tag has 1 to {TAG_MAX_LENGTH} letters, digits, '-' or '_'")
    return normalized
