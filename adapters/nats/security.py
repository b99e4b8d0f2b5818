"""Who may say what on the bus: NATS identities (nkeys) and subject permissions per force.

Decision 3 says a force publishes only to its own inbound subject and reads only its own
deliveries, enforced by NATS itself. The grants below are the exact subjects nats-py needs for
`js.publish`, `pull_subscribe_bind` + `fetch` + `ack`, observed on a real server, and nothing
more: no stream info, no consumer creation, no direct get, no other force's inbox.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nkeys

from crossforce.adapters.nats import subjects

HUB = "HUB"
DELIVERY_STREAM = "CF_DELIVERY"
_CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Permissions:
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


def _check_code(code: str) -> str:
    # A code becomes a subject token and a file name, so it must be a plain upper-case word.
    if not _CODE.match(code):
        raise ValueError(f"{code!r} is not a valid participant code for NATS subjects")
    return code


def inbox_prefix(code: str) -> str:
    """Reply-subject prefix a participant must connect with (nats-py `inbox_prefix=`)."""
    return subjects.inbox_prefix(_check_code(code))


def inbound_subject(code: str, caseref: str) -> str:
    return f"cf.in.{_check_code(code)}.{caseref}"


def delivery_consumers(code: str) -> tuple[str, ...]:
    """Durable pull consumers on CF_DELIVERY (created by the hub): priority, messages, receipts,
    and the receipts of each client that sends for the force beside its own system (the web
    app's `<FORCE>_receipt_web`). Each is granted by its exact name: no wildcard, and no
    right to create, change or delete a consumer."""
    return tuple(name for name, _ in subjects.force_consumers(_check_code(code)))


def force_permissions(code: str) -> Permissions:
    publish = [f"cf.in.{code}.>"]
    for consumer in delivery_consumers(code):
        publish += [
            # fetch() is a request to MSG.NEXT; the batch comes back on the force's inbox.
            f"$JS.API.CONSUMER.MSG.NEXT.{DELIVERY_STREAM}.{consumer}",
            # Not needed by pull_subscribe_bind/fetch/ack, but lets a force client check its
            # own backlog; it reveals nothing about any other force.
            f"$JS.API.CONSUMER.INFO.{DELIVERY_STREAM}.{consumer}",
            # ack/nak/term/in-progress go to the delivered message's reply subject.
            f"$JS.ACK.{DELIVERY_STREAM}.{consumer}.>",
        ]
    return Permissions(publish=tuple(publish), subscribe=(f"{inbox_prefix(code)}.>",))


def hub_permissions() -> Permissions:
    return Permissions(
        publish=(
            "cf.>",
            "$JS.API.>",  # stream and consumer management, fetch, direct get
            "$JS.ACK.>",
            "$JS.FC.>",  # flow-control replies for push consumers
        ),
        subscribe=("cf.>", f"{inbox_prefix(HUB)}.>", "$JS.EVENT.>"),
    )


def permissions_for(code: str) -> Permissions:
    return hub_permissions() if code == HUB else force_permissions(_check_code(code))


@dataclass(frozen=True, slots=True)
class Identity:
    """A participant's nkey pair. `seed` is the secret; only `public_key` goes in server config."""

    code: str
    public_key: str
    seed: bytes

    def __repr__(self) -> str:  # never let the seed reach a log line
        return f"Identity(code={self.code!r}, public_key={self.public_key!r})"


def new_identity(code: str) -> Identity:
    seed = nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER)
    return identity_from_seed(code, bytes(seed))


def identity_from_seed(code: str, seed: bytes) -> Identity:
    pair = nkeys.from_seed(bytearray(seed.strip()))
    public = pair.public_key.decode()
    pair.wipe()
    if not public.startswith("U"):
        raise ValueError(f"credentials for {code} are not a user nkey")
    return Identity(code=code, public_key=public, seed=seed.strip())


def credentials_path(directory: Path, code: str) -> Path:
    return directory / f"{_check_code(code)}.nk"


def write_credentials(identity: Identity, path: Path) -> None:
    """Write the seed alone (the format nats-py's `nkeys_seed=` reads), mode 0600 from birth."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.unlink(missing_ok=True)
    # Created 0600 so the secret is never readable by others, not even briefly.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(identity.seed + b"\n")
    os.replace(tmp, path)


def read_credentials(code: str, path: Path) -> Identity:
    return identity_from_seed(code, path.read_bytes())


def load_or_create(code: str, directory: Path, *, rotate: bool = False) -> Identity:
    """Reuse a participant's existing key so regenerating config does not lock it out."""
    path = credentials_path(directory, code)
    if path.exists() and not rotate:
        return read_credentials(code, path)
    identity = new_identity(code)
    write_credentials(identity, path)
    return identity


def connect_options(code: str, credentials: Path) -> dict[str, Any]:
    """Keyword arguments for `nats.connect` (or FastStream's NatsBroker) as `code`."""
    return {"nkeys_seed": str(credentials), "inbox_prefix": inbox_prefix(code)}
