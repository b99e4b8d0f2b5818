"""Suggest a party's home force from a postcode (domain.md §1.2: responding forces are where
parties live).

The table in `contracts/data/postcode_districts.csv` is approximate: postcode districts do
not follow police boundaries. It maps postcode areas ("ME") and, where an area straddles
forces, individual districts ("TN34", "EC1A"). Lookup takes the most specific entry: the
full outward code, then area + district number, then the area. This is a structural match,
not a raw string prefix, so "RH1" never answers for "RH10".
"""

from __future__ import annotations

import csv
import io
import re
from functools import cache
from pathlib import Path

from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.forces import FORCES, POLICE_SCOTLAND

DATA_FILE = "postcode_districts.csv"
DIVISIONS_FILE = "scottish_divisions.csv"

# Outward code: area letters, district digits, optional sub-district letter ("EC1A", "W1J").
_OUTWARD = re.compile(r"^(?P<area>[A-Z]{1,2})(?P<digits>[0-9]{1,2})(?P<sub>[A-Z]?)$")
_AREA = re.compile(r"^[A-Z]{1,2}$")
# A full postcode ends with an inward code: one digit and two letters.
_INWARD = re.compile(r"[0-9][A-Z]{2}$")


@cache
def postcode_table() -> dict[str, str]:
    """Prefix (area or district) -> force code, from the packaged CSV."""
    # Next to this module, not files("contracts"): the package name is not unique on sys.path
    # in every test layout.
    text = (Path(__file__).parent / "data" / DATA_FILE).read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO("".join(_data_lines(text))))
    table: dict[str, str] = {}
    for row in rows:
        prefix, force = row["prefix"].strip().upper(), row["force"].strip()
        if prefix in table:
            raise ValueError(f"{DATA_FILE}: {prefix} is listed twice")
        if force not in FORCES:
            raise ValueError(f"{DATA_FILE}: {prefix} maps to unknown force {force}")
        table[prefix] = force
    return table


@cache
def division_table() -> dict[str, str]:
    """Prefix (area or district) -> Police Scotland division letter (003 §9.11)."""
    text = (Path(__file__).parent / "data" / DIVISIONS_FILE).read_text(encoding="utf-8")
    table: dict[str, str] = {}
    for row in csv.DictReader(io.StringIO("".join(_data_lines(text)))):
        prefix, letter = row["prefix"].strip().upper(), row["division"].strip()
        if prefix in table:
            raise ValueError(f"{DIVISIONS_FILE}: {prefix} is listed twice")
        if f"{POLICE_SCOTLAND}_{letter}" not in FORCES:
            raise ValueError(f"{DIVISIONS_FILE}: {prefix} maps to unknown division {letter}")
        table[prefix] = letter
    return table


def division_for_postcode(postcode_or_district: str) -> str | None:
    """The Police Scotland division letter of a Scottish postcode or district, or None when
    it is not in Scotland (or not in the table)."""
    if force_for_postcode(postcode_or_district) != POLICE_SCOTLAND:
        return None
    return _most_specific(outward_code(postcode_or_district), division_table())


def _most_specific(outward: str, table: dict[str, str]) -> str | None:
    match = _OUTWARD.match(outward)
    candidates = [outward]
    if match:
        candidates += [match["area"] + match["digits"], match["area"]]
    return next((table[c] for c in candidates if c in table), None)


def _data_lines(text: str) -> list[str]:
    return [line for line in text.splitlines(keepends=True) if not line.startswith("#")]


def outward_code(postcode_or_district: str) -> str:
    """'tn34 1aa' -> 'TN34'; 'TN34' -> 'TN34'; 'TN' -> 'TN'. Raises for anything else."""
    compact = re.sub(r"\s+", "", postcode_or_district.upper())
    if len(compact) >= 5 and _INWARD.search(compact):
        compact = compact[:-3]
    if _OUTWARD.match(compact) or _AREA.match(compact):
        return compact
    raise ContractError(
        ReasonCode.UNKNOWN_FORCE, f"{postcode_or_district!r} is not a UK postcode or district"
    )


def force_for_postcode(postcode_or_district: str) -> str:
    """The force code for a postcode, district or area, by the most specific table entry."""
    outward = outward_code(postcode_or_district)
    table = postcode_table()
    match = _OUTWARD.match(outward)
    candidates = [outward]
    if match:
        candidates += [match["area"] + match["digits"], match["area"]]
    for candidate in candidates:
        if candidate in table:
            return table[candidate]
    raise ContractError(
        ReasonCode.UNKNOWN_FORCE,
        f"no force for postcode {postcode_or_district!r} (area {candidates[-1]} is not mapped)",
    )
