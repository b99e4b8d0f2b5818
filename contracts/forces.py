"""The force directory: every UK territorial force, BTP, Police Scotland's divisional DMFs, PSNI.

Each entry carries the bank-holiday subdivision used for working-day arithmetic
(`holidays` UK subdivisions ENG, WLS, SCT, NIR; domain.md §10).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from crossforce.contracts.envelope import Jurisdiction
from crossforce.contracts.errors import ContractError, ReasonCode


class ParticipantKind(StrEnum):
    TERRITORIAL_FORCE = "territorial-force"
    NATIONAL_FORCE = "national-force"
    DMF = "decision-making-forum"
    # A force's Professional Standards Department: told when a police employee of its force is
    # a party, with a delivery queue and credentials of its own (002 L899–975; 003 §6.14).
    PSD = "professional-standards"


@dataclass(frozen=True, slots=True)
class Force:
    code: str
    name: str
    jurisdiction: Jurisdiction
    holiday_subdivision: str
    kind: ParticipantKind = ParticipantKind.TERRITORIAL_FORCE
    parent: str | None = None  # a DMF's or a PSD's force (PSOS, KENT)


_EW = Jurisdiction.ENGLAND_WALES
_ENGLAND = [
    ("AVON_SOMERSET", "Avon and Somerset Constabulary"),
    ("BEDFORDSHIRE", "Bedfordshire Police"),
    ("CAMBRIDGESHIRE", "Cambridgeshire Constabulary"),
    ("CHESHIRE", "Cheshire Constabulary"),
    ("CITY_OF_LONDON", "City of London Police"),
    ("CLEVELAND", "Cleveland Police"),
    ("CUMBRIA", "Cumbria Constabulary"),
    ("DERBYSHIRE", "Derbyshire Constabulary"),
    ("DEVON_CORNWALL", "Devon and Cornwall Police"),
    ("DORSET", "Dorset Police"),
    ("DURHAM", "Durham Constabulary"),
    ("ESSEX", "Essex Police"),
    ("GLOUCESTERSHIRE", "Gloucestershire Constabulary"),
    ("GREATER_MANCHESTER", "Greater Manchester Police"),
    ("HAMPSHIRE", "Hampshire and Isle of Wight Constabulary"),
    ("HERTFORDSHIRE", "Hertfordshire Constabulary"),
    ("HUMBERSIDE", "Humberside Police"),
    ("KENT", "Kent Police"),
    ("LANCASHIRE", "Lancashire Constabulary"),
    ("LEICESTERSHIRE", "Leicestershire Police"),
    ("LINCOLNSHIRE", "Lincolnshire Police"),
    ("MERSEYSIDE", "Merseyside Police"),
    ("METROPOLITAN", "Metropolitan Police Service"),
    ("NORFOLK", "Norfolk Constabulary"),
    ("NORTH_YORKSHIRE", "North Yorkshire Police"),
    ("NORTHAMPTONSHIRE", "Northamptonshire Police"),
    ("NORTHUMBRIA", "Northumbria Police"),
    ("NOTTINGHAMSHIRE", "Nottinghamshire Police"),
    ("SOUTH_YORKSHIRE", "South Yorkshire Police"),
    ("STAFFORDSHIRE", "Staffordshire Police"),
    ("SUFFOLK", "Suffolk Constabulary"),
    ("SURREY", "Surrey Police"),
    ("SUSSEX", "Sussex Police"),
    ("THAMES_VALLEY", "Thames Valley Police"),
    ("WARWICKSHIRE", "Warwickshire Police"),
    ("WEST_MERCIA", "West Mercia Police"),
    ("WEST_MIDLANDS", "West Midlands Police"),
    ("WEST_YORKSHIRE", "West Yorkshire Police"),
    ("WILTSHIRE", "Wiltshire Police"),
]
_WALES = [
    ("DYFED_POWYS", "Dyfed-Powys Police"),
    ("GWENT", "Gwent Police"),
    ("NORTH_WALES", "North Wales Police"),
    ("SOUTH_WALES", "South Wales Police"),
]
# Police Scotland's 13 local policing divisions, each with its own DMF (003 §9.11).
_SCOTTISH_DIVISIONS = [
    ("A", "North East"),
    ("C", "Forth Valley"),
    ("D", "Tayside"),
    ("E", "Edinburgh City"),
    ("G", "Greater Glasgow"),
    ("J", "The Lothians and Scottish Borders"),
    ("K", "Renfrewshire and Inverclyde"),
    ("L", "Argyll and West Dunbartonshire"),
    ("N", "Highland and Islands"),
    ("P", "Fife"),
    ("Q", "Lanarkshire"),
    ("U", "Ayrshire"),
    ("V", "Dumfries and Galloway"),
]

POLICE_SCOTLAND = "PSOS"


def _build() -> dict[str, Force]:
    forces = [Force(code, name, _EW, "ENG") for code, name in _ENGLAND]
    forces += [Force(code, name, _EW, "WLS") for code, name in _WALES]
    forces.append(
        Force("BTP", "British Transport Police", _EW, "ENG", ParticipantKind.NATIONAL_FORCE)
    )
    forces.append(Force(POLICE_SCOTLAND, "Police Scotland", Jurisdiction.SCOTLAND, "SCT"))
    forces += [
        Force(
            f"{POLICE_SCOTLAND}_{letter}",
            f"Police Scotland {letter} Division ({name}) DMF",
            Jurisdiction.SCOTLAND,
            "SCT",
            ParticipantKind.DMF,
            POLICE_SCOTLAND,
        )
        for letter, name in _SCOTTISH_DIVISIONS
    ]
    forces.append(
        Force("PSNI", "Police Service of Northern Ireland", Jurisdiction.NORTHERN_IRELAND, "NIR")
    )
    forces += [
        Force(
            psd_for(force.code),
            f"{force.name} Professional Standards Department",
            force.jurisdiction,
            force.holiday_subdivision,
            ParticipantKind.PSD,
            force.code,
        )
        for force in list(forces)
        if force.kind is not ParticipantKind.DMF
    ]
    return {force.code: force for force in forces}


def psd_for(code: str) -> str:
    """The participant code of force `code`'s Professional Standards Department."""
    return f"{code}_PSD"


FORCES: dict[str, Force] = _build()


def get_force(code: str) -> Force:
    try:
        return FORCES[code]
    except KeyError:
        raise ContractError(
            ReasonCode.UNKNOWN_FORCE, f"{code!r} is not in the force directory"
        ) from None


def dmf_for_division(letter: str) -> Force:
    return get_force(f"{POLICE_SCOTLAND}_{letter}")
