"""The end-of-case intelligence-submission ledger.

An append-only RFC 9162 Merkle log of final intelligence reports (001 ¶92-93), with signed
C2SP checkpoints, inclusion and consistency proofs, personal fields crypto-shredded on MOPI
disposal, and DPA 2018 s.62 logging of every consultation (architecture decision 9).
"""

from crossforce.ledger.access import AccessAction, AccessRecord
from crossforce.ledger.checkpoints import (
    Checkpoint,
    CheckpointError,
    NoteVerifier,
    parse_checkpoint,
    sign_checkpoint,
    verify_checkpoint,
)
from crossforce.ledger.entry import LedgerEntry, PersonalDetails, PersonalParty, PublicSubmission
from crossforce.ledger.errors import EntryNotFound, LedgerError, PersonalDataDisposed
from crossforce.ledger.facade import DEFAULT_ORIGIN, Ledger, StoredEntry, Submission
from crossforce.ledger.key_material import (
    MASTER_KEY_ENV,
    MASTER_KEY_FILE_ENV,
    SUBJECT_KEY_ENV,
    SUBJECT_KEY_FILE_ENV,
    generate_secret,
)
from crossforce.ledger.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)
from crossforce.ledger.proofs import ConsistencyProof, InclusionProof, TreeHead
from crossforce.ledger.retention import Disposal
from crossforce.ledger.store import Appended
from crossforce.ledger.subject_key import normalise_identity, subject_key
from crossforce.ledger.verify import Problem, ProblemKind, PublishedCheckpoint, VerificationReport

__all__ = [
    "DEFAULT_ORIGIN",
    "EMPTY_ROOT",
    "MASTER_KEY_ENV",
    "MASTER_KEY_FILE_ENV",
    "SUBJECT_KEY_ENV",
    "SUBJECT_KEY_FILE_ENV",
    "AccessAction",
    "AccessRecord",
    "Appended",
    "Checkpoint",
    "CheckpointError",
    "ConsistencyProof",
    "Disposal",
    "EntryNotFound",
    "InclusionProof",
    "Ledger",
    "LedgerEntry",
    "LedgerError",
    "MemoryTree",
    "NoteVerifier",
    "PersonalDataDisposed",
    "PersonalDetails",
    "PersonalParty",
    "Problem",
    "ProblemKind",
    "PublicSubmission",
    "PublishedCheckpoint",
    "StoredEntry",
    "Submission",
    "TreeHead",
    "VerificationReport",
    "generate_secret",
    "leaf_hash",
    "node_hash",
    "normalise_identity",
    "parse_checkpoint",
    "sign_checkpoint",
    "subject_key",
    "verify_checkpoint",
    "verify_consistency",
    "verify_inclusion",
]
