"""What the water supervisor's commands may say: move valves, start or stop pumps, change setpoints.

`refusal` is the whole check of a command (action, target types, parameters), in plain words
an operator understands; it is pure, and the simulator applies what passes.
"""
from __future__ import annotations

from collections.abc import Mapping

from services.contract import Command

from .params import is_number

ACTIONS = {"valve": "Valve", "pump": "Pump", "pump_setpoint": "Pump"}
PARAMS = {"valve": ("open", "position"), "pump": ("auto", "override_s", "running"), "pump_setpoint": ("bar",)}


def refusal(cmd: Command, assets: Mapping[str, tuple[str, int]], supervisor_id: str) -> str | None:
    """Return why a command is refused, or None; `assets` gives each asset id's type (and position)."""
    want = ACTIONS.get(cmd.action)
    if want is None:
        return f"unknown action {cmd.action!r}: the water supervisor accepts {', '.join(ACTIONS)}"
    if not cmd.targets:
        return f"{cmd.action} needs at least one {want} target"
    for t in cmd.targets:
        kind = assets.get(t, ("", 0))[0]
        if not kind:
            return f"unknown asset {t!r}: not an asset of the water network {supervisor_id}"
        if kind != want:
            return f"{t} is a {kind}; {cmd.action} acts on {want} assets only"
    extra = sorted(set(cmd.params) - set(PARAMS[cmd.action]))
    if extra:
        return f"unknown parameter {extra[0]!r} for {cmd.action} (expected {' or '.join(PARAMS[cmd.action])})"
    return _check_params(cmd.action, cmd.params)


def _check_params(action: str, prm: dict) -> str | None:
    """Return why a command's parameters are wrong, or None."""
    if action == "valve":
        if ("position" in prm) == ("open" in prm):
            return "valve needs either position (0..100 percent open) or open (true/false)"
        if "position" in prm and not (is_number(prm["position"]) and 0 <= prm["position"] <= 100):
            return f"position must be a number between 0 and 100 (percent open), got {prm['position']!r}"
        if "open" in prm and not isinstance(prm["open"], bool):
            return f"open must be true or false, got {prm['open']!r}"
    elif action == "pump_setpoint":
        if not (is_number(prm.get("bar")) and 1 <= prm["bar"] <= 10):
            return f"bar must be a number between 1 and 10, got {prm.get('bar')!r}"
    else:
        if prm.get("auto") is True:
            return None if "running" not in prm else "give either running or auto, not both"
        if not isinstance(prm.get("running"), bool):
            return f"pump needs running (true/false) or auto (true), got running={prm.get('running')!r}"
        if "override_s" in prm and not (is_number(prm["override_s"]) and 60 <= prm["override_s"] <= 86400):
            return f"override_s must be between 60 and 86400 seconds, got {prm['override_s']!r}"
    return None
