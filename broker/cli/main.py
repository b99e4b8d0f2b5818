"""The `crossforce` command: wires sub-commands together and turns errors into one line."""

from __future__ import annotations

import sys

import typer
from nats.errors import Error as NatsError
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError

from crossforce.adapters.nats.server import NatsServerError
from crossforce.broker.cli.common import exit_code
from crossforce.contracts.errors import ContractError, ReasonCode

app = typer.Typer(
    name="crossforce",
    help="Crossforce: the cross-force DVDS / DSDAS message broker.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)


_registered = False


def _register() -> None:
    # Each sub-command lives in its own module; this is the only place they meet.
    global _registered
    if _registered:
        return
    _registered = True
    from crossforce.broker.cli import (
        cases_cmd,
        contracts_cmd,
        db_cmd,
        demo_cmd,
        deploy_cmd,
        docs_cmd,
        keys_cmd,
        ledger_cmd,
        message_cmd,
        overdue_cmd,
        up_cmd,
        web_cmd,
    )

    app.command("demo")(demo_cmd.demo)
    app.command("up")(up_cmd.up)
    app.command("cases")(cases_cmd.cases)
    app.command("case")(cases_cmd.case)
    app.command("overdue")(overdue_cmd.overdue)
    app.add_typer(keys_cmd.app, name="keys")
    app.add_typer(message_cmd.app, name="message")
    app.add_typer(contracts_cmd.app, name="contracts")
    app.add_typer(ledger_cmd.app, name="ledger")
    app.add_typer(deploy_cmd.app, name="deploy")
    app.add_typer(docs_cmd.app, name="docs")
    app.add_typer(db_cmd.app, name="db")
    app.add_typer(web_cmd.app, name="web")
    app.command(
        "dashboard",
        hidden=True,
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )(web_cmd.dashboard_moved)


def run() -> None:
    """Console-script entry point: typed errors print one line and exit non-zero."""
    _register()
    try:
        app()
    except ContractError as exc:
        _fail(exc.code, exc.message)
    except NatsError as exc:
        # Before OSError: nats-py's timeout is a TimeoutError, which Python counts as one.
        _fail(ReasonCode.NATS_ERROR, (str(exc) or type(exc).__name__).splitlines()[0])
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        _fail(ReasonCode.FILE_ERROR, f"{exc.strerror or exc}{where}")
    except SQLAlchemyError as exc:
        # The driver's own message only: the statement and URL may carry data or secrets.
        cause = getattr(exc, "orig", None) or exc
        _fail(ReasonCode.DATABASE_ERROR, str(cause).splitlines()[0])
    except NatsServerError as exc:
        _fail(ReasonCode.NATS_ERROR, str(exc).splitlines()[0])


def _fail(code: ReasonCode, message: str) -> None:
    err.print(f"[bold red]error[/] {code}: {escape(message)}", highlight=False, soft_wrap=True)
    sys.exit(exit_code(code))
