"""Small helpers shared by CLI commands."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from contracts.errors import ContractError, ReasonCode
from contracts.keys import PASSPHRASE_ENV

DB_URL_ENV = "CROSSFORCE_DB_URL"
FILE_SUFFIX = "_FILE"
# Settings that may also be given as NAME_FILE=<path of a file holding the value>, so that a
# container secret never has to be written into a container definition.
# The supervisors' web app: the hub's database through a read-only role (deliberately not
# CROSSFORCE_DB_URL, the hub's read-write secret), its own store, its session-signing key.
WEB_DB_URL_ENV = "CROSSFORCE_WEB_DB_URL"
WEB_STORE_URL_ENV = "CROSSFORCE_WEB_STORE_URL"
WEB_SECRET_ENV = "CROSSFORCE_WEB_SECRET"
FILE_SETTINGS = (PASSPHRASE_ENV, DB_URL_ENV, WEB_DB_URL_ENV, WEB_STORE_URL_ENV, WEB_SECRET_ENV)


def setting(name: str, given: str | None = None) -> str | None:
    """A setting from `given` (a command-line option, or NAME read by the option itself),
    else from NAME, else from the file named by NAME_FILE; None when there is none.

    The file's contents are the value, less one trailing newline. NAME and NAME_FILE both
    set is refused: which one was meant cannot be told.
    """
    file_name = name + FILE_SUFFIX
    file = os.environ.get(file_name)
    value = os.environ.get(name)
    if file and value:
        raise ContractError(ReasonCode.FILE_ERROR, f"set {name} or {file_name}, not both")
    if given:
        return given
    if value:
        return value
    if file:
        return _read_value_file(file_name, Path(file))
    return None


def _read_value_file(variable: str, path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not readable"
        raise ContractError(ReasonCode.FILE_ERROR, f"{variable}={path}: {reason}") from None
    if text.endswith("\n"):
        text = text[:-1].removesuffix("\r")
    if not text:
        raise ContractError(ReasonCode.FILE_ERROR, f"{variable}={path} is empty")
    return text


def passphrase(*, confirm: bool = False) -> str:
    """The key passphrase from CROSSFORCE_KEY_PASSPHRASE or the file named by
    CROSSFORCE_KEY_PASSPHRASE_FILE, or a hidden prompt."""
    value = setting(PASSPHRASE_ENV)
    if value:
        return value
    return str(typer.prompt("Key passphrase", hide_input=True, confirmation_prompt=confirm))
