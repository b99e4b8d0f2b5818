"""The reliability suite: faults on real processes, fuzzing, poison, forgery and replay.

Every scenario ends with the conservation check (conservation.py). The modules share the
checker and the process harness (harness.py) by name.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

# Figures the tests report at the end of the run (e.g. how many fuzz inputs were tried).
FIGURES: Counter[str] = Counter()
NOTES: dict[str, str] = {}


@pytest.fixture(scope="session")
def figures() -> Counter[str]:
    return FIGURES


@pytest.fixture(scope="session")
def notes() -> dict[str, str]:
    return NOTES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES and not NOTES:
        return
    terminalreporter.section("reliability figures")
    for name, value in sorted(FIGURES.items()):
        terminalreporter.write_line(f"{name}: {value}")
    for name, value in sorted(NOTES.items()):
        terminalreporter.write_line(f"{name}: {value}")
