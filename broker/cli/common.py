"""Small helpers shared by CLI commands."""

from __future__ import annotations

import os

import typer

from contracts.keys import PASSPHRASE_ENV


def passphrase(*, confirm: bool = False) -> str:
    """The key passphrase from CROSSFORCE_KEY_PASSPHRASE, or a hidden prompt."""
    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value
    return str(typer.prompt("Key passphrase", hide_input=True, confirmation_prompt=confirm))
