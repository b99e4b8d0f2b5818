"""The CloudEvents 1.0 envelope every Crossforce message travels in.

Extension attribute names follow CloudEvents rules (lower-case letters and digits only), and
their values are CloudEvents scalars, so recipients travel as a comma-separated string.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
)

from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.ijson import read_json

MAX_ENVELOPE_BYTES = 256 * 1024
TYPE_PREFIX = "uk.police.dvds."
SCHEMA_PREFIX = "urn:crossforce:schema:"
FORCE_URN_PREFIX = "urn:uk:police:force:"
HUB_FORCE_CODE = "HUB"
# The `actor` extension: a short opaque id of the person who acted at the sending force (e.g.
# a web account name), for the audit trail. No spaces, so it cannot carry free text.
ACTOR_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"
ENVELOPE_ID_PATTERN = (
    r"^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-7[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
    r"|[0-7][0-9A-HJKMNP-TV-Z]{25})$"
)


class Jurisdiction(StrEnum):
    ENGLAND_WALES = "england-wales"
    SCOTLAND = "scotland"
    NORTHERN_IRELAND = "northern-ireland"


class SecurityMarking(StrEnum):
    """UK Government Security Classifications (domain.md §10)."""

    OFFICIAL = "OFFICIAL"
    OFFICIAL_SENSITIVE = "OFFICIAL-SENSITIVE"


def force_urn(code: str) -> str:
    return f"{FORCE_URN_PREFIX}{code}"


def type_uri(name: str, version: int) -> str:
    """`enquiry-requested`, 1 -> `uk.police.dvds.enquiry-requested.v1`."""
    return f"{TYPE_PREFIX}{name}.v{version}"


def parse_type_uri(value: str) -> tuple[str, int]:
    """Split a CloudEvents type into (message name, version)."""
    if not value.startswith(TYPE_PREFIX):
        raise ContractError(ReasonCode.UNKNOWN_TYPE, f"type {value!r} is not a DVDS type")
    name, _, version = value[len(TYPE_PREFIX) :].rpartition(".v")
    if not name or not version.isdigit():
        raise ContractError(ReasonCode.UNKNOWN_TYPE, f"type {value!r} has no .vN version")
    return name, int(version)


class Envelope(BaseModel):
    """A signed, versioned Crossforce message (architecture decision 5)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: Literal["1.0"] = "1.0"
    # RFC 9562 UUIDv7 or a ULID: time-ordered and unguessable, so one force cannot take, by
    # accident or design, the id another force's next message will carry.
    id: str = Field(pattern=ENVELOPE_ID_PATTERN)
    source: str = Field(pattern=r"^urn:uk:police:force:[A-Z0-9_]+$")
    type: str = Field(pattern=r"^uk\.police\.dvds\.[a-z0-9-]+\.v[0-9]+$")
    time: datetime
    subject: str = Field(min_length=1, max_length=64, description="The case reference")
    dataschema: str
    datacontenttype: Literal["application/json"] = "application/json"
    # Case references travel as a NATS subject token, so they are restricted to safe characters.
    caseref: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
    causationid: str | None = None
    correlationid: str | None = None
    senderforce: str = Field(pattern=r"^[A-Z0-9_]+$")
    recipients: str = Field(default="", description="Comma-separated force codes")
    jurisdiction: Jurisdiction
    securitymarking: SecurityMarking = SecurityMarking.OFFICIAL_SENSITIVE
    purpose: str = Field(min_length=1, max_length=200)
    lawfulbasis: str = Field(min_length=1, max_length=200)
    # Who acted at the sending force (an account name of its own system), signed with the rest
    # so the hub's history and every recipient can say who did it (DPA 2018 s.62: "who").
    # Optional: a message a force's system sends on its own names no one.
    actor: str | None = Field(
        default=None,
        pattern=ACTOR_PATTERN,
        description=(
            "Who acted at the sending force: a short opaque id of the person (e.g. a web "
            "account name), covered by the signature; absent when no one is named"
        ),
    )
    data: dict[str, Any]
    signature: str | None = None
    # The JSON object this envelope was parsed from. The signature covers exactly what the
    # sender wrote: a field left to its default, or a time written with another offset, is
    # signed as written, and re-sent as written so every recipient can verify it too.
    _received: dict[str, Any] | None = PrivateAttr(default=None)

    @field_validator("time")
    @classmethod
    def _aware_utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("time must carry a UTC offset")
        return value.astimezone(UTC)

    @property
    def recipient_codes(self) -> tuple[str, ...]:
        return tuple(code for code in self.recipients.split(",") if code)

    @property
    def name(self) -> str:
        return parse_type_uri(self.type)[0]

    @property
    def version(self) -> int:
        return parse_type_uri(self.type)[1]

    def model_copy(
        self, *, update: Mapping[str, Any] | None = None, deep: bool = False
    ) -> Envelope:
        copy = super().model_copy(update=update, deep=deep)
        copy._received = None  # a changed copy was never received as such
        return copy

    def to_json_dict(self) -> dict[str, Any]:
        """JSON-ready dict: as received, or for an envelope made here, RFC 3339 `time` with a
        Z suffix and microseconds."""
        if self._received is not None:
            copied: dict[str, Any] = json.loads(json.dumps(self._received))
            return copied
        body = self.model_dump(mode="json", exclude_none=True)
        body["time"] = format_time(self.time)
        return body

    def signing_dict(self) -> dict[str, Any]:
        """What the signature covers: the envelope minus its signature."""
        body = self.to_json_dict()
        body.pop("signature", None)
        return body

    def to_bytes(self) -> bytes:
        # A received envelope is written straight from what arrived (no defensive copy).
        body = self._received if self._received is not None else self.to_json_dict()
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def invalid_envelope(exc: ValidationError) -> ContractError:
    """An envelope's validation failure as one INVALID_ENVELOPE line naming the field."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "envelope"
    return ContractError(ReasonCode.INVALID_ENVELOPE, f"{where}: {first['msg']}")


def parse_envelope(raw: bytes, *, max_bytes: int = MAX_ENVELOPE_BYTES) -> Envelope:
    """Size, then JSON, then envelope shape. Raises ContractError with a stable code."""
    if len(raw) > max_bytes:
        raise ContractError(
            ReasonCode.OVERSIZE, f"message is {len(raw)} bytes; the limit is {max_bytes}"
        )
    body = read_json(raw)
    if not isinstance(body, dict):
        raise ContractError(ReasonCode.MALFORMED_JSON, "an envelope must be a JSON object")
    try:
        # Strict, in JSON terms: what the published schema refuses is refused here, so a
        # number is never taken for a time, nor a string for a number.
        envelope = Envelope.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        raise invalid_envelope(exc) from None
    parse_type_uri(envelope.type)
    envelope._received = body
    return envelope
