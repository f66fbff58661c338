"""Log lines: one JSON object per line in production, plain text in development.

Every line carries the id of the request being served (`-` outside requests) and, once
known, the signed-in user. Structured values travel in `extra={"fields": {...}}`: they
become keys of the JSON object; a text line carries them in its message already.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

import orjson

from dreamlust.config import Environment, Settings
from dreamlust.kit.request_context import NO_REQUEST_ID, current_request

LogFormat = Literal["json", "text"]
TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


def log_format(settings: Settings) -> LogFormat:
    if settings.log_format is not None:
        return settings.log_format
    return "json" if settings.env is Environment.PRODUCTION else "text"


class RequestContextFilter(logging.Filter):
    """Puts the request id and user id on every record (a filter of the handler, so it
    also sees the records of loggers that propagate to it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = current_request()
        record.request_id = NO_REQUEST_ID if context is None else context.request_id
        record.user_id = None if context is None else context.user_id
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", NO_REQUEST_ID),
        }
        user_id = getattr(record, "user_id", None)
        if user_id is not None:
            entry["user_id"] = user_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str).decode()


def log_handler(format: LogFormat, stream: TextIO | None = None) -> logging.Handler:
    """A handler writing `format` lines to `stream` (standard error by default)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter() if format == "json" else logging.Formatter(TEXT_FORMAT))
    return handler


def configure_logging(settings: Settings) -> None:
    """Route every log record of the process (uvicorn's included) through one handler."""
    root = logging.getLogger()
    root.handlers[:] = [log_handler(log_format(settings))]
    root.setLevel(settings.log_level.upper())
