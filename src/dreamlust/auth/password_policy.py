"""What a password must be: 8 to 128 characters, not built on the account's own names,
and not guessable (zxcvbn's estimate, whose dictionaries hold the common passwords).
"""

from __future__ import annotations

from zxcvbn import zxcvbn

from dreamlust.errors import InvalidInput

MIN_LENGTH = 8
MAX_LENGTH = 128
MIN_SCORE = 2  # zxcvbn: 0 too guessable … 4 very unguessable
_MIN_NAME_PART = 3


class WeakPassword(InvalidInput):
    slug = "weak-password"


def check_password(password: str, *, username: str, email: str, field: str = "password") -> None:
    """Raise WeakPassword (422, naming the body `field`) with a reason the user can act on."""
    loc = ("body", field)
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise WeakPassword(
            f"The password must have {MIN_LENGTH} to {MAX_LENGTH} characters.", loc=loc
        )
    lowered = password.lower()
    for part in _personal_parts(username, email):
        if part in lowered:
            raise WeakPassword(
                "The password must not contain your username or e-mail address.", loc=loc
            )
    estimate = zxcvbn(password, user_inputs=[username, email], max_length=MAX_LENGTH)
    if estimate["score"] < MIN_SCORE:
        warning = estimate["feedback"].get("warning") or "It is too easy to guess."
        raise WeakPassword(f"The password is too weak: {warning}", loc=loc)


def _personal_parts(username: str, email: str) -> set[str]:
    local_part = email.split("@", 1)[0]
    candidates = {username.lower(), local_part.lower(), email.lower()}
    return {part for part in candidates if len(part) >= _MIN_NAME_PART}
