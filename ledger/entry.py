"""The ledger entry: an end-of-case intelligence submission exactly as stored.

An entry has public fields (what the case was, what was decided and why, which forces took
part) and personal fields (who the parties are). The personal fields are sealed with the
entry's own data key before the entry is serialised, so the bytes the Merkle leaf hashes
already hold ciphertext: shredding the data key later changes nothing that was hashed.

The public and personal payloads are validated against the typed models below when the
caller passes them, and stored as plain JSON so that new message versions need no migration.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from crossforce.contracts.b64 import b64url_decode, b64url_encode
from crossforce.contracts.canonical import canonical_json
from crossforce.ledger import sealing

ENTRY_VERSION: Literal[1] = 1
EntryKind = Literal["submission", "disposal"]


class PartyRole(BaseModel):
    """A party as the public part of the record knows it: a role and a home force only."""

    model_config = ConfigDict(extra="allow")

    role: str = Field(description="A, B, C, applicant, disclosure recipient, child")
    home_force: str | None = None


class Decision(BaseModel):
    """An outcome or forum decision with a reference to its recorded rationale (001 ¶94)."""

    model_config = ConfigDict(extra="allow")

    decision: str
    outcome: str
    rationale_ref: str | None = None


class PublicSubmission(BaseModel):
    """The public fields of a final intelligence report (001 ¶92)."""

    model_config = ConfigDict(extra="allow")

    route: str = Field(description="right-to-ask or right-to-know")
    jurisdiction: str
    request: str | None = Field(default=None, description="the request or information received")
    outcomes: list[Decision] = Field(default_factory=list)
    forces_involved: list[str] = Field(default_factory=list)
    closing_stage: str
    closed_at: datetime
    requester_is_third_party: bool
    parties: list[PartyRole] = Field(default_factory=list)


class PersonalParty(BaseModel):
    """One party's personal details: sealed, never in the clear in the ledger."""

    model_config = ConfigDict(extra="allow")

    role: str
    names: list[str] = Field(default_factory=list)
    date_of_birth: date | None = None
    sex: str | None = None
    ethnicity: str | None = None
    disability: str | None = None
    addresses: list[str] = Field(default_factory=list)


class PersonalDetails(BaseModel):
    model_config = ConfigDict(extra="allow")

    parties: list[PersonalParty] = Field(default_factory=list)


class SealedPersonal(BaseModel):
    """Personal fields under AES-256-GCM with the entry's data key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alg: Literal["A256GCM"] = "A256GCM"
    nonce: str
    ciphertext: str


class DisposalRecord(BaseModel):
    """Appended when an entry's personal fields are shredded under MOPI review."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    disposed_index: int
    reason: str
    disposed_by: str


class LedgerEntry(BaseModel):
    """One leaf of the ledger. `to_bytes()` is what the Merkle leaf hashes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = ENTRY_VERSION
    index: int = Field(ge=0, description="position in the log, so a moved row is detectable")
    kind: EntryKind
    case_ref: str | None = None
    submitted_by: str
    submitted_at: datetime
    review_date: date | None = None
    subject_key: str | None = None
    submission: dict[str, Any] | None = None
    personal: SealedPersonal | None = None
    disposal: DisposalRecord | None = None

    def to_bytes(self) -> bytes:
        return canonical_json(self.model_dump(mode="json", exclude_none=True))

    @classmethod
    def from_bytes(cls, data: bytes) -> LedgerEntry:
        return cls.model_validate_json(data)


def personal_aad(index: int) -> bytes:
    # Tying the ciphertext to its position stops sealed fields being pasted into another entry.
    return f"crossforce-ledger-personal:{index}".encode()


def seal_personal(data_key: bytes, index: int, personal: dict[str, Any]) -> SealedPersonal:
    nonce, ciphertext = sealing.seal(data_key, canonical_json(personal), personal_aad(index))
    return SealedPersonal(nonce=b64url_encode(nonce), ciphertext=b64url_encode(ciphertext))


def open_personal(data_key: bytes, index: int, sealed: SealedPersonal) -> dict[str, Any]:
    plaintext = sealing.unseal(
        data_key,
        b64url_decode(sealed.nonce),
        b64url_decode(sealed.ciphertext),
        personal_aad(index),
    )
    value = json.loads(plaintext)
    if not isinstance(value, dict):
        raise ValueError("sealed personal fields are not a JSON object")
    return value


def as_json_object(value: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
    """Plain JSON for a typed model or a mapping; dates and times become ISO strings.

    Mappings are not checked against the typed models: the wire message that feeds the
    ledger is versioned elsewhere, and the ledger must accept every version of it.
    """
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    dumped: dict[str, Any] = json.loads(json.dumps(dict(value), default=_iso))
    return dumped


def _iso(value: object) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")
