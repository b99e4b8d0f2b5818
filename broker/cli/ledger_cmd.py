"""`crossforce ledger`: verify the intelligence-submission ledger, prove entries, sign heads."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from crossforce.adapters.sql.engine import open_existing
from crossforce.broker.cli.common import DB_URL_ENV as HUB_DB_URL_ENV
from crossforce.broker.cli.common import (
    DEFAULT_DATA_DIR,
    LEDGER_DB_URL_ENV,
    DataDir,
    ExitCode,
    database_urls,
    fail,
    passphrase,
    setting,
)
from crossforce.broker.service.case_reads import queue_ledger_reads
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.keys import SigningKey
from crossforce.ledger import (
    CheckpointError,
    Ledger,
    LedgerError,
    NoteVerifier,
    PublishedCheckpoint,
    parse_checkpoint,
    verify_checkpoint,
    verify_consistency,
)
from crossforce.ledger.checkpoints import verifiers_from_public_keys
from crossforce.ledger.errors import NoLedger
from crossforce.ledger.store import one_line

# The embedded broker keeps the ledger in a file of its own (see crossforce.broker.runtime); with
# PostgreSQL it shares the hub's database, so CROSSFORCE_DB_URL is the fallback.
DB_URL_ENV = LEDGER_DB_URL_ENV
CHECKPOINT_KEY_ENV = "CROSSFORCE_LEDGER_CHECKPOINT_KEY"

app = typer.Typer(help="The end-of-case intelligence-submission ledger.", no_args_is_help=True)
# soft_wrap: notes, keys and hashes must reach the terminal unbroken to be copied intact.
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DbUrl = Annotated[
    str | None,
    typer.Option(
        "--db-url",
        help=f"The ledger's database URL (default: ${DB_URL_ENV}, else ${HUB_DB_URL_ENV}, "
        "else ledger.db in --data-dir)",
    ),
]
KeyFile = Annotated[
    Path | None,
    typer.Option(
        "--key-file",
        help=f"Encrypted checkpoint key file (default: ${CHECKPOINT_KEY_ENV}); "
        "passphrase from CROSSFORCE_KEY_PASSPHRASE",
    ),
]
PublicKey = Annotated[
    Path | None,
    typer.Option(
        "--public-key",
        help="The hub's public key set (keys/HUB.jwk, or a JWK or JWK Set) to check "
        "checkpoint signatures with: no private key or passphrase needed",
    ),
]
VerifierKey = Annotated[
    str | None,
    typer.Option("--verifier-key", help="Trusted checkpoint key as a signed-note vkey string"),
]
PublishedNotes = Annotated[
    list[Path] | None,
    typer.Option(
        "--checkpoint",
        help="A signed checkpoint published earlier (what `crossforce ledger checkpoint` "
        "printed), kept outside the database; the log must still extend it. Repeatable.",
    ),
]
By = Annotated[str, typer.Option("--by", help="Who is consulting the ledger (DPA 2018 s.62)")]
Why = Annotated[
    str, typer.Option("--justification", help="Why the ledger is consulted (DPA 2018 s.62)")
]


def _db_url(value: str | None, data_dir: Path) -> str:
    explicit = value or os.environ.get(DB_URL_ENV) or setting(HUB_DB_URL_ENV)
    return explicit or database_urls(data_dir)[1]


def _signing_key(path: Path | None) -> SigningKey | None:
    path = path or (Path(p) if (p := os.environ.get(CHECKPOINT_KEY_ENV)) else None)
    return None if path is None else SigningKey.from_encrypted_file(path, passphrase())


def _verifier(value: str) -> NoteVerifier:
    try:
        return NoteVerifier.from_string(value)
    except CheckpointError as exc:
        _fail(ReasonCode.KEY_FILE_INVALID, f"--verifier-key: {exc}")


def _public_key_document(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not JSON"
        _fail(ReasonCode.FILE_ERROR, f"--public-key {path}: {reason}")


def _open(
    db_url: str | None,
    data_dir: Path,
    key_file: Path | None,
    verifier: str | None = None,
    public_key: Path | None = None,
) -> Ledger:
    """The existing ledger; these commands never create one (nor its database file)."""
    trusted = [_verifier(verifier)] if verifier else []
    document = _public_key_document(public_key) if public_key else None
    url = _db_url(db_url, data_dir)
    signing_key = _signing_key(key_file)
    try:
        ledger = Ledger(url, signing_key, trusted_keys=trusted, create=False)
    except NoLedger as exc:
        hint = "" if db_url else f" (give --db-url or set {DB_URL_ENV})"
        _fail(exc.code, f"{exc}{hint}")
    if document is not None:
        # The note key name is the log's: known only once the ledger is open.
        try:
            ledger.trusted_keys += verifiers_from_public_keys(document, ledger.key_name)
        except CheckpointError as exc:
            ledger.close()
            _fail(ReasonCode.KEY_FILE_INVALID, f"--public-key {public_key}: {exc}")
    return ledger


def _hub_db_url(ledger_db_url: str | None, data_dir: Path) -> str:
    """The hub's database beside this ledger: CROSSFORCE_DB_URL; else, on PostgreSQL, the
    ledger's own (they share one); else crossforce.db beside the ledger's SQLite file."""
    given = setting(HUB_DB_URL_ENV)
    if given:
        return given
    ledger_url = _db_url(ledger_db_url, data_dir)
    parsed = make_url(ledger_url)
    if parsed.get_backend_name() != "sqlite":
        return ledger_url
    return database_urls(Path(parsed.database or "ledger.db").parent)[0]


def _report_reads(
    entries: dict[int, str | None],
    by: str,
    justification: str,
    db_url: str | None,
    data_dir: Path,
) -> None:
    """Before entries are read: queue a report to the PSD for each whose case has a police
    employee among its parties (decision 0051). The case is known only to the hub's
    database; without it nothing is read (fail closed)."""
    if not any(entries.values()):
        return
    url = _hub_db_url(db_url, data_dir)
    try:
        engine = open_existing(url)
    except ContractError as missing:
        raise ContractError(
            missing.code,
            f"{missing.message}; a read of the ledger is reported to a PSD when its case has "
            f"a police employee among the parties, and only the hub's database knows: set "
            f"{HUB_DB_URL_ENV}",
        ) from None
    try:
        queue_ledger_reads(
            engine, entries, reader=by, justification=justification, now=datetime.now(UTC)
        )
    finally:
        engine.dispose()


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """Any refusal or database failure becomes one line with its reason code, and the exit
    status for that code (crossforce.broker.cli.common.ExitCode)."""
    try:
        yield
    except LedgerError as exc:
        _fail(exc.code, str(exc))
    except ContractError as exc:
        _fail(exc.code, exc.message)
    except SQLAlchemyError as exc:
        _fail(ReasonCode.DATABASE_ERROR, f"ledger database error: {one_line(exc)}")


def _fail(code: ReasonCode, message: str) -> NoReturn:
    fail(code, message)


def _read_note(path: Path) -> PublishedCheckpoint:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(ReasonCode.FILE_ERROR, f"cannot read checkpoint file {path}: {exc}")
    # A note copied from a terminal may have lost its final newline or gained CRs; the
    # signature covers only the lines above the blank line, so restoring them is safe.
    text = text.replace("\r\n", "\n").rstrip("\n") + "\n"
    return PublishedCheckpoint(str(path), text)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@app.command("verify")
def verify(
    db_url: DbUrl = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    key_file: KeyFile = None,
    verifier_key: VerifierKey = None,
    public_key: PublicKey = None,
    checkpoint: PublishedNotes = None,
) -> None:
    """Recompute the whole ledger; exit 1 and say exactly which entry is wrong if any is.

    Every entry must be under a signed checkpoint (the hub signs one with each append), and
    the log must extend each --checkpoint note published earlier: a note signing more
    entries than the log holds means entries were deleted, a different root at its size
    that one was rewritten. Signatures are checked with --public-key (or --verifier-key, or
    --key-file), else with the key recorded in the ledger itself.
    """
    published = [_read_note(path) for path in checkpoint or []]
    with (
        _one_line_errors(),
        _open(db_url, data_dir, key_file, verifier_key, public_key) as ledger,
    ):
        columns = (
            TextColumn("{task.description:<12}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=err, transient=False) as progress:
            tasks: dict[str, TaskID] = {}

            def step(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = progress.add_task(phase, total=max(total, 1))
                progress.update(tasks[phase], completed=done, total=max(total, 1))

            report = ledger.verify(progress=step, published=published, require_signed_head=True)
    for note in report.notes:
        err.print(f"[yellow]note[/] {escape(note)}", highlight=False)
    summary = (
        f"{report.entries_checked} entries, {report.checkpoints_checked} checkpoints, "
        f"tree size {report.tree_size}, root {_b64(report.root_hash)}"
    )
    if report.ok:
        out.print(f"[bold green]OK[/] {summary}", highlight=False)
        return
    for problem in report.problems:
        out.print(f"[bold red]FAIL[/] {escape(str(problem))}", highlight=False)
    out.print(f"{len(report.problems)} problem(s); {summary}", highlight=False)
    raise typer.Exit(1)


@app.command("proof")
def proof(
    entry: Annotated[int, typer.Argument(help="Entry index")],
    by: By,
    justification: Why,
    db_url: DbUrl = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    key_file: KeyFile = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Inclusion proof of ENTRY against the newest signed checkpoint that covers it.

    Prints what an outside verifier needs: the entry's bytes (the leaf hash is SHA-256 of
    0x00 and those bytes), the tree size, root and audit path, the signed checkpoint and
    the verifier key. With no covering checkpoint and a checkpoint key, one is signed
    first. The read is logged as a DPA 2018 s.62 consultation.
    """
    with _one_line_errors(), _open(db_url, data_dir, key_file) as ledger:
        _report_reads(ledger.case_refs(index=entry), by, justification, db_url, data_dir)
        note = ledger.latest_checkpoint(covering=entry + 1)
        if note is None and ledger.signing_key is not None:
            note = ledger.checkpoint()
        size = parse_checkpoint(note)[0].tree_size if note else None
        result = ledger.inclusion_proof(entry, by=by, justification=justification, tree_size=size)
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2))
        return
    out.print(f"entry       {result.index}", highlight=False)
    if result.entry is not None:
        out.print(f"entry bytes {_b64(result.entry)}", highlight=False)
    out.print(
        f"leaf hash   {_b64(result.leaf_hash)}  (SHA-256 of 0x00 || entry bytes)",
        highlight=False,
    )
    out.print(f"tree size   {result.tree_size}", highlight=False)
    out.print(f"root hash   {_b64(result.root_hash)}", highlight=False)
    out.print("audit path (RFC 9162, bottom first):", highlight=False)
    for step in result.audit_path:
        out.print(f"  {_b64(step)}", highlight=False)
    out.print(f"verifies    {result.verify()}", highlight=False)
    if result.verifier_key:
        out.print(f"verifier key {result.verifier_key}", highlight=False)
    if result.checkpoint:
        out.print("checkpoint:", highlight=False)
        typer.echo(result.checkpoint, nl=False)
    else:
        out.print("[yellow]no signed checkpoint covers this entry yet[/]")


@app.command("checkpoint")
def checkpoint(
    db_url: DbUrl = None, data_dir: DataDir = DEFAULT_DATA_DIR, key_file: KeyFile = None
) -> None:
    """Sign the current tree head and print the checkpoint note and the verifier key.

    Keep the note outside the database (publish it, give it to a witness): later,
    `crossforce ledger verify --checkpoint FILE` shows any entry deleted or rewritten since.
    """
    if key_file is None and not os.environ.get(CHECKPOINT_KEY_ENV):
        _fail(ReasonCode.KEY_FILE_INVALID, f"give --key-file or set {CHECKPOINT_KEY_ENV}")
    with _one_line_errors(), _open(db_url, data_dir, key_file) as ledger:
        note = ledger.checkpoint()
        verifier = ledger.verifier().to_string()
    typer.echo(note, nl=False)
    err.print(f"verifier key: {verifier}", highlight=False)


@app.command("find-subject")
def find_subject(
    surname: Annotated[str, typer.Option(help="Subject's surname")],
    forenames: Annotated[str, typer.Option(help="Subject's forenames")],
    dob: Annotated[str, typer.Option(help="Date of birth, YYYY-MM-DD")],
    by: By,
    justification: Why,
    db_url: DbUrl = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Every live submission about the same subject, from any force (needs the subject key)."""
    with _one_line_errors(), _open(db_url, data_dir, None) as ledger:
        key = ledger.subject_key({"surname": surname, "forenames": forenames, "date_of_birth": dob})
        _report_reads(ledger.case_refs(subject_key=key), by, justification, db_url, data_dir)
        found = ledger.find_by_subject(key, by=by, justification=justification)
    if not found:
        out.print("no submissions about this subject")
    for item in found:
        out.print(
            f"entry {item.index}  case {item.case_ref}  by {item.submitted_by}  "
            f"at {item.submitted_at:%Y-%m-%d}  review {item.review_date}",
            highlight=False,
        )


@app.command("consistency")
def consistency(
    old: Annotated[Path, typer.Argument(help="A signed checkpoint published earlier")],
    new: Annotated[
        Path | None,
        typer.Argument(help="A later signed checkpoint (default: the newest one stored)"),
    ] = None,
    public_key: PublicKey = None,
    verifier_key: VerifierKey = None,
    db_url: DbUrl = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Prove the log signed in NEW extends the log signed in OLD, with nothing changed.

    Both notes are checked with the hub's public key (--public-key keys/HUB.jwk, or
    --verifier-key); the RFC 9162 consistency path from the ledger must lead from OLD's
    root to NEW's. Exit 1 when it does not: an entry OLD covered was changed or removed.
    The proof holds no personal data.
    """
    old_note = _read_note(old).note
    with _one_line_errors(), _open(db_url, data_dir, None, verifier_key, public_key) as ledger:
        trusted, notes = ledger.checkpoint_verifiers()
        new_note = _read_note(new).note if new else ledger.latest_checkpoint()
        if new_note is None:
            _fail(ReasonCode.DATABASE_ERROR, "the ledger holds no signed checkpoint yet")
        try:
            before = verify_checkpoint(old_note, trusted)
            after = verify_checkpoint(new_note, trusted)
        except CheckpointError as exc:
            _verification_failed(f"checkpoint: {exc}")
        if before.origin != after.origin:
            _verification_failed(f"the notes are of two logs: {before.origin}, {after.origin}")
        if before.tree_size > after.tree_size:
            _verification_failed(
                f"OLD has {before.tree_size} entries, more than NEW's {after.tree_size}"
            )
        if after.tree_size > ledger.size:
            _verification_failed(
                f"NEW signs {after.tree_size} entries; the ledger holds {ledger.size}: "
                "entries were deleted"
            )
        proof = ledger.consistency_proof(before.tree_size, after.tree_size)
    consistent = verify_consistency(
        before.tree_size, after.tree_size, before.root_hash, after.root_hash, proof.path
    )
    for note in notes:
        err.print(f"[yellow]note[/] {escape(note)}", highlight=False)
    if as_json:
        document = {
            "origin": after.origin,
            "old": {"tree_size": before.tree_size, "root_hash": _b64(before.root_hash)},
            "new": {"tree_size": after.tree_size, "root_hash": _b64(after.root_hash)},
            "path": [_b64(step) for step in proof.path],
            "consistent": consistent,
        }
        typer.echo(json.dumps(document, indent=2))
    else:
        for label, head in (("old", before), ("new", after)):
            line = f"{label}  {head.tree_size} entries, root {_b64(head.root_hash)}"
            out.print(line, highlight=False)
        out.print("consistency path (RFC 9162):", highlight=False)
        for step in proof.path:
            out.print(f"  {_b64(step)}", highlight=False)
    if not consistent:
        _verification_failed(
            f"the log at {after.tree_size} entries does not extend the signed log at "
            f"{before.tree_size}: an entry in 0..{before.tree_size - 1} was changed"
        )
    if not as_json:
        out.print(
            f"[bold green]OK[/] the log at {after.tree_size} entries extends the signed log "
            f"at {before.tree_size}",
            highlight=False,
        )


def _verification_failed(message: str) -> NoReturn:
    out.print(f"[bold red]FAIL[/] {escape(message)}", highlight=False)
    raise typer.Exit(ExitCode.VERIFICATION_FAILED)
