"""The SLA policy: time limits per step, the time-related conflicts as settings, and the ladder.

Defaults come from domain.md §3, each citing its source. England & Wales timescales "are
intended as a guide" [001 fn4], so the policy is a settings file (broker/data/sla-policy.yaml),
versioned, loaded once at start and refused whole if any part is wrong.

Where the sources disagree (domain.md §9) the limit is not written on the step; it is set once
under `conflicts` and applied to every step it governs, so a force cannot change one step and
forget the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError, model_validator

from crossforce.broker.domain.calendar import calendar_for_force
from crossforce.broker.domain.ladder import EscalationPolicy
from crossforce.contracts.errors import ContractError, ReasonCode

POLICY_VERSION: Final = 1


class TimeUnit(StrEnum):
    CLOCK_HOURS = "clock-hours"
    WORKING_DAYS = "working-days"
    CALENDAR_DAYS = "calendar-days"


class SlaStep(StrEnum):
    """A timed step of a case, named after the source's own step."""

    EW_RTA_INITIAL_CHECKS = "ew-right-to-ask.initial-checks"
    EW_RTA_FACE_TO_FACE = "ew-right-to-ask.face-to-face"
    EW_RTA_FULL_RISK_ASSESSMENT = "ew-right-to-ask.full-risk-assessment"
    EW_RTA_WHOLE_ENQUIRY = "ew-right-to-ask.whole-enquiry"
    EW_RTK_INTELLIGENCE_CHECKS = "ew-right-to-know.intelligence-checks"
    EW_FORUM_REFERRAL = "ew.forum-referral"
    SCOTLAND_STAGE_2_INITIAL_CHECKS = "scotland.stage-2-initial-checks"
    SCOTLAND_STAGE_3_FACE_TO_FACE = "scotland.stage-3-face-to-face"
    SCOTLAND_STAGE_4_DMF_REFERRAL = "scotland.stage-4-dmf-referral"
    SCOTLAND_STAGE_5_DISCLOSURE = "scotland.stage-5-disclosure"
    MARAC_ACTION_PLAN = "marac.action-plan"
    MARAC_MINUTES = "marac.minutes"
    RESPONDING_FORCE_ANSWER = "cross-force.responding-force-answer"


class StepLimit(BaseModel):
    """The effective limit of one step."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    limit: PositiveInt
    unit: TimeUnit
    counts_from: str
    source: str = Field(min_length=1)
    local_policy: bool = False  # no source sets it; a product or force decision


class StepEntry(BaseModel):
    """A step as written in the file: any field left out keeps its default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    limit: PositiveInt | None = None
    unit: TimeUnit | None = None
    counts_from: str | None = None
    source: str | None = Field(default=None, min_length=1)
    local_policy: bool | None = None


class TimeConflicts(BaseModel):
    """domain.md §9 conflicts that touch time, each a setting with the sources' alternatives."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # §9.1: 001 ¶70 (statutory guidance) says 5 working days; APP 002 L1792 says 10.
    categorisation_working_days: Literal[5, 10] = 5
    # §9.2: 001 ¶40 counts from the initial contact; 001 Table 1 from the initial checks.
    face_to_face_counts_from: Literal["initial-contact", "initial-checks"] = "initial-contact"
    # §9.3: 001 ¶74 counts from the concern / no-concern categorisation; 001 Table 1 from
    # step 3 (right to ask) or the intelligence checks (right to know).
    forum_referral_counts_from: Literal[
        "categorisation", "full-risk-assessment-or-intelligence-checks"
    ] = "categorisation"
    # §9.10: 003 §4 says "days" without qualification; read as calendar days by default.
    scottish_day_unit: Literal[TimeUnit.CALENDAR_DAYS, TimeUnit.WORKING_DAYS] = (
        TimeUnit.CALENDAR_DAYS
    )


class ClockSettings(BaseModel):
    """How the statutory step clocks start (crossforce.broker.domain.clocks)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # LOCAL POLICY: no source says how long after the initial contact a case may be opened.
    # Initial contact starts every clock (domain.md §3), so it may not lie after the opening
    # message, nor more than this many calendar days before it: 28, the whole enquiry's
    # limit [001 ¶34(f)], past which every clock would be over on arrival.
    initial_contact_backdating_days: int = Field(default=28, ge=0, le=366)


_S = SlaStep
DEFAULT_STEPS: Final[Mapping[SlaStep, StepLimit]] = MappingProxyType(
    {
        _S.EW_RTA_INITIAL_CHECKS: StepLimit(
            limit=24,
            unit=TimeUnit.CLOCK_HOURS,
            counts_from="initial-contact",
            source="001 ¶34(c), Table 1; 000 §3.4.4",
        ),
        _S.EW_RTA_FACE_TO_FACE: StepLimit(
            limit=10,
            unit=TimeUnit.WORKING_DAYS,
            counts_from="initial-contact",
            source="001 ¶40, Table 1",
        ),
        _S.EW_RTA_FULL_RISK_ASSESSMENT: StepLimit(
            limit=5,
            unit=TimeUnit.WORKING_DAYS,
            counts_from="face-to-face",
            source="001 ¶70, Table 1; 002 L1792",
        ),
        _S.EW_RTA_WHOLE_ENQUIRY: StepLimit(
            limit=28,
            unit=TimeUnit.CALENDAR_DAYS,
            counts_from="initial-contact",
            source="001 ¶34(f)",
        ),
        _S.EW_RTK_INTELLIGENCE_CHECKS: StepLimit(
            limit=5,
            unit=TimeUnit.WORKING_DAYS,
            counts_from="receipt-of-indirect-information",
            source="001 ¶70, Table 1; 002 L1792",
        ),
        _S.EW_FORUM_REFERRAL: StepLimit(
            limit=20,
            unit=TimeUnit.WORKING_DAYS,
            counts_from="categorisation",
            source="001 ¶74, Table 1",
        ),
        _S.SCOTLAND_STAGE_2_INITIAL_CHECKS: StepLimit(
            limit=3,
            unit=TimeUnit.CALENDAR_DAYS,
            counts_from="receipt-of-application",
            source="003 §4, §7.7",
        ),
        _S.SCOTLAND_STAGE_3_FACE_TO_FACE: StepLimit(
            limit=12,
            unit=TimeUnit.CALENDAR_DAYS,
            counts_from="end-of-stage-2",
            source="003 §4, §8.7",
        ),
        _S.SCOTLAND_STAGE_4_DMF_REFERRAL: StepLimit(
            limit=20,
            unit=TimeUnit.CALENDAR_DAYS,
            counts_from="end-of-stage-3",
            source="003 §4, §9.2",
        ),
        _S.SCOTLAND_STAGE_5_DISCLOSURE: StepLimit(
            limit=10,
            unit=TimeUnit.CALENDAR_DAYS,
            counts_from="end-of-stage-4",
            source="003 §4",
        ),
        _S.MARAC_ACTION_PLAN: StepLimit(
            limit=24,
            unit=TimeUnit.CLOCK_HOURS,
            counts_from="meeting",
            source="004 §12.6",
        ),
        _S.MARAC_MINUTES: StepLimit(
            limit=10,
            unit=TimeUnit.WORKING_DAYS,
            counts_from="meeting",
            source="004 §12.6",
        ),
        _S.RESPONDING_FORCE_ANSWER: StepLimit(
            limit=5,
            unit=TimeUnit.WORKING_DAYS,
            counts_from="enquiry-received",
            source="local policy: no source sets a responding force's deadline (domain.md §3)",
            local_policy=True,
        ),
    }
)

_SCOTTISH_STEPS: Final = (
    _S.SCOTLAND_STAGE_2_INITIAL_CHECKS,
    _S.SCOTLAND_STAGE_3_FACE_TO_FACE,
    _S.SCOTLAND_STAGE_4_DMF_REFERRAL,
    _S.SCOTLAND_STAGE_5_DISCLOSURE,
)
# (step, field) -> the `conflicts` setting that decides it.
GOVERNED: Final[Mapping[tuple[SlaStep, str], str]] = MappingProxyType(
    {
        (_S.EW_RTA_FULL_RISK_ASSESSMENT, "limit"): "categorisation_working_days",
        (_S.EW_RTK_INTELLIGENCE_CHECKS, "limit"): "categorisation_working_days",
        (_S.EW_RTA_FACE_TO_FACE, "counts_from"): "face_to_face_counts_from",
        (_S.EW_FORUM_REFERRAL, "counts_from"): "forum_referral_counts_from",
        **{(step, "unit"): "scottish_day_unit" for step in _SCOTTISH_STEPS},
    }
)


# Where a step clock (crossforce.broker.domain.clocks) may count from: initial contact (or
# receipt of the application or information), or the end of an earlier step.
CLOCK_STARTS: Final = frozenset(
    {
        "initial-contact",
        "receipt-of-indirect-information",
        "receipt-of-application",
        "initial-checks",
        "face-to-face",
        "categorisation",
        "full-risk-assessment-or-intelligence-checks",
        "end-of-stage-2",
        "end-of-stage-3",
        "end-of-stage-4",
    }
)
# Steps timed on other things than the case's own steps.
NOT_CLOCKS: Final = frozenset(
    {SlaStep.MARAC_ACTION_PLAN, SlaStep.MARAC_MINUTES, SlaStep.RESPONDING_FORCE_ANSWER}
)


class _FieldProblem(ValueError):
    """A whole-model check that knows which field is wrong, for the one-line error."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field


class SlaPolicy(BaseModel):
    """The whole policy file. Build with `load_policy`; `SlaPolicy()` is the built-in default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = POLICY_VERSION
    conflicts: TimeConflicts = Field(default_factory=TimeConflicts)
    steps: dict[SlaStep, StepEntry] = Field(default_factory=dict)
    clocks: ClockSettings = Field(default_factory=ClockSettings)
    escalation: EscalationPolicy = Field(default_factory=EscalationPolicy)

    @model_validator(mode="after")
    def _conflicts_are_set_in_one_place(self) -> SlaPolicy:
        for step, entry in self.steps.items():
            if (
                entry.counts_from is not None
                and step not in NOT_CLOCKS
                and entry.counts_from not in CLOCK_STARTS
            ):
                # A clock whose start is unknown would silently never run.
                raise _FieldProblem(
                    f"steps.{step}.counts_from",
                    f"a step clock counts from one of {', '.join(sorted(CLOCK_STARTS))}",
                )
            for field in sorted(entry.model_fields_set):
                setting = GOVERNED.get((step, field))
                if setting is not None:
                    raise _FieldProblem(
                        f"steps.{step}.{field}", f"is decided by conflicts.{setting}; set it there"
                    )
        return self

    def limit_for(self, step: SlaStep) -> StepLimit:
        """Default, then the file's entry, then the conflict setting that governs the step."""
        return self._limits[step]

    @cached_property
    def _limits(self) -> Mapping[SlaStep, StepLimit]:
        # The policy is frozen, and every message asks for its clocks' limits again.
        return MappingProxyType({step: self._limit(step) for step in SlaStep})

    def _limit(self, step: SlaStep) -> StepLimit:
        values: dict[str, Any] = DEFAULT_STEPS[step].model_dump()
        entry = self.steps.get(step)
        if entry is not None:
            values.update(entry.model_dump(exclude_unset=True))
        for (governed_step, field), setting in GOVERNED.items():
            if governed_step is step:
                values[field] = getattr(self.conflicts, setting)
        return StepLimit(**values)


class PolicyFileError(ContractError):
    """A policy file that cannot be used; refused at start with one line naming file and field."""

    def __init__(self, path: str, field: str | None, problem: str) -> None:
        where = f"{path}: {field}" if field else path
        super().__init__(ReasonCode.POLICY_INVALID, f"SLA policy {where}: {problem}")
        self.path = path
        self.field = field
        self.problem = problem


def _field_of(loc: tuple[int | str, ...]) -> str:
    # Pydantic puts model-validator errors at the model's location; drop its internal markers.
    return ".".join(str(part) for part in loc if not str(part).startswith("function-")) or "(top)"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def parse_policy(data: Any, path: str = "<policy>") -> SlaPolicy:
    if not isinstance(data, dict):
        raise PolicyFileError(path, None, "the file must be a mapping with a 'version' key")
    if "version" not in data:
        raise PolicyFileError(
            path, "version", f"missing; this build reads version {POLICY_VERSION}"
        )
    try:
        return SlaPolicy.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        problem = _one_line(str(first["msg"]).removeprefix("Value error, "))
        field = _field_of(tuple(first["loc"]))
        cause = first.get("ctx", {}).get("error")
        if isinstance(cause, _FieldProblem):
            field = cause.field
        if len(errors) > 1:
            problem += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        raise PolicyFileError(path, field, problem) from None


def default_policy_text() -> str:
    return (
        resources.files("crossforce.broker")
        .joinpath("data/sla-policy.yaml")
        .read_text(encoding="utf-8")
    )


def load_policy(path: str | Path | None = None) -> SlaPolicy:
    """Load and check a policy file (the packaged default when `path` is None).

    Every failure is a PolicyFileError whose one-line message names the file and the field.
    """
    if path is None:
        name, text = "broker/data/sla-policy.yaml", default_policy_text()
    else:
        name = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise PolicyFileError(name, None, f"cannot be read ({exc.strerror})") from None
        except UnicodeDecodeError:
            raise PolicyFileError(name, None, "is not UTF-8 text") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        problem = _one_line(str(getattr(exc, "problem", None) or exc))
        raise PolicyFileError(name, where, f"is not valid YAML ({problem})") from None
    return parse_policy(data, name)


def due_at(
    step: SlaStep, started_at: datetime, owner_force_code: str, policy: SlaPolicy
) -> datetime:
    """When `step`, started at `started_at`, falls due for the force that owns it.

    Working days are the owner's: a Police Scotland part counts Scottish bank holidays even
    when the co-ordinating force is English.
    """
    return _due(policy.limit_for(step), started_at, owner_force_code)


@lru_cache(maxsize=4096)
def _due(limit: StepLimit, started_at: datetime, owner_force_code: str) -> datetime:
    # Pure: the same limit, start and owner always fall due at the same time, and every
    # message of a case asks again for its clocks' due times. Bounded to the clocks of the
    # cases in hand: every message brings new start times, so a large bound only grows the
    # hub's memory for hours (65,536 entries were some 15 MB, reached after 11 minutes at
    # 100 msg/s).
    calendar = calendar_for_force(owner_force_code)
    if limit.unit is TimeUnit.CLOCK_HOURS:
        return calendar.clock_hours_after(started_at, limit.limit)
    if limit.unit is TimeUnit.WORKING_DAYS:
        return calendar.working_days_after(started_at, limit.limit)
    return calendar.calendar_days_after(started_at, limit.limit)
