"""Secrets the hub needs beyond its signing key: the ledger master key and the subject-key
HMAC secret. From the environment when set (production); otherwise created once in the data
directory at mode 0600 (the embedded default), never printed or logged."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from contracts.keys import write_private_file
from ledger.key_material import (
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


def load_or_create(secrets_dir: Path) -> HubSecrets:
    master = master_key_from_env() or _file_secret(secrets_dir / "ledger-master.key", "master key")
    subject = subject_key_from_env() or _file_secret(secrets_dir / "subject-key.key", "subject key")
    return HubSecrets(master, subject)


def _file_secret(path: Path, what: str) -> bytes:
    if not path.exists():
        write_private_file(path, generate_secret() + "\n")
    return decode_secret(path.read_text().strip(), what)
