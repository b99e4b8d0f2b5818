"""Postcode -> home force suggestions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.forces import FORCES, ParticipantKind
from crossforce.contracts.postcodes import (
    division_for_postcode,
    force_for_postcode,
    outward_code,
    postcode_table,
)

TABLE = postcode_table()
AREAS = {prefix for prefix in TABLE if prefix.isalpha()}


@pytest.mark.parametrize(
    ("postcode", "force"),
    [
        ("ME14 5AB", "KENT"),
        ("me14 5ab", "KENT"),
        ("ME145AB", "KENT"),
        ("CM1", "ESSEX"),
        ("GU1 1AA", "SURREY"),
        ("GU14 6XX", "HAMPSHIRE"),  # Farnborough: Surrey's GU area, Hampshire's force
        ("TN1 1AA", "KENT"),
        ("TN34 1AA", "SUSSEX"),  # Hastings
        ("RH1 1AA", "SURREY"),
        ("RH10 1AA", "SUSSEX"),  # Crawley: RH1 must not answer for RH10
        ("EC1A 1BB", "CITY_OF_LONDON"),
        ("EC1V 2NX", "METROPOLITAN"),
        ("EC2M 4AA", "CITY_OF_LONDON"),
        ("SW1A 1AA", "METROPOLITAN"),
        ("EH1 1YZ", "PSOS"),
        ("G2 1AA", "PSOS"),
        ("TD15 1AA", "NORTHUMBRIA"),  # Berwick: an English district in a Scottish area
        ("TD1 1AA", "PSOS"),
        ("BT1 1AA", "PSNI"),
        ("CF10 1AA", "SOUTH_WALES"),
        ("LL57 1AA", "NORTH_WALES"),
        ("B97 4AA", "WEST_MERCIA"),
        ("ME", "KENT"),
    ],
)
def test_known_postcodes(postcode: str, force: str) -> None:
    assert force_for_postcode(postcode) == force


@pytest.mark.parametrize(
    "value", ["JE2 3AB", "GY1 1AA", "IM1 1AA", "ZZ9 9ZZ", "", "12345", "not a postcode"]
)
def test_unknown_or_malformed_is_unknown_force(value: str) -> None:
    with pytest.raises(ContractError) as caught:
        force_for_postcode(value)
    assert caught.value.code is ReasonCode.UNKNOWN_FORCE


def test_table_covers_great_britain_and_northern_ireland() -> None:
    assert len(AREAS) >= 118
    assert {
        "AB",
        "DD",
        "DG",
        "EH",
        "FK",
        "G",
        "HS",
        "IV",
        "KA",
        "KW",
        "KY",
        "ML",
        "PA",
        "PH",
        "TD",
        "ZE",
    } <= AREAS
    assert all(TABLE[a] == "PSOS" for a in ("AB", "DD", "EH", "G", "IV", "ZE"))


def test_every_territorial_force_is_reachable_and_every_code_is_known() -> None:
    assert set(TABLE.values()) <= set(FORCES)
    territorial = {c for c, f in FORCES.items() if f.kind is ParticipantKind.TERRITORIAL_FORCE}
    assert territorial <= set(TABLE.values())


def test_outward_code() -> None:
    assert outward_code(" sw1a 1aa ") == "SW1A"
    assert outward_code("B1 1AA") == "B1"
    assert outward_code("B11") == "B11"


@given(
    prefix=st.sampled_from(sorted(TABLE)),
    inward=st.from_regex(r"[0-9][ABD-HJLNP-UW-Z]{2}", fullmatch=True),
)
def test_a_full_postcode_resolves_like_its_district(prefix: str, inward: str) -> None:
    district = prefix if not prefix.isalpha() else f"{prefix}1"
    assert force_for_postcode(f"{district} {inward}") == force_for_postcode(district)
    if not prefix.isalpha():
        # A district entry wins over its area's default.
        assert force_for_postcode(district) == TABLE[prefix]


@pytest.mark.parametrize(
    ("district", "division"),
    [
        ("EH6", "E"),  # Edinburgh City
        ("EH26", "J"),  # the Lothians
        ("G1", "G"),  # Greater Glasgow
        ("G84", "L"),  # Helensburgh: Argyll and West Dunbartonshire
        ("PA15", "K"),  # Greenock: Renfrewshire and Inverclyde
        ("PA34", "L"),  # Oban
        ("PH33", "N"),  # Fort William
        ("AB10 1AA", "A"),
    ],
)
def test_a_scottish_postcode_names_its_police_division(district: str, division: str) -> None:
    assert division_for_postcode(district) == division


def test_outside_scotland_there_is_no_division() -> None:
    assert division_for_postcode("TD15") is None  # Berwick is Northumbria's
    assert division_for_postcode("ME14") is None
