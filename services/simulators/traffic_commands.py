"""What the traffic supervisor's commands may say: signal plans on junctions, closing and reopening segments.

`refusal` is the whole check of a command (action, targets, parameters), in plain words an
operator understands; it is pure, and the simulator applies what passes.
"""
from __future__ import annotations

from collections.abc import Mapping

from services.contract import Command

PLANS = ("normal", "peak", "greenWave", "flashingAmber")
ACTIONS = ("signal_plan", "close_segment", "reopen_segment")
PARAMS = {"signal_plan": ("plan", "override_s"), "close_segment": (), "reopen_segment": ()}
OVERRIDE_S = (60.0, 86400.0)


def refusal(cmd: Command, segments: Mapping[str, int], signals: Mapping[str, int], supervisor_id: str) -> str | None:
    """Return why a command is refused (unknown action, wrong target type, unknown parameter, bad plan), or None."""
    if cmd.action not in ACTIONS:
        return f"unknown action {cmd.action!r}: the traffic supervisor accepts {', '.join(ACTIONS)}"
    if not cmd.targets:
        return f"{cmd.action} needs at least one target"
    kind, index = ("TrafficSignal", signals) if cmd.action == "signal_plan" else ("RoadSegment", segments)
    wrong = [t for t in cmd.targets if t not in index]
    if wrong:
        more = f" (and {len(wrong) - 3} more)" if len(wrong) > 3 else ""
        described = "; ".join(_describe(t, segments, signals, supervisor_id) for t in wrong[:3])
        return f"{cmd.action} applies to {kind} targets only: " + described + more
    unknown = [k for k in cmd.params if k not in PARAMS[cmd.action]]
    if unknown:
        return f"unknown parameter {unknown[0]!r} for {cmd.action} (accepted: {', '.join(PARAMS[cmd.action]) or 'none'})"
    if cmd.action == "signal_plan":
        plan, override = cmd.params.get("plan"), cmd.params.get("override_s")
        if plan not in PLANS + ("auto",):
            return f"unknown signal plan {plan!r}: choose {', '.join(PLANS)} or auto (back to the automatic schedule)"
        if override is not None and (isinstance(override, bool) or not isinstance(override, (int, float))
                                     or not OVERRIDE_S[0] <= override <= OVERRIDE_S[1]):
            return f"override_s must be a number of seconds between {OVERRIDE_S[0]:.0f} and {OVERRIDE_S[1]:.0f}"
    return None


def _describe(asset_id: str, segments: Mapping[str, int], signals: Mapping[str, int], supervisor_id: str) -> str:
    """Say what an asset id is, for a refusal."""
    if asset_id in segments:
        return f"{asset_id} is a RoadSegment"
    if asset_id in signals:
        return f"{asset_id} is a TrafficSignal"
    return f"{asset_id} is not an asset of {supervisor_id}"
