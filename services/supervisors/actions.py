"""The engineers' decisions on supervisors as requests to the engine thread (the registry's single writer).

The API (services/web/supervisors.py) and the page's callbacks both go through `SupervisorActions`;
authorisation and the audit entry happen before and after, in the request.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from services.core import Hypervisor
    from services.core.events import Event
    from services.feed.engine import Engine

DECISIONS = ("approve", "reject", "remove")
SUPERVISOR_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z")
MAX_ASSETS = 10_000_000


class SupervisorsUnavailable(RuntimeError):
    """No engine in this process to decide (a web-only worker without one), or it did not answer."""


class BadDecision(ValueError):
    """A decision that cannot be asked: unknown, a bad id or maximum; the text says which."""


def check(decision: str, supervisor: str, max_assets: Any = None) -> int | None:
    """Validate a decision's arguments (at the boundary); return the maximum, if one was given."""
    if decision not in DECISIONS:
        raise BadDecision(f"unknown decision {decision[:40]!r} (one of {', '.join(DECISIONS)})")
    if not SUPERVISOR_ID.match(supervisor or ""):
        raise BadDecision("a supervisor id is 1 to 64 of A-Z a-z 0-9 _ -")
    if max_assets is None:
        return None
    if decision != "approve":
        raise BadDecision("max_assets goes with approve only")
    if isinstance(max_assets, bool) or not isinstance(max_assets, int) or not 1 <= max_assets <= MAX_ASSETS:
        raise BadDecision(f"max_assets must be an integer from 1 to {MAX_ASSETS}")
    return max_assets


class SupervisorActions:
    """Reads the registry and applies decisions on the engine thread."""

    def __init__(self, engine: "Engine | None", *, timeout_s: float = 10.0) -> None:
        self.engine = engine
        self.timeout_s = timeout_s

    def _execute(self, fn: Callable[["Hypervisor", float], tuple[Any, list["Event"]]]) -> Any:
        if self.engine is None:
            raise SupervisorsUnavailable("the registry lives in the engine's process; this worker has none")
        from services.feed.engine import EngineUnavailable

        try:
            return self.engine.execute(fn, self.timeout_s)
        except EngineUnavailable as err:
            raise SupervisorsUnavailable(str(err)) from err

    def view(self) -> list[dict]:
        """Every registered supervisor: standing, origin, maximum, assets, two publishers, held data, health."""
        return self._execute(lambda core, now: (core.registry_view(now), []))

    def domain_of(self, supervisor: str) -> str | None:
        """The domain a supervisor is registered for (None: not registered)."""
        def find(core: "Hypervisor", _now: float) -> tuple[str | None, list]:
            e = core.registry.get(supervisor)
            return (e.domain if e is not None else None), []

        return self._execute(find)

    def decide(self, decision: str, supervisor: str, who: str, max_assets: int | None = None) -> dict:
        """Approve, reject or remove a supervisor for `who`; the outcome says done, already, refused or not_found."""
        max_assets = check(decision, supervisor, max_assets)

        def run(core: "Hypervisor", now: float) -> tuple[dict, list["Event"]]:
            if decision == "approve":
                return core.approve_supervisor(supervisor, who, now, max_assets)
            if decision == "reject":
                return core.reject_supervisor(supervisor, who, now)
            return core.remove_supervisor(supervisor, who, now)

        return self._execute(run)
