"""Suite-wide configuration: the PostgreSQL fixtures, and the `server` marker.

`server` marks every test that needs a running service (NATS, Docker, PostgreSQL or a
browser). CI runs the rest a second time under a shifted clock (`-m "not server"`), to prove
that no test depends on today's date.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["crossforce.adapters.testing.postgres"]

# Fixtures that start, or stand on, a running service.
SERVER_FIXTURES = frozenset(
    {
        "nats_service_session",
        "nats_container",
        "postgres_server",
        "postgres_url",
        "fresh_postgres_url",
        "crossforce_broker",
        "force_client",
    }
)
SERVER_MARKERS = frozenset({"docker", "postgres", "browser", "server"})
# Parametrised fixtures whose named parameter asks for a service at run time.
SERVER_PARAMS = {"db_url": "postgresql"}
# Folders whose every test runs a hub, a NATS server or an HSM-backed hub.
SERVER_FOLDERS = tuple(
    Path(__file__).parent / "integration" / folder
    for folder in ("hub", "nats", "cluster", "containers", "hsm", "ops")
)


def _needs_server(item: pytest.Item) -> bool:
    if any(item.get_closest_marker(name) for name in SERVER_MARKERS):
        return True
    if any(Path(item.path).is_relative_to(folder) for folder in SERVER_FOLDERS):
        return True
    if SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
        return True
    params = getattr(getattr(item, "callspec", None), "params", {})
    return any(params.get(name) == value for name, value in SERVER_PARAMS.items())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _needs_server(item):
            item.add_marker(pytest.mark.server)
