"""Training scenarios: events to inject into a replay session at given times, written once in YAML.

    version: 1
    name: Soirée agitée
    speed: 10                       # suggested
    start: 2026-06-21T18:00:00+02:00  # suggested recorded period (optional)
    end: 2026-06-21T21:00:00+02:00
    reference: soiree_agitee.reference.json   # a reference run's debrief, next to this file (optional)
    events:
      - at: "00:05:00"              # after the session's start: seconds, "mm:ss", "hh:mm:ss" or "5m"
        event: pipe_burst           # pipe_burst | cabinet_trip | traffic_incident | supervisor_silent
        target: pipe-0042           # optional: Vigie picks a sensible one (the largest main, the busiest road, ...)
        minutes: 120
        flow_m3h: 180

Files live in services/data/scenarios/*.yaml; a trainer can also upload one.
"""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import yaml
from msgspec import Meta, Struct

from services.settings import PROJECT_ROOT

SCENARIO_DIR = PROJECT_ROOT / "services" / "data" / "scenarios"
EVENTS = ("pipe_burst", "cabinet_trip", "traffic_incident", "supervisor_silent")
EVENT_DOMAIN = {"pipe_burst": "water", "cabinet_trip": "lighting", "traffic_incident": "traffic", "supervisor_silent": None}
DEFAULT_MINUTES = {"pipe_burst": 180.0, "cabinet_trip": 40.0, "traffic_incident": 60.0, "supervisor_silent": 5.0}
MAX_BYTES = 64 * 1024
_OFFSET = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})$")
_UNIT = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|min|h)$")
Name = Annotated[str, Meta(max_length=200, pattern=r"^[^<>\x00-\x1f\x7f]*\Z")]
Words = Annotated[str, Meta(max_length=2000, pattern=r"^[^<>\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*\Z")]
TargetId = Annotated[str, Meta(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9:._~@/+-]+\Z")]


class ScenarioError(ValueError):
    """A scenario that cannot be used; the text says what and where."""


class ScenarioEvent(Struct, forbid_unknown_fields=True, frozen=True):
    """One event of an exercise, `at` seconds after the session's start."""

    at: Annotated[float, Meta(ge=0, le=7 * 86400)]
    event: Literal["pipe_burst", "cabinet_trip", "traffic_incident", "supervisor_silent"]
    target: TargetId | None = None
    minutes: Annotated[float, Meta(gt=0, le=24 * 60)] | None = None
    flow_m3h: Annotated[float, Meta(gt=0, le=2000)] = 150.0
    note: Words = ""

    @property
    def duration_s(self) -> float:
        """How long the event lasts (its default when not given)."""
        return 60.0 * (self.minutes if self.minutes is not None else DEFAULT_MINUTES[self.event])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return msgspec.to_builtins(self)


class Scenario(Struct, forbid_unknown_fields=True, frozen=True):
    """An exercise: its events, and optionally a suggested period and a reference run."""

    name: Name
    version: Literal[1] = 1
    description: Words = ""
    speed: Annotated[float, Meta(ge=1, le=60)] = 1.0
    start: datetime | None = None
    end: datetime | None = None
    reference: Annotated[str, Meta(max_length=200, pattern=r"^[A-Za-z0-9_.-]+\.json\Z")] | None = None
    events: Annotated[list[ScenarioEvent], Meta(max_length=500)] = []

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return msgspec.to_builtins(self)


def offset_s(raw: Any) -> float:
    """Seconds from an offset written as a number, "mm:ss", "hh:mm:ss" or "90s" / "5m" / "1.5h"."""
    if isinstance(raw, bool):
        raise ScenarioError(f"not a time offset: {raw!r}")
    if isinstance(raw, (int, float)):
        return float(raw)
    text = str(raw).strip().lower()
    if m := _OFFSET.match(text):
        return int(m[1] or 0) * 3600 + int(m[2]) * 60 + int(m[3])
    if m := _UNIT.match(text):
        return float(m[1]) * {"s": 1, "m": 60, "min": 60, "h": 3600}[m[2]]
    raise ScenarioError(f"not a time offset: {str(raw)[:40]!r} (write seconds, mm:ss, hh:mm:ss or 5m)")


def parse_scenario(text: str | bytes) -> Scenario:
    """Read a scenario from YAML text; ScenarioError says what is wrong."""
    if len(text) > MAX_BYTES:
        raise ScenarioError(f"a scenario file is at most {MAX_BYTES // 1024} KiB")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ScenarioError(f"not YAML: {err}") from None
    if not isinstance(raw, dict):
        raise ScenarioError("a scenario is a mapping with at least a name and events")
    events = raw.get("events") or []
    if not isinstance(events, list):
        raise ScenarioError("events must be a list")
    try:
        raw["events"] = [{**e, "at": offset_s(e.get("at", 0))} if isinstance(e, dict) else e for e in events]
        for key in ("start", "end"):
            if isinstance(raw.get(key), datetime):
                raw[key] = raw[key].isoformat()
        scenario = msgspec.convert(raw, Scenario)
    except msgspec.ValidationError as err:
        raise ScenarioError(str(err)) from None
    if scenario.start and scenario.end and scenario.end <= scenario.start:
        raise ScenarioError("end must come after start")
    return scenario


def load_scenario(name: str, directory: Path = SCENARIO_DIR) -> Scenario:
    """A scenario file of the folder, by file name."""
    path = _inside(directory, name)
    if path.suffix not in (".yaml", ".yml") or not path.is_file():
        raise ScenarioError(f"no scenario {name!r}")
    return parse_scenario(path.read_bytes())


def list_scenarios(directory: Path = SCENARIO_DIR) -> list[dict[str, Any]]:
    """Every readable scenario of the folder: file, name, description, events (broken ones say why)."""
    out = []
    for path in sorted(directory.glob("*.y*ml")):
        try:
            s = parse_scenario(path.read_bytes())
            out.append({"file": path.name, "name": s.name, "description": s.description, "speed": s.speed,
                        "events": len(s.events), "reference": s.reference is not None})
        except (ScenarioError, OSError) as err:
            out.append({"file": path.name, "error": str(err)})
    return out


def reference_of(scenario: Scenario, directory: Path = SCENARIO_DIR) -> dict | None:
    """The scenario's reference debrief (a previous run exported as JSON), or None."""
    if scenario.reference is None:
        return None
    path = _inside(directory, scenario.reference)
    try:
        return msgspec.json.decode(path.read_bytes())
    except (OSError, msgspec.DecodeError) as err:
        raise ScenarioError(f"reference run {scenario.reference!r} unreadable: {err}") from None


def _inside(directory: Path, name: str) -> Path:
    path = (directory / name).resolve()
    if path.parent != directory.resolve():
        raise ScenarioError(f"no scenario {name[:80]!r}")
    return path
