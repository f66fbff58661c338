"""What the cache keeps for one answer: its encoded body and ETag, the generations of
the scopes it was read under, when it stops being fresh, and who would be answered
differently (see `content_answers`)."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from starlette.responses import Response

PremiumRef = tuple[str, str, str, str]  # (content id, creator id, owner's user id, tier)
_SEPARATOR = b"\n"


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer as any viewer of one kind gets it. `owners`: accounts that see some of
    it unblurred or unlocked as its owners; `premium`: the premium items in it, which
    buyers and subscribers see unlocked."""

    body: bytes
    etag: str | None = None
    owners: frozenset[str] = frozenset()
    premium: tuple[PremiumRef, ...] = ()

    def response(self) -> Response:
        headers = {"ETag": self.etag} if self.etag is not None else None
        return Response(self.body, headers=headers, media_type="application/json")


@dataclass(frozen=True, slots=True)
class Entry:
    answer: Answer
    generations: tuple[int, ...]
    fresh_until: float

    def is_current(self, generations: tuple[int, ...]) -> bool:
        """Read under the scopes' current generations: no write has changed it since."""
        return self.generations == generations

    def encode(self) -> bytes:
        """One JSON line of metadata, then the body as it is."""
        meta = {
            "g": self.generations,
            "f": self.fresh_until,
            "e": self.answer.etag,
            "o": sorted(self.answer.owners),
            "p": self.answer.premium,
        }
        return orjson.dumps(meta) + _SEPARATOR + self.answer.body

    @classmethod
    def decode(cls, data: bytes) -> Entry:
        meta_part, _, body = data.partition(_SEPARATOR)
        meta = orjson.loads(meta_part)
        answer = Answer(
            body=body,
            etag=meta["e"],
            owners=frozenset(meta["o"]),
            premium=tuple((a, b, c, d) for a, b, c, d in meta["p"]),
        )
        return cls(answer, tuple(meta["g"]), meta["f"])
