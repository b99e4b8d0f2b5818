"""Entry routes and the kinds of request received at initial contact (domain.md §2, §4)."""

from __future__ import annotations

from enum import StrEnum


class Route(StrEnum):
    RIGHT_TO_ASK = "right-to-ask"  # E&W and Scotland: A or C applies
    RIGHT_TO_KNOW = "right-to-know"  # E&W: police act on indirect information
    POWER_TO_TELL = "power-to-tell"  # Scotland


class RequestType(StrEnum):
    """What the request really is. Only GENUINE starts a DVDS / DSDAS case (§4 item 1)."""

    GENUINE = "genuine"
    DBS_CHECK = "dbs-check"
    SUBJECT_ACCESS_REQUEST = "subject-access-request"
    FREEDOM_OF_INFORMATION = "freedom-of-information"


class DeliveryMethod(StrEnum):
    IN_PERSON = "in-person"
    VIDEO = "video"  # E&W only: face to face by video [001 ¶84(c)]
    LETTER = "letter"  # only for non-disclosure, and only when the setting allows it
