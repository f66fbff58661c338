"""A real SMTP server on loopback that keeps what it receives.

aiosmtpd's Controller runs the server on its own event loop in a thread, so the
mailer under test talks to it over a real TCP connection.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from dreamlust.config import Settings
from tests.conftest import make_settings

LOOPBACK = "127.0.0.1"


def mail_settings(**overrides: object) -> Settings:
    """Settings for tests that send mail and never open the database."""
    return make_settings("sqlite+aiosqlite:///unused.db", **overrides)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class SmtpServer:
    host: str
    port: int
    received: list[Envelope] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    refused_recipients: set[str] = field(default_factory=set)

    async def handle_RCPT(
        self, _server: SMTP, _session: Session, envelope: Envelope, address: str, _options: object
    ) -> str:
        if address in self.refused_recipients:
            return f"550 no mailbox for {address}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        self.received.append(envelope)
        return "250 Message accepted for delivery"

    def authenticate(
        self,
        _server: SMTP,
        _session: Session,
        _envelope: Envelope,
        mechanism: str,
        auth_data: object,
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword), mechanism
        self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=True)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(LOOPBACK, free_port())
    # AUTH over plain text is only acceptable because the server is on loopback.
    controller = Controller(
        server,
        hostname=server.host,
        port=server.port,
        authenticator=server.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    yield server
    controller.stop()


@pytest.fixture
def mail_dir(tmp_path: Path) -> Path:
    return tmp_path / "mail"
