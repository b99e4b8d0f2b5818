"""Typed contract errors with stable reason codes.

Every rejection anywhere in Crossforce carries one of these codes. They are part of the
public contract: force systems match on them, so existing values never change meaning.
"""

from __future__ import annotations

from enum import StrEnum


class ReasonCode(StrEnum):
    """Stable reason codes for rejection receipts, dead letters and CLI errors."""

    MALFORMED_JSON = "MALFORMED_JSON"
    OVERSIZE = "OVERSIZE"
    INVALID_ENVELOPE = "INVALID_ENVELOPE"
    UNKNOWN_TYPE = "UNKNOWN_TYPE"
    UNKNOWN_VERSION = "UNKNOWN_VERSION"
    SCHEMA_INVALID = "SCHEMA_INVALID"
    MISSING_SIGNATURE = "MISSING_SIGNATURE"
    BAD_SIGNATURE = "BAD_SIGNATURE"
    UNKNOWN_KEY = "UNKNOWN_KEY"
    REVOKED_KEY = "REVOKED_KEY"
    EXPIRED_KEY = "EXPIRED_KEY"
    # The key's validity has not started: the sender's clock or key is ahead of the hub's.
    KEY_NOT_YET_VALID = "KEY_NOT_YET_VALID"
    SENDER_MISMATCH = "SENDER_MISMATCH"
    STALE_MESSAGE = "STALE_MESSAGE"
    UNTRUSTED_STORE = "UNTRUSTED_STORE"
    UNKNOWN_FORCE = "UNKNOWN_FORCE"
    NOT_AUTHORISED = "NOT_AUTHORISED"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    UNKNOWN_CASE = "UNKNOWN_CASE"
    RULE_VIOLATION = "RULE_VIOLATION"
    KEY_FILE_INVALID = "KEY_FILE_INVALID"
    BAD_PASSPHRASE = "BAD_PASSPHRASE"
    PROCESSING_FAILED = "PROCESSING_FAILED"
    POLICY_INVALID = "POLICY_INVALID"
    ENVELOPE_ID_REUSED = "ENVELOPE_ID_REUSED"
    # Command-line failures that are not about a message: a file, the database, NATS.
    FILE_ERROR = "FILE_ERROR"
    DATABASE_ERROR = "DATABASE_ERROR"
    NATS_ERROR = "NATS_ERROR"
    # A web account that cannot be made or changed as asked (`crossforce web user ...`).
    ACCOUNT_ERROR = "ACCOUNT_ERROR"
    # No Docker engine or SDK, or an image build that failed (`crossforce deploy *-image`).
    DOCKER_ERROR = "DOCKER_ERROR"


class ContractError(Exception):
    """A refusal with a stable `code` and a one-line human `message`."""

    def __init__(self, code: ReasonCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
