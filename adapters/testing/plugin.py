"""The Crossforce pytest plugin, registered through the `pytest11` entry point.

Force integration teams get these fixtures by installing `crossforce[test]`:

- `crossforce_broker`: a running hub (SQLite) on a NATS server in a Docker container, or on
  a local nats-server process when no Docker engine answers (a line in the terminal says so).
  The server enforces production's per-force users and permissions; the hub and each
  `force_client` connect as their own nkey user;
- `crossforce_pki`: fresh keys for the hub and the test's forces, chosen with
  `@pytest.mark.crossforce_forces("KENT", "ESSEX")` (default: `DEFAULT_FORCES`);
- `force_client`: `await force_client("KENT")` gives a connected `ForceClient`, closed after
  the test;
- `nats_service_session`, `nats_container`: the NATS server fixtures on their own.

The fixtures are async: use pytest-asyncio with `asyncio_mode = "auto"`, or mark the tests
`@pytest.mark.asyncio`. Nothing here is autouse and the heavy imports happen only inside
fixtures, so sessions that use none of them are not slowed down.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from crossforce.adapters.client.force_client import ForceClient
    from crossforce.adapters.testing.broker import ForceClientFactory
    from crossforce.adapters.testing.containers import NatsContainer, NatsService
    from crossforce.broker.runtime import RunningBroker
    from crossforce.contracts.pki import EphemeralPki

try:  # the fixtures work in pytest-asyncio's strict mode too
    from pytest_asyncio import fixture as async_fixture
except ImportError:  # pragma: no cover - pytest-asyncio is part of crossforce[test]
    async_fixture = pytest.fixture  # type: ignore[assignment]

FORCES_MARKER = "crossforce_forces"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{FORCES_MARKER}(*forces): the force codes the Crossforce fixtures give keys to "
        "(the hub is always added)",
    )


# -- NATS -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def nats_service_session(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[NatsService]:
    """One NATS server for the session: a container when Docker answers, else embedded.

    It runs the configuration `crossforce deploy nats-config` writes, for every force in the
    directory: the hub and each force connect as their own nkey user with production's
    permissions, so a test cannot read another force's queue any more than production can."""
    from crossforce.adapters.nats.bundle import write_bundle
    from crossforce.adapters.testing.containers import (
        DockerUnavailable,
        chosen_backend,
        nats_service,
    )
    from crossforce.contracts.forces import FORCES

    workdir = tmp_path_factory.mktemp("nats-service")
    # Users and permissions only (no TLS, no paths): the same file serves a container.
    bundle = write_bundle(workdir / "bundle", sorted(FORCES), store_dir=None)
    with ExitStack() as stack:
        try:
            service = stack.enter_context(
                nats_service(
                    workdir,
                    config_file=bundle.configs[0],
                    credentials=bundle.credentials,
                )
            )
        except DockerUnavailable as exc:
            missing = str(exc)
        else:
            missing = ""
        if missing:  # one line, not the docker library's tracebacks
            pytest.fail(f"crossforce: {missing}", pytrace=False)
        if service.backend == "embedded" and chosen_backend() == "auto":
            reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(
                    "crossforce: no Docker engine, NATS tests use the embedded nats-server",
                    yellow=True,
                )
        yield service


@pytest.fixture
def nats_container() -> Iterator[NatsContainer]:
    """A fresh NATS container; skips (or fails under CROSSFORCE_REQUIRE_SERVICES=1) without
    an engine."""
    from crossforce.adapters.testing.containers import NatsContainer, require_docker

    require_docker()
    container = NatsContainer().start()
    try:
        yield container
    finally:
        container.stop()


# -- keys, hub and clients --------------------------------------------------------------


@pytest.fixture
def crossforce_forces(request: pytest.FixtureRequest) -> tuple[str, ...]:
    """The forces of this test: from the `crossforce_forces` marker, or the default set."""
    from crossforce.adapters.testing.broker import DEFAULT_FORCES

    marker = request.node.get_closest_marker(FORCES_MARKER)
    if marker is None or not marker.args:
        return DEFAULT_FORCES
    return tuple(str(force).upper() for force in marker.args)


@pytest.fixture
def crossforce_pki(crossforce_forces: tuple[str, ...]) -> EphemeralPki:
    """Fresh keys for the hub and every chosen force, and a trust store signed for them."""
    from crossforce.adapters.testing.broker import make_pki

    return make_pki(crossforce_forces)


@async_fixture
async def crossforce_broker(
    nats_service_session: NatsService, crossforce_pki: EphemeralPki, tmp_path: Path
) -> AsyncIterator[RunningBroker]:
    """A running hub on the session's NATS server, with streams for the chosen forces."""
    from crossforce.adapters.testing.broker import running_hub
    from crossforce.contracts.envelope import HUB_FORCE_CODE

    async with running_hub(
        nats_service_session.url,
        crossforce_pki,
        tmp_path / "crossforce",
        credentials=nats_service_session.credentials.get(HUB_FORCE_CODE),
    ) as running:
        yield running


@async_fixture
async def force_client(
    crossforce_broker: RunningBroker,
    crossforce_pki: EphemeralPki,
    nats_service_session: NatsService,
) -> AsyncIterator[Any]:
    """`await force_client("KENT")`: a connected ForceClient for a chosen force, as that
    force's own NATS user."""
    from crossforce.adapters.client.force_client import ForceClient

    trust = crossforce_pki.trust_store()
    connected: list[ForceClient] = []

    async def connect(force: str) -> ForceClient:
        code = force.upper()
        if code not in crossforce_pki.keys:
            known = ", ".join(sorted(crossforce_pki.keys))
            raise LookupError(
                f"no key for {code}; add it with @pytest.mark.{FORCES_MARKER}(...) "
                f"(this test has {known})"
            )
        client = ForceClient(
            force=code,
            key=crossforce_pki.key(code),
            trust=trust,
            nats_url=crossforce_broker.nats_url,
            credentials=nats_service_session.credentials.get(code),
        )
        await client.connect()
        connected.append(client)
        return client

    factory: ForceClientFactory = connect
    try:
        yield factory
    finally:
        for client in reversed(connected):
            await client.close()
