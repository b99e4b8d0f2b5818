"""One SoftHSM2 token directory for the session (the module reads its configuration once)."""

from __future__ import annotations

import pytest

from crossforce.adapters.testing.softhsm import SoftHsm, start_softhsm


@pytest.fixture(scope="session")
def softhsm() -> SoftHsm:
    return start_softhsm()
