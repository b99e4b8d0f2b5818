"""A force's own test project, with its own `adapters` package, runs the Crossforce plugin.

The project lives outside the repository and runs pytest in a process of its own, as an
integration team would: the plugin loads through its `pytest11` entry point
(`crossforce.adapters.testing.plugin`), a case goes through a real hub, and `import adapters`
still finds the project's package, not Crossforce's (issue 16, one namespace).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]

PROJECT_FILES = {
    "pyproject.toml": """\
        [tool.pytest.ini_options]
        asyncio_mode = "auto"
        asyncio_default_fixture_loop_scope = "function"
        """,
    "adapters/__init__.py": '"""The force\'s own adapters: its records system, its gateway."""\n',
    "adapters/gateway.py": """\
        OWNER = "the force's own adapters package"


        def case_reference() -> str:
            return "CF-2026-000123"
        """,
    "tests/test_gateway.py": """\
        from pathlib import Path

        import adapters
        import pytest
        from adapters.gateway import OWNER, case_reference

        import crossforce.adapters
        from crossforce.broker.scenario import case_steps
        from crossforce.testing import expect_delivery, expect_receipt

        PROJECT = Path(__file__).resolve().parents[1]

        pytestmark = pytest.mark.crossforce_forces("KENT", "ESSEX")


        def test_the_projects_own_adapters_package_is_the_one_imported() -> None:
            assert Path(adapters.__file__).resolve() == PROJECT / "adapters" / "__init__.py"
            assert OWNER == "the force's own adapters package"
            assert crossforce.adapters is not adapters


        async def test_the_plugin_runs_a_case_through_a_real_hub(force_client) -> None:
            kent = await force_client("KENT")
            essex = await force_client("ESSEX")
            opened = case_steps(case_reference())[0]
            await expect_receipt(
                kent.send(opened.message, case_ref=case_reference(), recipients=["ESSEX"])
            )
            delivery = await expect_delivery(essex, "case-opened", timeout=10)
            assert delivery.envelope.caseref == case_reference()
        """,
}


def _write_project(project: Path) -> None:
    for name, text in PROJECT_FILES.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def test_an_integrators_project_with_its_own_adapters_package_runs_the_plugin(
    tmp_path: Path,
) -> None:
    project = tmp_path / "force-gateway"
    _write_project(project)
    assert not project.resolve().is_relative_to(ROOT)
    env = dict(os.environ)
    # This checkout's code, found after the project's own folders (`python -m` puts the
    # project first), as an installed crossforce would be.
    env["PYTHONPATH"] = str(ROOT)
    env.setdefault("CROSSFORCE_NATS_BACKEND", "embedded")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "2 passed" in result.stdout, result.stdout[-4000:]
