"""Log set-up for long-running commands: one line per event on stderr, as text or JSON.

Lines carry reason codes, envelope ids and case references, never message content: the
hub's loggers are written that way, and a test greps a whole demo run's logs for the demo's
names and dates of birth.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from enum import StrEnum


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class JsonLines(logging.Formatter):
    """One JSON object per line, for a log shipper: time, level, logger, message."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            # The type only: a traceback's text can quote the data being handled.
            line["error"] = record.exc_info[0].__name__
        return json.dumps(line, ensure_ascii=False)


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a line is logged, not when it was set up: a
    command run in-process (a test's CliRunner) swaps stderr and later closes its copy."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def configure_logging(
    level: LogLevel = LogLevel.INFO, log_format: LogFormat = LogFormat.TEXT
) -> None:
    handler = _CurrentStderr()
    if log_format is LogFormat.JSON:
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S"
            )
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.value.upper())
    # Libraries speak at WARNING unless debugging: their INFO lines are per-connection noise.
    if root.level > logging.DEBUG:
        for noisy in ("nats", "faststream", "asyncio", "alembic", "crossforce.hub.faststream"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
