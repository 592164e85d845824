"""What can be commanded: per domain, the actions, the asset types they act on, their parameters.

The table mirrors the actions of docs/feed-protocol.md (section 4.5). It checks parameters
before anything is sent, in words an operator understands, says what the telemetry must show
once a command is applied (`Expect`), and which command returns an asset to automatic
control (`revert`, used to cancel an override).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

ParamValue = str | float | int | bool | None
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class CommandInvalid(ValueError):
    """A command refused before sending; the message says why, `field` names the culprit."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter: a number in a range, a boolean, a choice, or a clock time."""

    kind: str  # number | bool | true | choice | hhmm
    lo: float = 0.0
    hi: float = 0.0
    unit: str = ""
    choices: tuple[str, ...] = ()

    def problem(self, name: str, value: Any) -> str | None:
        """Return why `value` is not acceptable for this parameter, or None."""
        if self.kind == "number":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and self.lo <= value <= self.hi
            return None if ok else f"{name} must be a number from {self.lo:g} to {self.hi:g}{self.unit}, got {value!r}"
        if self.kind == "bool":
            return None if isinstance(value, bool) else f"{name} must be true or false, got {value!r}"
        if self.kind == "true":
            return None if value is True else f"{name} can only be true, got {value!r}"
        if self.kind == "choice":
            return None if value in self.choices else f"{name} must be one of {', '.join(self.choices)}, got {value!r}"
        return None if isinstance(value, str) and _HHMM.match(value) else f"{name} must be a time of day as HH:MM, got {value!r}"


@dataclass(frozen=True, slots=True)
class Expect:
    """What an asset's telemetry shows once the command took effect (commanded vs actual)."""

    field: str
    value: ParamValue
    tolerance: float = 0.0

    def met(self, values: Mapping[str, Any]) -> bool:
        """Does this reading show the commanded value?"""
        got = values.get(self.field)
        if isinstance(self.value, bool) or isinstance(self.value, str):
            return got == self.value
        return isinstance(got, (int, float)) and not isinstance(got, bool) and abs(got - self.value) <= self.tolerance  # type: ignore[operator]


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """One action of one domain: what it acts on and which parameters it takes."""

    domain: str
    name: str
    types: frozenset[str]
    params: Mapping[str, Param]
    required: tuple[str, ...] = ()  # all of these
    one_of: tuple[str, ...] = ()  # exactly one of these
    any_of: tuple[str, ...] = ()  # at least one of these
    areas: bool = False  # may target areas: cabinet, group, street, district, commune ids, a drawn polygon
    send_areas: bool = False  # the supervisor expands area ids itself (lighting); else Vigie sends asset ids
    label: str = ""

    def check(self, params: Mapping[str, Any]) -> dict[str, ParamValue]:
        """Return the given parameters (nulls dropped), or raise CommandInvalid saying what is wrong."""
        given = {k: v for k, v in params.items() if v is not None}
        unknown = sorted(set(given) - set(self.params))
        if unknown:
            allowed = ", ".join(self.params) or "none"
            raise CommandInvalid(f"unexpected parameter {unknown[0]!r} for {self.name} (allowed: {allowed})", unknown[0])
        for name in self.required:
            if name not in given:
                raise CommandInvalid(f"{self.name} needs {name}", name)
        if self.one_of and sum(n in given for n in self.one_of) != 1:
            raise CommandInvalid(f"{self.name} needs exactly one of {' or '.join(self.one_of)}", self.one_of[0])
        if self.any_of and not any(n in given for n in self.any_of):
            raise CommandInvalid(f"{self.name} needs at least one of {', '.join(self.any_of)}", self.any_of[0])
        for name, value in given.items():
            why = self.params[name].problem(name, value)
            if why:
                raise CommandInvalid(why, name)
        if "override_s" in given and (given.get("auto") is True or given.get("plan") == "auto"):
            raise CommandInvalid("override_s makes no sense when returning to automatic control", "override_s")
        return given

    def expect(self, params: Mapping[str, Any]) -> Expect | None:
        """What the telemetry of an applied target must show, or None when it cannot be checked."""
        return EXPECT[self.domain, self.name](params) if (self.domain, self.name) in EXPECT else None

    def revert(self, params: Mapping[str, Any]) -> tuple[str, dict[str, ParamValue]] | None:
        """The command that hands the targets back to automatic control, or None."""
        return REVERT[self.domain, self.name](params) if (self.domain, self.name) in REVERT else None


LIGHTING_OVERRIDE = Param("number", 1, 7 * 86400, " s")
OVERRIDE = Param("number", 60, 86400, " s")
PLANS = ("normal", "peak", "greenWave", "flashingAmber")
_LAMP = frozenset({"Streetlight"})

SPECS: dict[str, dict[str, ActionSpec]] = {
    "lighting": {
        "set_dimming": ActionSpec("lighting", "set_dimming", _LAMP, {"level": Param("number", 0, 100, " %"), "override_s": LIGHTING_OVERRIDE},
                                  required=("level",), areas=True, send_areas=True, label="dimming"),
        "switch": ActionSpec("lighting", "switch", _LAMP, {"on": Param("bool"), "override_s": LIGHTING_OVERRIDE},
                             required=("on",), areas=True, send_areas=True, label="switch on/off"),
        "release": ActionSpec("lighting", "release", _LAMP, {}, areas=True, send_areas=True, label="back to schedule"),
        "set_schedule": ActionSpec("lighting", "set_schedule", frozenset({"StreetlightGroup"}),
                                   {"dim_level": Param("number", 0, 100, " %"), "dim_from": Param("hhmm"), "dim_to": Param("hhmm")},
                                   any_of=("dim_level", "dim_from", "dim_to"), areas=True, label="schedule"),
    },
    "water": {
        "valve": ActionSpec("water", "valve", frozenset({"Valve"}), {"position": Param("number", 0, 100, " % open"), "open": Param("bool")},
                            one_of=("position", "open"), label="valve"),
        "pump": ActionSpec("water", "pump", frozenset({"Pump"}), {"running": Param("bool"), "auto": Param("true"),
                                                                 "override_s": OVERRIDE}, one_of=("running", "auto"), label="pump"),
        "pump_setpoint": ActionSpec("water", "pump_setpoint", frozenset({"Pump"}), {"bar": Param("number", 1, 10, " bar")},
                                    required=("bar",), label="pump setpoint"),
    },
    "traffic": {
        "signal_plan": ActionSpec("traffic", "signal_plan", frozenset({"TrafficSignal"}),
                                  {"plan": Param("choice", choices=PLANS + ("auto",)), "override_s": OVERRIDE},
                                  required=("plan",), areas=True, label="signal plan"),
        "close_segment": ActionSpec("traffic", "close_segment", frozenset({"RoadSegment"}), {}, areas=True, label="close road"),
        "reopen_segment": ActionSpec("traffic", "reopen_segment", frozenset({"RoadSegment"}), {}, areas=True, label="reopen road"),
    },
}


def _valve(p: Mapping[str, Any]) -> Expect:
    return Expect("position", p["position"] / 100.0 if "position" in p else (1.0 if p["open"] else 0.0), 0.02)


EXPECT = {
    ("lighting", "set_dimming"): lambda p: Expect("illuminanceLevel", p["level"] / 100.0, 0.011),
    ("lighting", "switch"): lambda p: Expect("illuminanceLevel", 1.0 if p["on"] else 0.0, 0.011),
    ("lighting", "release"): lambda p: Expect("controlMode", "schedule"),
    ("water", "valve"): _valve,
    ("water", "pump"): lambda p: Expect("running", p["running"]) if "running" in p else None,
    ("water", "pump_setpoint"): lambda p: Expect("setpoint", float(p["bar"]), 0.01),
    ("traffic", "signal_plan"): lambda p: Expect("signalPlan", p["plan"]) if p["plan"] != "auto" else None,
    ("traffic", "close_segment"): lambda p: Expect("closed", True),
    ("traffic", "reopen_segment"): lambda p: Expect("closed", False),
}
REVERT = {
    ("lighting", "set_dimming"): lambda p: ("release", {}),
    ("lighting", "switch"): lambda p: ("release", {}),
    ("water", "pump"): lambda p: ("pump", {"auto": True}) if "running" in p else None,
    ("traffic", "signal_plan"): lambda p: ("signal_plan", {"plan": "auto"}) if p["plan"] != "auto" else None,
}
# What a target shows once handed back to automatic control (checked after an override ends).
RETURNED = {"lighting": Expect("controlMode", "schedule")}


def spec_for(domain: str, action: str) -> ActionSpec:
    """Return an action's spec, or raise CommandInvalid naming what the domain offers."""
    actions = SPECS.get(domain)
    if actions is None:
        raise CommandInvalid(f"unknown domain {domain!r}; choose lighting, water or traffic", "domain")
    spec = actions.get(action)
    if spec is None:
        raise CommandInvalid(f"unknown action {action!r} for {domain}; choose {', '.join(actions)}", "action")
    return spec


@dataclass(frozen=True, slots=True)
class LargeRules:
    """Thresholds beyond which a command needs a reason and a second confirmation."""

    commune_dark_share: float = 0.5  # of a commune's lamps going dark
    commune_min_lamps: int = 50
    dark_lamps: int = 1000
    lamps: int = 5000
    dark_level: float = 10.0  # % of dimming at or below which a lamp counts as dark
    valve_closed_pct: float = 20.0  # a valve at or below this opening counts as closed
    valve_pipes: int = 25  # downstream pipes cut off
    signals: int = 10
    flashing_signals: int = 3
    segments: int = 5
    main_road_per_day: float = 15000.0
    extra: Mapping[str, float] = field(default_factory=dict)
