"""A command's honest lifecycle: requested -> sent -> accepted | rejected -> applied | partial | failed, or timed_out.

`TRANSITIONS` is the whole state machine (the unit tests walk it as a table): a pair it does
not list is ignored (a duplicate or stale answer). Nothing stays `sent`: every open status has
a deadline. A late answer after `timed_out` still wins (the operator is told the truth, marked
late). Beyond the supervisor's word (feedback), the telemetry is checked (actual): an applied
command is `confirmed` once each target reports the commanded value, or flagged `mismatch`.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Any

from .command_specs import Expect, ParamValue, spec_for


class Status(StrEnum):
    """Where a command is in its life."""

    REQUESTED = "requested"  # checked and recorded, not yet on the bus
    SENT = "sent"  # published on cmd.<domain>.<supervisor>
    ACCEPTED = "accepted"  # the supervisor will carry it out
    REJECTED = "rejected"  # the supervisor refused it (its reason is kept)
    APPLIED = "applied"  # every target took it
    PARTIAL = "partial"  # some did, some did not (both listed)
    FAILED = "failed"  # none did, or it could not be sent
    TIMED_OUT = "timed_out"  # no answer in time


class Step(StrEnum):
    """What can happen to a command."""

    SENT = "sent"
    NOT_SENT = "not_sent"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    APPLIED = "applied"
    PARTIAL = "partial"
    FAILED = "failed"
    TIMEOUT = "timeout"


class Verification(StrEnum):
    """Commanded vs actual: does the telemetry show what was commanded?"""

    NOT_APPLICABLE = "not_applicable"  # nothing observable to check (back to automatic, a schedule)
    WAITING = "waiting"  # not applied yet
    PENDING = "pending"  # applied; waiting for the targets' telemetry
    CONFIRMED = "confirmed"  # every applied target reports the commanded value
    MISMATCH = "mismatch"  # some applied targets still report something else at the deadline
    DRIFT = "drift"  # confirmed, then a target left the commanded state while the command should hold ("écart constaté")


class Override(StrEnum):
    """A temporary (TALQ-style) override's life."""

    NONE = "none"  # permanent, or not an override
    PENDING = "pending"  # not applied yet
    ACTIVE = "active"  # counting down
    ENDED = "ended"  # expired: the targets return to their schedule by themselves
    CANCELLED = "cancelled"  # an operator handed the targets back early


S, E = Status, Step
OUTCOMES = {E.APPLIED: S.APPLIED, E.PARTIAL: S.PARTIAL, E.FAILED: S.FAILED}
OPEN = frozenset({S.REQUESTED, S.SENT, S.ACCEPTED})
FINAL = frozenset(Status) - OPEN
TRANSITIONS: dict[tuple[Status, Step], Status] = {
    (S.REQUESTED, E.SENT): S.SENT,
    (S.REQUESTED, E.NOT_SENT): S.FAILED,
    (S.REQUESTED, E.ACCEPTED): S.ACCEPTED,  # the answer overtook the publish receipt
    (S.REQUESTED, E.REJECTED): S.REJECTED,
    (S.REQUESTED, E.TIMEOUT): S.TIMED_OUT,
    (S.SENT, E.ACCEPTED): S.ACCEPTED,
    (S.SENT, E.REJECTED): S.REJECTED,
    (S.SENT, E.TIMEOUT): S.TIMED_OUT,
    (S.ACCEPTED, E.TIMEOUT): S.TIMED_OUT,
    (S.TIMED_OUT, E.ACCEPTED): S.ACCEPTED,  # late answers: the truth wins, marked late
    (S.TIMED_OUT, E.REJECTED): S.REJECTED,
    **{(s, e): out for s in (S.REQUESTED, S.SENT, S.ACCEPTED, S.TIMED_OUT) for e, out in OUTCOMES.items()},
}


def next_status(status: Status, step: Step) -> Status | None:
    """The status after `step`, or None when the step does not apply (ignored)."""
    return TRANSITIONS.get((status, step))


class CommandRecord:
    """One command and everything known about it. Mutated only by the CommandBook."""

    def __init__(self, *, id: str, domain: str, supervisor: str, action: str, params: dict[str, ParamValue], targets: tuple[str, ...],
                 assets: tuple[str, ...], label: str, user: str, requested_at: float, role: str = "", actor_kind: str = "",
                 ip: str = "", reason: str = "", key: str | None = None, fingerprint: str = "", effect: dict | None = None,
                 large: list[dict] | None = None, cancels: str | None = None) -> None:
        self.id, self.domain, self.supervisor, self.action, self.params = id, domain, supervisor, action, dict(params)
        self.targets, self.assets, self.label = tuple(targets), tuple(assets), label
        self.user, self.role, self.actor_kind, self.ip, self.reason = user, role, actor_kind, ip, reason
        self.key, self.fingerprint, self.effect, self.large = key, fingerprint, effect or {}, large or []
        self.cancels: str | None = cancels
        self.cancelled_by: str | None = None
        self.status = Status.REQUESTED
        self.history: list[dict[str, Any]] = [{"status": "requested", "at": requested_at, "detail": ""}]
        self.requested_at = self.updated_at = requested_at
        self.deadline: float | None = None
        self.message = ""  # the supervisor's reason, or why Vigie gave up waiting
        self.late = False
        self.applied: list[str] = []
        self.failed: list[str] = []
        spec = spec_for(domain, action)
        self.expect: Expect | None = spec.expect(self.params)
        self.verification = Verification.WAITING if self.expect else Verification.NOT_APPLICABLE
        self.confirmed: set[str] = set()
        self.unconfirmed: list[str] = []
        self.verify_deadline: float | None = None
        self.override_s = float(self.params["override_s"]) if "override_s" in self.params else None
        self.override_until: float | None = None
        self.override = Override.PENDING if self.override_s else Override.NONE
        self.returned: set[str] = set()
        self.return_deadline: float | None = None
        self.hold_until: float | None = None  # a permanent command's state is watched for drift until then
        self.drifted: dict[str, Any] = {}  # target -> what its telemetry shows instead of the commanded value
        self.drift_at: float | None = None  # when the current drift was first seen
        self.revert = spec.revert(self.params)
        self.rev = 0
        self._members: frozenset[str] | None = None

    def names(self, asset_id: str) -> bool:
        """Does this command name the asset (as a target, or among the assets it stands for)?"""
        if self._members is None:
            self._members = frozenset(self.targets) | frozenset(self.assets)
        return asset_id in self._members

    @property
    def final(self) -> bool:
        """Has the supervisor (or the clock) had its last word?"""
        return self.status in FINAL

    def checked(self) -> list[str]:
        """The targets whose telemetry must show the command: those the supervisor says took it."""
        return list(self.applied) if self.applied else list(self.assets)

    def missing(self) -> list[str]:
        """Expected assets the supervisor's answer does not mention (did not answer)."""
        if self.status not in (S.APPLIED, S.PARTIAL, S.FAILED) or not (self.applied or self.failed):
            return []
        told = set(self.applied) | set(self.failed)
        return [a for a in self.assets if a not in told]

    def move(self, step: Step, at: float, detail: str = "") -> bool:
        """Apply one step of the lifecycle; return False when it is ignored."""
        new = next_status(self.status, step)
        if new is None:
            return False
        if self.status is S.TIMED_OUT:
            self.late = True
            detail = (detail + " " if detail else "") + "(answer arrived after the timeout)"
        self.status, self.updated_at = new, at
        self.history.append({"status": str(new), "at": at, "detail": detail})
        self.rev += 1
        return True

    def to_dict(self, *, full: bool = True, cap: int = 50) -> dict[str, Any]:
        """JSON-ready; `full=False` caps the id lists at `cap` (pushes, listings)."""
        def ids(xs: list[str] | tuple[str, ...]) -> list[str]:
            return list(xs) if full else list(xs[:cap])

        missing = self.missing()
        out = {
            "id": self.id, "domain": self.domain, "supervisor": self.supervisor, "action": self.action, "params": dict(self.params),
            "targets": ids(self.targets), "targets_count": len(self.targets), "assets_count": len(self.assets), "label": self.label,
            "user": self.user, "role": self.role, "actor_kind": self.actor_kind, "ip": self.ip, "reason": self.reason, "key": self.key,
            "fingerprint": self.fingerprint, "effect": self.effect, "large": self.large, "cancels": self.cancels,
            "cancelled_by": self.cancelled_by, "status": str(self.status), "message": self.message, "late": self.late,
            "history": [dict(h) for h in self.history], "requested_at": self.requested_at, "updated_at": self.updated_at, "deadline": self.deadline,
            "feedback": {"applied": len(self.applied), "failed": len(self.failed), "missing": len(missing),
                         "applied_ids": ids(self.applied), "failed_ids": ids(self.failed), "missing_ids": ids(missing)},
            "actual": {"verification": str(self.verification), "checked": len(self.checked()),
                       "confirmed": len(self.confirmed) - sum(1 for x in self.drifted if x in self.confirmed),  # showing it now
                       "expect": {"field": self.expect.field, "value": self.expect.value} if self.expect else None,
                       "unconfirmed_ids": ids(self.unconfirmed), "deadline": self.verify_deadline,
                       "drifted": len(self.drifted), "drifted_ids": ids(list(self.drifted)),
                       "drifted_values": {k: self.drifted[k] for k in list(self.drifted)[: None if full else cap]},
                       "drift_at": self.drift_at, "hold_until": self.hold_until},
            "override": None if self.override is Override.NONE and not self.revert else {
                "seconds": self.override_s, "until": self.override_until, "state": str(self.override),
                "returned": len(self.returned), "revert": self.revert[0] if self.revert else None},
            "rev": self.rev,
        }
        if full:
            out["assets"] = list(self.assets)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "CommandRecord":
        """Rebuild a record persisted with `to_dict()` (after a restart)."""
        rec = cls(id=d["id"], domain=d["domain"], supervisor=d["supervisor"], action=d["action"], params=d["params"],
                  targets=tuple(d["targets"]), assets=tuple(d.get("assets", ())), label=d["label"], user=d["user"],
                  requested_at=d["requested_at"], role=d.get("role", ""), actor_kind=d.get("actor_kind", ""), ip=d.get("ip", ""),
                  reason=d.get("reason", ""), key=d.get("key"), fingerprint=d.get("fingerprint", ""), effect=d.get("effect"),
                  large=d.get("large"), cancels=d.get("cancels"))
        rec.cancelled_by, rec.status, rec.message, rec.late = d.get("cancelled_by"), Status(d["status"]), d.get("message", ""), d.get("late", False)
        rec.history, rec.updated_at, rec.deadline, rec.rev = d["history"], d["updated_at"], d.get("deadline"), d.get("rev", 0)
        fb, actual, ov = d.get("feedback", {}), d.get("actual", {}), d.get("override") or {}
        rec.applied, rec.failed = list(fb.get("applied_ids", [])), list(fb.get("failed_ids", []))
        rec.verification = Verification(actual.get("verification", rec.verification))
        rec.unconfirmed, rec.verify_deadline = list(actual.get("unconfirmed_ids", [])), actual.get("deadline")
        rec.drifted, rec.drift_at = dict(actual.get("drifted_values") or {}), actual.get("drift_at")
        rec.hold_until = actual.get("hold_until")
        rec.override_until = ov.get("until")
        rec.override = Override(ov.get("state", rec.override))
        return rec
