"""Small helpers shared by CLI commands."""

from __future__ import annotations

import os
import sys
from enum import IntEnum
from pathlib import Path
from typing import Annotated, NoReturn, TextIO

import typer
from rich.console import Console
from rich.markup import escape

from crossforce.adapters.hsm.uri import MODULE_ENV, PIN_ENV, is_pkcs11_uri
from crossforce.broker.runtime import BrokerSettings
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.keys import PASSPHRASE_ENV, Signer, SigningKey


class ExitCode(IntEnum):
    """What a script can tell from `crossforce`'s exit status (README: "Exit codes")."""

    OK = 0
    # The check ran and the thing checked is not valid: a signature, an envelope, the ledger.
    VERIFICATION_FAILED = 1
    # The command line is wrong: an unknown option, a bad value (Click's own code), a force
    # code that is not in the directory.
    USAGE = 2
    # The work could not be done: a file, the database, NATS, a key or passphrase, a refusal.
    RUNTIME_ERROR = 3


# Reason codes that say "checked, and not valid" (crossforce.contracts.errors).
VERIFICATION_CODES = frozenset(
    {
        ReasonCode.MALFORMED_JSON,
        ReasonCode.OVERSIZE,
        ReasonCode.INVALID_ENVELOPE,
        ReasonCode.UNKNOWN_TYPE,
        ReasonCode.UNKNOWN_VERSION,
        ReasonCode.SCHEMA_INVALID,
        ReasonCode.MISSING_SIGNATURE,
        ReasonCode.BAD_SIGNATURE,
        ReasonCode.UNKNOWN_KEY,
        ReasonCode.REVOKED_KEY,
        ReasonCode.EXPIRED_KEY,
        ReasonCode.KEY_NOT_YET_VALID,
        ReasonCode.SENDER_MISMATCH,
        ReasonCode.STALE_MESSAGE,
        ReasonCode.UNTRUSTED_STORE,
        ReasonCode.ENVELOPE_ID_REUSED,
    }
)
USAGE_CODES = frozenset({ReasonCode.UNKNOWN_FORCE, ReasonCode.ACCOUNT_ERROR})


def exit_code(code: ReasonCode) -> ExitCode:
    if code in VERIFICATION_CODES:
        return ExitCode.VERIFICATION_FAILED
    if code in USAGE_CODES:
        return ExitCode.USAGE
    return ExitCode.RUNTIME_ERROR


def fail(code: ReasonCode, message: str) -> NoReturn:
    """One line on stderr, `error CODE: message`, and the exit status for the code."""
    Console(stderr=True, soft_wrap=True).print(
        f"[bold red]error[/] {code}: {escape(message)}", highlight=False
    )
    raise typer.Exit(exit_code(code))


def console(*, stderr: bool = False, file: TextIO | None = None) -> Console:
    """A console that never truncates or wraps for a pipe or file: scripts get whole
    values (a terminal still gets its own width)."""
    stream = file or (sys.stderr if stderr else sys.stdout)
    if stream.isatty():
        return Console(file=stream)
    return Console(file=stream, width=100_000, soft_wrap=True)


DB_URL_ENV = "CROSSFORCE_DB_URL"
LEDGER_DB_URL_ENV = "CROSSFORCE_LEDGER_DB_URL"
DATA_DIR_ENV = "CROSSFORCE_DATA_DIR"
DEFAULT_DATA_DIR = Path(".crossforce")
FILE_SUFFIX = "_FILE"
# Settings that may also be given as NAME_FILE=<path of a file holding the value>, so that a
# container secret never has to be written into a container definition.
# The supervisors' web app: the hub's database through a read-only role (deliberately not
# CROSSFORCE_DB_URL, the hub's read-write secret), its own store, its session-signing key.
WEB_DB_URL_ENV = "CROSSFORCE_WEB_DB_URL"
WEB_STORE_URL_ENV = "CROSSFORCE_WEB_STORE_URL"
WEB_SECRET_ENV = "CROSSFORCE_WEB_SECRET"
FILE_SETTINGS = (PASSPHRASE_ENV, DB_URL_ENV, WEB_DB_URL_ENV, WEB_STORE_URL_ENV, WEB_SECRET_ENV)

# The options every command that reads the broker's data takes, with one meaning throughout:
# the data directory `up` uses, unless a database URL says otherwise.
DataDir = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        envvar=DATA_DIR_ENV,
        help="The broker's data directory, as given to `crossforce up`",
    ),
]
DbUrl = Annotated[
    str | None,
    typer.Option(
        "--db-url",
        envvar=DB_URL_ENV,
        help=f"The broker's database URL (default: ${DB_URL_ENV}, or a file holding it: "
        f"${DB_URL_ENV}{FILE_SUFFIX}; else SQLite in --data-dir)",
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON on stdout, for scripts")]
LedgerDbUrl = Annotated[
    str | None,
    typer.Option(
        "--ledger-db-url",
        envvar=LEDGER_DB_URL_ENV,
        help=f"The ledger's database URL (default: ${LEDGER_DB_URL_ENV}; else the broker's "
        "PostgreSQL database, or SQLite in --data-dir)",
    ),
]


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


def database_urls(
    data_dir: Path = DEFAULT_DATA_DIR, db_url: str | None = None, ledger_db_url: str | None = None
) -> tuple[str, str]:
    """The broker's and the ledger's database URLs, worked out exactly as `crossforce up`
    works them out, so every command reads the database the running broker writes."""
    settings = BrokerSettings(
        data_dir=data_dir,
        db_url=setting(DB_URL_ENV, db_url),
        ledger_db_url=ledger_db_url,
    )
    return settings.database_url, settings.ledger_url


def load_signer(where: str) -> Signer:
    """A signing key: an encrypted key file (passphrase as for every key command), or a
    `pkcs11:token=...;object=FORCE` URI naming a key kept in an HSM (module from
    $CROSSFORCE_PKCS11_MODULE, PIN from $CROSSFORCE_PKCS11_PIN or its _FILE)."""
    if is_pkcs11_uri(where):
        # Loaded only when asked for: most hubs and tools never touch a PKCS#11 module.
        from crossforce.adapters.hsm.pkcs11 import Pkcs11Signer

        return Pkcs11Signer.open(
            where, pin=setting(PIN_ENV), module_path=os.environ.get(MODULE_ENV)
        )
    path = Path(where)
    if not path.exists():
        raise ContractError(ReasonCode.KEY_FILE_INVALID, f"no key file {path}")
    return SigningKey.from_encrypted_file(path, passphrase())
