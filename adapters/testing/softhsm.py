"""SoftHSM2 (Debian's `softhsm2`) as a real PKCS#11 module for tests of HSM-held keys.

A module is initialised once per process and finds its tokens then, so one token directory
serves a whole test session, with a pool of tokens made before the module is first loaded;
each test takes a token of its own from the pool. Without
the package the tests skip, or fail under CROSSFORCE_REQUIRE_SERVICES=1 (as CI runs them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REQUIRE_SERVICES_ENV = "CROSSFORCE_REQUIRE_SERVICES"
MODULE_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
)
USER_PIN = "2468"
SO_PIN = "13579"


POOL_SIZE = 16


@dataclass(frozen=True)
class SoftHsm:
    module: str
    root: Path
    pool: list[str] = field(default_factory=list)

    def new_token(self) -> str:
        """An initialised token no other test has used; returns its label."""
        if not self.pool:
            raise RuntimeError(f"all {POOL_SIZE} SoftHSM test tokens are used: raise POOL_SIZE")
        return self.pool.pop()

    def _init_token(self) -> str:
        label = f"cf-{uuid.uuid4().hex[:12]}"
        subprocess.run(
            [
                "softhsm2-util",
                "--init-token",
                "--free",
                "--label",
                label,
                "--pin",
                USER_PIN,
                "--so-pin",
                SO_PIN,
            ],
            check=True,
            capture_output=True,
            env={**os.environ, "SOFTHSM2_CONF": str(self.root / "softhsm2.conf")},
        )
        return label


def start_softhsm() -> SoftHsm:
    module = next((path for path in MODULE_CANDIDATES if Path(path).exists()), None)
    if module is None or shutil.which("softhsm2-util") is None:
        reason = "SoftHSM2 is not installed (apt-get install -y softhsm2)"
        if os.environ.get(REQUIRE_SERVICES_ENV) == "1":
            pytest.fail(f"SoftHSM2 required ({REQUIRE_SERVICES_ENV}=1): {reason}")
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="crossforce-softhsm-"))
    (root / "tokens").mkdir()
    (root / "softhsm2.conf").write_text(
        f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    # The module reads this when first loaded, which happens after this in the process.
    os.environ["SOFTHSM2_CONF"] = str(root / "softhsm2.conf")
    hsm = SoftHsm(module, root)
    hsm.pool.extend(hsm._init_token() for _ in range(POOL_SIZE))
    return hsm
