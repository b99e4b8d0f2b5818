"""The wheel installs one package, `crossforce`, and every folder of the product is in it.

pyproject.toml lists the packages by hand (the root folders are mapped under `crossforce`,
docs/decisions/0033-one-crossforce-namespace.md), so a new folder with an `__init__.py` that
is not listed would silently be left out of the wheel.
"""

from __future__ import annotations

import importlib
import os
import tomllib
from pathlib import Path

import crossforce.adapters.client.force_client as force_client_module
import crossforce.adapters.testing.broker as testing_broker
import crossforce.adapters.testing.crossforce_broker as containers_broker

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
FOLDERS = ("contracts", "broker", "adapters", "ledger")
ROOTS = {"crossforce": "crossforce", **{f"crossforce.{name}": name for name in FOLDERS}}


def _packages_on_disk() -> set[str]:
    found = set()
    for package, folder in ROOTS.items():
        # os.walk does not follow the links in crossforce/, so each folder is seen once.
        for directory, _, files in os.walk(ROOT / folder):
            if "__init__.py" in files:
                relative = Path(directory).relative_to(ROOT / folder)
                found.add(".".join([package, *relative.parts]))
    return found


def test_every_package_folder_is_listed_for_the_wheel() -> None:
    assert set(CONFIG["packages"]) == _packages_on_disk()


def test_the_root_folders_are_mapped_under_crossforce() -> None:
    assert CONFIG["package-dir"] == ROOTS
    assert set(CONFIG["package-data"]) <= set(ROOTS)


def test_nothing_outside_the_product_folders_is_packaged() -> None:
    assert all(name.split(".")[0] == "crossforce" for name in CONFIG["packages"])
    assert not any(".tests" in name or name.endswith(".tests") for name in CONFIG["packages"])


def test_the_links_in_crossforce_lead_to_the_root_folders() -> None:
    for package, folder in ROOTS.items():
        if package != "crossforce":
            link = ROOT / "crossforce" / folder
            assert link.is_symlink() and link.resolve() == ROOT / folder


def test_the_public_homes_re_export_the_api() -> None:
    client = importlib.import_module("crossforce.client")
    assert set(client.__all__) == set(force_client_module.__all__)
    for name in client.__all__:
        assert getattr(client, name) is getattr(force_client_module, name)
    testing = importlib.import_module("crossforce.testing")
    for name in testing.__all__:
        origin = containers_broker if name == "CrossforceBroker" else testing_broker
        assert getattr(testing, name) is getattr(origin, name)
    assert {"expect_receipt", "expect_delivery", "make_pki", "running_hub"} <= set(testing.__all__)
