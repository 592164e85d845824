"""What the lighting supervisor's commands may say: the actions, their parameters, the group schedules.

`refusal` is the whole check of a command against the world (action, targets, parameters),
in plain words an operator understands; `Schedule` is the night programme `set_schedule`
changes. Both are pure: the simulator applies what passes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from services.contract import AssetDef, Command

from .lighting_world import LightingWorld
from .params import is_number

ACTIONS = ("set_dimming", "switch", "release", "set_schedule")
PARAMS = {"set_dimming": {"level", "override_s"}, "switch": {"on", "override_s"}, "release": set(), "set_schedule": {"dim_level", "dim_from", "dim_to"}}
MAX_OVERRIDE_S = 7 * 86400
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True, slots=True)
class Schedule:
    """A group's night programme: full power from dusk, dimmed between two clock times, full until dawn."""

    dim_level: int = 50  # percent of nominal output while dimmed
    dim_from: str = "23:00"
    dim_to: str = "05:00"

    def level(self, dark: bool, minute: int) -> float:
        """Return the light output (0..1) the schedule asks for at a local minute of the day."""
        if not dark:
            return 0.0
        start, end = _minutes(self.dim_from), _minutes(self.dim_to)
        dimmed = start <= minute < end if start <= end else (minute >= start or minute < end)
        return self.dim_level / 100.0 if dimmed else 1.0

    def updated(self, params: dict) -> Schedule:
        """Return this schedule with the given `set_schedule` parameters changed."""
        return replace(
            self, dim_level=round(params.get("dim_level", self.dim_level)), dim_from=params.get("dim_from", self.dim_from),
            dim_to=params.get("dim_to", self.dim_to),
        )


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def group_assets(world: LightingWorld, schedules: list[Schedule]) -> list[AssetDef]:
    """Return the schedule groups as assets, each with its current programme."""
    return [
        AssetDef(id=g, type="StreetlightGroup", name=world.group_names[n], refs=world.group_refs[n], props={
            "lamps": len(world.group_lamps[n]), "dimLevel": schedules[n].dim_level,
            "dimFrom": schedules[n].dim_from, "dimTo": schedules[n].dim_to,
        })
        for n, g in enumerate(world.group_ids)
    ]


def given(params: dict) -> dict:
    """Return the parameters that have a value (a null parameter counts as not given)."""
    return {k: v for k, v in params.items() if v is not None}


def refusal(world: LightingWorld, cmd: Command) -> str | None:
    """Return why a command is refused, in plain words, or None."""
    if cmd.action not in ACTIONS:
        return f"unknown action {cmd.action!r}; this supervisor knows {', '.join(ACTIONS)}"
    if not cmd.targets:
        return "no target given"
    known = set(world.group_ids) if cmd.action == "set_schedule" else world.targets
    unknown = [t for t in cmd.targets if t not in known]
    if unknown:
        if cmd.action == "set_schedule" and unknown[0] in world.targets:
            return f"set_schedule applies to schedule groups ({world.group_ids[0]}, ...), not to {unknown[0]!r}"
        more = f" and {len(unknown) - 1} more" if len(unknown) > 1 else ""
        return f"unknown target {unknown[0]!r}{more}"
    return _check_params(cmd.action, given(cmd.params))


def _check_params(action: str, params: dict) -> str | None:
    """Return why a command's parameters are wrong, or None."""
    unknown = sorted(set(params) - PARAMS[action])
    if unknown:
        allowed = ", ".join(sorted(PARAMS[action])) or "none"
        return f"unexpected parameter {unknown[0]!r} for {action} (allowed: {allowed})"
    if action == "set_dimming":
        if "level" not in params:
            return "set_dimming needs a level from 0 to 100"
        if not is_number(params["level"]) or not 0 <= params["level"] <= 100:
            return f"level must be a number from 0 to 100, got {params['level']!r}"
    if action == "switch" and not isinstance(params.get("on"), bool):
        return f"switch needs on = true or false, got {params.get('on')!r}"
    if "override_s" in params and not (is_number(params["override_s"]) and 0 < params["override_s"] <= MAX_OVERRIDE_S):
        return f"override_s must be a number of seconds from 1 to {MAX_OVERRIDE_S}, got {params['override_s']!r}"
    if action == "set_schedule":
        if not params:
            return "set_schedule needs dim_level, dim_from or dim_to"
        if "dim_level" in params and not (is_number(params["dim_level"]) and 0 <= params["dim_level"] <= 100):
            return f"dim_level must be a number from 0 to 100, got {params['dim_level']!r}"
        for key in ("dim_from", "dim_to"):
            if key in params and not (isinstance(params[key], str) and _HHMM.match(params[key])):
                return f"{key} must be a time of day as HH:MM, got {params[key]!r}"
    return None
