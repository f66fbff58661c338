"""The Content-Disposition of a served file (RFC 6266), whatever its name holds."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

_NOT_PLAIN = re.compile(r"[^A-Za-z0-9._ -]+")


def content_disposition(filename: str, *, download: bool = False) -> str:
    """`inline` (or `attachment`) with a plain ASCII `filename` for old clients and the
    exact name, percent-encoded, in `filename*`."""
    kind = "attachment" if download else "inline"
    # "Café" falls back to "Cafe", "東京.mp3" to "_.mp3".
    decomposed = unicodedata.normalize("NFKD", filename)
    unaccented = "".join(char for char in decomposed if not unicodedata.combining(char))
    plain = _NOT_PLAIN.sub("_", unaccented).strip(" .") or "media"
    return f"{kind}; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"
