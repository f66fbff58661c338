"""Settings: conventional URLs, driver selection, and secrets that must be real."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from dreamlust.config import Environment, Settings


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:///./x.db", "sqlite+aiosqlite:///./x.db"),
    ],
)
def test_database_urls_pick_the_async_driver(
    monkeypatch: pytest.MonkeyPatch, given: str, used: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", given)
    assert Settings().database_url == used


def test_the_default_database_is_an_embedded_sqlite_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = Settings()
    assert settings.database_url == "sqlite+aiosqlite:///./dreamlust.db"
    assert settings.is_sqlite


@pytest.mark.parametrize("secret", [None, "changeme", "short"])
def test_outside_development_a_real_secret_is_required(secret: str | None) -> None:
    with pytest.raises(ValidationError, match="DREAMLUST_SECRET_KEY"):
        Settings(env=Environment.PRODUCTION, secret_key=secret)


def test_development_generates_a_secret_once_and_keeps_it(tmp_path: Path) -> None:
    key_file = tmp_path / "var" / "secret_key"
    first = Settings(env=Environment.DEVELOPMENT, secret_key_file=key_file).signing_key()
    second = Settings(env=Environment.DEVELOPMENT, secret_key_file=key_file).signing_key()
    assert first == second
    assert len(first) >= 48
    assert key_file.stat().st_mode & 0o077 == 0


def test_an_explicit_secret_wins(tmp_path: Path) -> None:
    settings = Settings(
        env=Environment.PRODUCTION,
        secret_key="x" * 40,
        secret_key_file=tmp_path / "unused",
    )
    assert settings.signing_key() == b"x" * 40
    assert not (tmp_path / "unused").exists()
