"""Supervisor identity in the Hypervisor: the registry's verdict on each message, ownership, the engineer's decisions.

A mixin of Hypervisor (services/core/hypervisor.py); the registry itself is services/core/registry.py.
Every refusal is returned as a `Refused` event (the engine counts it like a codec rejection); nothing
of a refused message is applied, except a telemetry's readings of the supervisor's own assets (the
hot path checks ownership reading by reading, as it applies them).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable

from services.contract.messages import Alarm, State, SupervisorMessage

from .events import AssetsRemoved, Event, Refused, RegistryChanged, StateNeeded, SupervisorChanged
from .registry import Admission, Origin, Registry, Standing, Verdict

if TYPE_CHECKING:
    from .alarms import AlarmBook
    from .assets import TerritoryState
    from .health import SupervisorRegistry

TWO_PUBLISHERS_TEXT = {  # the alarm Vigie raises for an id two processes publish under, in the site's language
    "fr": "Deux émetteurs pour {supervisor} : ses messages sont écartés jusqu'à ce qu'il n'en reste qu'un",
    "en": "Two publishers for {supervisor}: its messages are set aside until only one is left",
}
SAMPLE = 3  # asset ids named in a refusal's detail


def two_publishers_alarm(supervisor: str) -> str:
    """The id of the alarm Vigie raises for a supervisor id with two publishers."""
    return f"vigie/two_publishers/{supervisor}"


class SupervisorIdentity:
    """The Hypervisor's side of the registry of supervisors."""

    registry: Registry
    state: "TerritoryState"
    health: "SupervisorRegistry"
    alarms: "AlarmBook"
    config: Any
    _snapshot_parts: dict
    _snapshot_created: dict[str, tuple[str, set[str]]]  # supervisor -> (snapshot, assets it created so far)
    _snapshot_refused: dict[str, tuple[str, Refused]]  # supervisor -> (its last refused snapshot, why): its later parts too
    _dirty_domains: set[str]
    _alarm_changes: Callable[[], list[Event]]
    handle: Callable[..., list[Event]]
    _stale_alarm: Callable[[str, str, bool, float], list[Event]]

    def owner_of(self, asset_id: str) -> str | None:
        """Who owns an asset: the supervisor whose state defined it, else the registry's record of it."""
        rec = self.state.get(asset_id)
        return rec.supervisor if rec is not None else self.registry.owner(asset_id)

    # --- every message ---------------------------------------------------------------------

    def _admission(self, msg: SupervisorMessage, gate: Admission, now: float) -> list[Event]:
        """The events of a registry verdict other than a plain "apply" (flag raised or cleared, held, refused)."""
        events: list[Event] = [RegistryChanged(msg.supervisor)]
        if gate.flagged is True:
            events.extend(self._two_publishers_alarm(msg.supervisor, msg.domain, True, now))
        elif gate.flagged is False:
            events.extend(self._one_publisher_again(msg.supervisor, msg.domain, now))
        if gate.verdict is Verdict.REFUSE:
            if gate.reason == "two_publishers":  # alive (twice over): not silent, not stale
                h, revived = self.health.sign_of_life(msg.supervisor, now)
                if h is not None and revived:
                    events.append(SupervisorChanged(h.id, h.domain, str(h.status)))
                    events.extend(self._stale_alarm(h.id, h.domain, False, now))
            events.append(Refused(msg.domain, msg.supervisor, msg.kind, gate.reason, gate.detail))
        return events

    def _refusal(self, msg: SupervisorMessage) -> list[Event]:
        """Refuse (before anything is applied) an alarm or a state naming another supervisor's asset, or an absurd state."""
        if isinstance(msg, Alarm):
            foreign = self._foreign((ev.asset for ev in msg.events), msg.supervisor)
        elif isinstance(msg, State):
            snapshot, before = self._snapshot_refused.get(msg.supervisor, ("", None))
            if before is not None and snapshot == msg.snapshot:  # a later part of a refused snapshot
                return [before]
            snap = self._snapshot_parts.get(msg.supervisor)
            so_far = snap[2] if snap is not None and snap[0] == msg.snapshot else set()
            gate = self.registry.check_state(msg, so_far)
            if gate.verdict is Verdict.REFUSE:
                return self._abandon(msg) + [self._refuse_snapshot(msg, gate.reason, gate.detail)]
            foreign = self._foreign([*(a.id for a in msg.assets), *(r.asset for r in msg.readings), *(ev.asset for ev in msg.alarms)],
                                    msg.supervisor)
        else:
            return []
        if not foreign:
            return []
        detail = f"{msg.supervisor} names {len(foreign)} asset(s) of other supervisors: " + ", ".join(
            f"{a} ({self.owner_of(a)})" for a in foreign[:SAMPLE])
        if isinstance(msg, State):
            return self._abandon(msg) + [self._refuse_snapshot(msg, "foreign_asset", detail)]
        return [Refused(msg.domain, msg.supervisor, msg.kind, "foreign_asset", detail)]

    def _refuse_snapshot(self, msg: State, reason: str, detail: str) -> Refused:
        """Refuse a state part, and the snapshot's parts still to come: once refused, a snapshot adds nothing more."""
        refused = Refused(msg.domain, msg.supervisor, msg.kind, reason, detail)
        self._snapshot_refused[msg.supervisor] = (msg.snapshot, refused)
        return refused

    def _foreign(self, asset_ids: Iterable[str], supervisor: str) -> list[str]:
        return [a for a in dict.fromkeys(asset_ids) if (o := self.owner_of(a)) is not None and o != supervisor]

    def _foreign_readings(self, msg: SupervisorMessage, foreign: list[str], unknown: list[str]) -> tuple[list[str], list[Event]]:
        """Split a telemetry's unapplied readings: unknown assets (ask for a state) and other supervisors' (refused)."""
        owned_elsewhere = [a for a in unknown if (o := self.registry.owner(a)) is not None and o != msg.supervisor]
        if owned_elsewhere:
            gone = set(owned_elsewhere)
            unknown = [a for a in unknown if a not in gone]
            foreign = foreign + owned_elsewhere
        if not foreign:
            return unknown, []
        detail = f"{msg.supervisor} sent {len(foreign)} reading(s) of other supervisors' assets (not applied): " + ", ".join(
            f"{a} ({self.owner_of(a)})" for a in foreign[:SAMPLE])
        return unknown, [Refused(msg.domain, msg.supervisor, msg.kind, "foreign_asset", detail, partly=True)]

    def _created_by(self, msg: State) -> None:
        """Remember which assets this snapshot creates (to take them back if a later part is refused)."""
        created = self._snapshot_created
        snap, ids = created.get(msg.supervisor, ("", set()))
        if snap != msg.snapshot:
            snap, ids = msg.snapshot, set()
        ids.update(a.id for a in msg.assets if self.state.get(a.id) is None)
        created[msg.supervisor] = (snap, ids)

    def _abandon(self, msg: State) -> list[Event]:
        """A refused part ends its snapshot: the assets that snapshot created are taken back."""
        self._snapshot_parts.pop(msg.supervisor, None)
        snap, ids = self._snapshot_created.pop(msg.supervisor, ("", set()))
        gone = self.state.remove(sorted(ids)) if ids else []
        if not gone:
            return []
        self._dirty_domains.add(msg.domain)
        return [AssetsRemoved(msg.domain, msg.supervisor, tuple(gone))]

    def _owned(self, supervisor: str, ids: set[str]) -> list[Event]:
        """A whole snapshot arrived: its assets are the supervisor's own."""
        self._snapshot_created.pop(supervisor, None)
        before = self.registry.get(supervisor)
        had = set(before.assets) if before is not None else None
        self.registry.owns(supervisor, ids)
        return [RegistryChanged(supervisor)] if had is not None and had != ids else []

    # --- two publishers --------------------------------------------------------------------

    def _two_publishers_alarm(self, supervisor: str, domain: str, raised: bool, now: float) -> list[Event]:
        aid = two_publishers_alarm(supervisor)
        if raised:
            text = TWO_PUBLISHERS_TEXT.get(self.config.language, TWO_PUBLISHERS_TEXT["en"]).format(supervisor=supervisor)
            self.alarms.raise_(aid, source="vigie", domain=domain, supervisor=supervisor, asset=supervisor, code="two_publishers",
                               severity="major", message=text, at=now)
        else:
            self.alarms.clear(aid, now, who="vigie")
        return self._alarm_changes()

    def _one_publisher_again(self, supervisor: str, domain: str, now: float) -> list[Event]:
        """One publisher is left: clear the alarm, count its sequence afresh, ask it for its whole state."""
        events = self._two_publishers_alarm(supervisor, domain, False, now)
        h = self.health.get(supervisor)
        if h is not None:
            h.seq = None
        self._snapshot_parts.pop(supervisor, None)
        events.append(StateNeeded(domain, supervisor, "single_publisher"))
        return events

    def _registry_tick(self, now: float) -> list[Event]:
        events: list[Event] = []
        for e in self.registry.tick(now):
            events.append(RegistryChanged(e.id))
            events.extend(self._one_publisher_again(e.id, e.domain, now))
        return events

    # --- an engineer's decisions (engine thread) -------------------------------------------

    def approve_supervisor(self, supervisor: str, who: str, now: float, max_assets: int | None = None) -> tuple[dict, list[Event]]:
        """Approve a quarantined or rejected supervisor and apply what it sent meanwhile."""
        e = self.registry.get(supervisor)
        if e is None:
            return _outcome(supervisor, "not_found", "no such supervisor"), []
        if e.standing is Standing.APPROVED and max_assets in (None, e.max_assets):
            return _outcome(supervisor, "already", f"already approved ({e.origin})", e, "approved"), []
        if e.standing is Standing.APPROVED:  # a new maximum only
            self.registry.set_limit(supervisor, max_assets)
            return _outcome(supervisor, "done", f"maximum set to {max_assets} assets", e), [RegistryChanged(supervisor)]
        hold = self.registry.approve(supervisor, who, now, max_assets)
        events: list[Event] = [RegistryChanged(supervisor)]
        refused = 0
        for msg in hold.messages if hold is not None else []:
            for ev in self.handle(msg, now):
                if type(ev) is Refused:
                    refused += 1
                else:
                    events.append(ev)
        if hold is None or hold.truncated or not hold.complete:
            events.append(StateNeeded(e.domain, supervisor, "approved"))
        applied = len(hold.messages) if hold is not None else 0
        return _outcome(supervisor, "done", f"approved; {applied} held message(s) applied, {refused} refused", e), events

    def reject_supervisor(self, supervisor: str, who: str, now: float) -> tuple[dict, list[Event]]:
        """Reject a supervisor: drop what it holds and what it had (assets, alarms); never ask it for a state again."""
        e = self.registry.get(supervisor)
        if e is None:
            return _outcome(supervisor, "not_found", "no such supervisor"), []
        if e.origin is Origin.DECLARED:
            return _outcome(supervisor, "refused", "declared in the configuration file: remove it there", e, "declared"), []
        if e.standing is Standing.REJECTED:
            return _outcome(supervisor, "already", f"already rejected by {e.decided_by}", e, "rejected"), []
        self.registry.reject(supervisor, who, now)
        events = [RegistryChanged(supervisor), *self._purge(supervisor, e.domain, who, "supervisor rejected", now)]
        return _outcome(supervisor, "done", "rejected", e), events

    def remove_supervisor(self, supervisor: str, who: str, now: float) -> tuple[dict, list[Event]]:
        """Remove a supervisor from the registry, with its assets and its alarms (Vigie's stale alarm too)."""
        e = self.registry.get(supervisor)
        if e is None:
            return _outcome(supervisor, "not_found", "no such supervisor"), []
        if e.origin is Origin.DECLARED:
            return _outcome(supervisor, "refused", "declared in the configuration file: remove it there", e, "declared"), []
        self.registry.remove(supervisor)
        events = [RegistryChanged(supervisor), *self._purge(supervisor, e.domain, who, "supervisor removed from the registry", now)]
        return _outcome(supervisor, "done", "removed", e), events

    def restore_registry(self, records: list[dict], assets: dict[str, list[str]], now: float) -> list[Event]:
        """Load the saved registry (at start, after the alarms); purge supervisors the file no longer declares."""
        events: list[Event] = []
        for sid in self.registry.restore(records, assets):
            events.append(RegistryChanged(sid))
            events.extend(self._purge(sid, "", "vigie", "no longer declared in the configuration file", now))
        return events

    def registry_view(self, now: float) -> list[dict]:
        """Every registered supervisor for the engineers' page and the API."""
        return self.registry.view(now, self.owner_of, lambda sid: (h.to_dict(now) if (h := self.health.get(sid)) else None))

    def _purge(self, supervisor: str, domain: str, who: str, why: str, now: float) -> list[Event]:
        events: list[Event] = []
        by_domain: dict[str, list[str]] = {}
        for a in self.state.query(supervisor=supervisor):
            by_domain.setdefault(a.domain, []).append(a.id)
        for d, ids in by_domain.items():
            self.state.remove(ids)
            self._dirty_domains.add(d)
            events.append(AssetsRemoved(d, supervisor, tuple(ids)))
        for a in [a for a in self.alarms.all() if a.supervisor == supervisor]:
            self.alarms.withdraw(a.id, who, why, now)
        events.extend(self._alarm_changes())
        self._snapshot_parts.pop(supervisor, None)
        self._snapshot_created.pop(supervisor, None)
        self._snapshot_refused.pop(supervisor, None)
        h = self.health.forget(supervisor)
        if h is not None:
            events.append(SupervisorChanged(supervisor, h.domain or domain, "removed"))
        return events


def _outcome(supervisor: str, result: str, message: str, e: Any = None, why: str = "") -> dict:
    """One decision's answer: done, already, refused or not_found; `message` in English (API, audit), `why` a code for the page."""
    return {"supervisor": supervisor, "result": result, "message": message, "why": why, "domain": e.domain if e is not None else None}
