"""Secrets the hub needs beyond its signing key: the ledger master key and the subject-key
HMAC secret. From the environment when set (production); otherwise created once in the data
directory at mode 0600 (the embedded default), never printed or logged."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.keys import write_private_file
from crossforce.ledger.key_material import (
    MASTER_KEY_ENV,
    SUBJECT_KEY_ENV,
    decode_secret,
    generate_secret,
    master_key_from_env,
    subject_key_from_env,
)


@dataclass(frozen=True, slots=True)
class HubSecrets:
    ledger_master_key: bytes
    subject_key_secret: bytes

    def __repr__(self) -> str:
        return "HubSecrets(<redacted>)"


def load_or_create(secrets_dir: Path, *, create: bool = True) -> HubSecrets:
    """The hub's secrets; with `create=False` (a database shared by replicas) a missing one
    is refused: a replica that made its own would seal and key what the others cannot read."""
    master = master_key_from_env() or _file_secret(
        secrets_dir / "ledger-master.key", "master key", create=create
    )
    subject = subject_key_from_env() or _file_secret(
        secrets_dir / "subject-key.key", "subject key", create=create
    )
    return HubSecrets(master, subject)


def _file_secret(path: Path, what: str, *, create: bool) -> bytes:
    if not path.exists():
        if not create:
            raise ContractError(
                ReasonCode.KEY_FILE_INVALID,
                f"no ledger {what}: every hub on a shared database needs the same ones; set "
                f"{MASTER_KEY_ENV} and {SUBJECT_KEY_ENV} (or their _FILE forms) on each replica",
            )
        write_private_file(path, generate_secret() + "\n")
    return decode_secret(path.read_text().strip(), what)
