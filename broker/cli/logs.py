"""Log set-up for long-running commands: one line per event on stderr.

Lines carry reason codes, envelope ids and case references, never message content: the
hub's loggers are written that way (tests grep a whole run's output for personal data).
"""

from __future__ import annotations

import logging
import sys
from enum import StrEnum


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


def configure_logging(level: LogLevel = LogLevel.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.value.upper())
    # Libraries speak at WARNING unless debugging: their INFO lines are per-connection noise.
    if root.level > logging.DEBUG:
        for noisy in ("nats", "faststream", "asyncio", "crossforce.hub.faststream"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
