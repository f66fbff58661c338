"""Every revision's PostgreSQL SQL, as Alembic renders it offline (`upgrade prev:rev
--sql`), passes `squawk` with the project's `.squawk.toml`.

Revisions released before the linting began break some rules in ways that cannot be
undone without rewriting what they did to databases already migrated; each such
revision's findings are listed below, exactly: a new finding in any revision fails, and
so does a listed one that is gone (the list only shrinks, on purpose). A new revision
gets no entry. See docs/MIGRATIONS.md for the rules and how to meet them.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from dreamlust.migrate import MIGRATIONS_DIR

ROOT = Path(__file__).resolve().parents[2]
SQUAWK = Path(sys.executable).with_name("squawk")
_RENDER_URL = "postgresql+asyncpg://render@127.0.0.1/render"  # never connected to

_CONCURRENT_INDEXES = {"require-concurrent-index-creation", "require-concurrent-index-deletion"}
RELEASED_FINDINGS: dict[str, set[str]] = {
    "0003": _CONCURRENT_INDEXES,
    "0004": {
        *_CONCURRENT_INDEXES,
        "adding-foreign-key-constraint",
        "ban-drop-column",
        "constraint-missing-not-valid",
    },
    "0005": _CONCURRENT_INDEXES,
    "0006": {"require-concurrent-index-creation"},
    "0008": {
        *_CONCURRENT_INDEXES,
        "adding-foreign-key-constraint",
        "adding-not-nullable-field",
        "constraint-missing-not-valid",
    },
    "0010": {"ban-drop-table"},
}


def _config(output: io.StringIO) -> Config:
    config = Config(output_buffer=output)
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", _RENDER_URL)
    return config


def _revisions() -> list[tuple[str, str]]:
    """(previous, revision) of every revision, oldest first."""
    scripts = ScriptDirectory.from_config(_config(io.StringIO()))
    ordered = reversed(list(scripts.walk_revisions("base", "heads")))
    return [(str(script.down_revision or "base"), script.revision) for script in ordered]


def _rendered(previous: str, revision: str) -> str:
    output = io.StringIO()
    command.upgrade(_config(output), f"{previous}:{revision}", sql=True)
    return output.getvalue()


def _findings(sql_file: Path) -> list[dict[str, str]]:
    result = subprocess.run(
        [str(SQUAWK), "--config", str(ROOT / ".squawk.toml"), "--reporter", "json", str(sql_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    findings: list[dict[str, str]] = json.loads(result.stdout or "[]")
    return findings


@pytest.mark.parametrize(("previous", "revision"), _revisions())
def test_the_revision_passes_squawk(previous: str, revision: str, tmp_path: Path) -> None:
    sql = _rendered(previous, revision)
    assert "SET LOCAL lock_timeout" in sql
    sql_file = tmp_path / f"{revision}.sql"
    sql_file.write_text(sql)

    findings = _findings(sql_file)
    described = "\n".join(
        f"{sql_file.name}:{finding['line']}: {finding['rule_name']}: {finding['message']}"
        for finding in findings
    )
    rules = {finding["rule_name"] for finding in findings}
    assert rules == RELEASED_FINDINGS.get(revision, set()), described


def test_every_listed_revision_exists() -> None:
    assert set(RELEASED_FINDINGS) <= {revision for _, revision in _revisions()}
