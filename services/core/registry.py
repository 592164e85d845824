"""The registry of supervisors: who may publish, in which domain, how many assets, and which assets are whose.

A supervisor is *declared* (the site's configuration file), *learned* (first seen, approved by the site's
policy: `approval` "open", or an id matching `auto_approve`) or *quarantined* until an engineer approves it
(its messages are held, not applied) or rejects it (its messages are dropped, it is never asked for a state).
An approved supervisor owns the assets its last complete `state` listed; nobody else may speak of them.
A supervisor id with two publishers is *flagged*: its messages are refused until one publisher is left.

The Hypervisor is the only writer (`admit` on every message, the decisions on the engine thread);
`take_changed()` names the entries the store must rewrite. No Redis, no clock: `now` is a parameter.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Callable

from services.contract.messages import State, SupervisorMessage

from .publishers import PublisherWatch, WatchConfig
from .quarantine import Hold


class Standing(StrEnum):
    """May a supervisor's messages be applied?"""

    APPROVED = "approved"
    QUARANTINED = "quarantined"  # held for an engineer to decide
    REJECTED = "rejected"  # dropped, never asked for a state


class Origin(StrEnum):
    """How a supervisor came to be in the registry."""

    DECLARED = "declared"  # in the site's configuration file
    LEARNED = "learned"  # first seen, approved by the site's policy
    ENGINEER = "engineer"  # an engineer decided (approved or rejected)
    UNKNOWN = "unknown"  # first seen, waiting in quarantine


class Verdict(StrEnum):
    """What to do with one message."""

    APPLY = "apply"
    HOLD = "hold"
    REFUSE = "refuse"


@dataclass(frozen=True, slots=True)
class Admission:
    """The registry's answer for one message; `reason` is the metric label when refused."""

    verdict: Verdict
    reason: str = ""
    detail: str = ""
    flagged: bool | None = None  # True: the id just got two publishers; False: it just went back to one


APPLY = Admission(Verdict.APPLY)
HOLD = Admission(Verdict.HOLD)


@dataclass(frozen=True, slots=True)
class Declared:
    """A supervisor the site expects (configuration file)."""

    id: str
    domain: str
    max_assets: int | None = None
    name: str = ""


@dataclass(frozen=True, slots=True)
class RegistryConfig:
    """The site's policy (Settings, and the configuration file)."""

    approval: str = "open"  # "open": first-seen supervisors are approved; "required": quarantined until approved
    auto_approve: tuple[str, ...] = ()  # ids or patterns (`ngsi-*`) approved at first sight whatever `approval` says
    declared: tuple[Declared, ...] = ()
    max_assets: int = 50_000  # for a supervisor without a maximum of its own
    min_assets_per_part: int = 10  # a `state` in more parts than max_assets / this is absurd
    max_quarantined: int = 50
    hold_items: int = 200_000  # items held for all quarantined supervisors together
    hold_messages: int = 2_000  # messages held per quarantined supervisor
    publishers: WatchConfig = field(default_factory=WatchConfig)


@dataclass(slots=True, eq=False)
class Entry:
    """One supervisor in the registry."""

    id: str
    domain: str
    standing: Standing
    origin: Origin
    first_seen: float
    max_assets: int | None = None  # None: the site's default
    name: str = ""
    decided_by: str = ""
    decided_at: float | None = None
    assets: set[str] = field(default_factory=set)  # owned: the ids of its last complete state
    last_seen: float | None = None
    hold: Hold | None = None
    watch: PublisherWatch = field(default_factory=PublisherWatch)

    def limit(self, cfg: RegistryConfig) -> int:
        """The most assets it may declare."""
        return self.max_assets if self.max_assets is not None else cfg.max_assets

    def max_parts(self, cfg: RegistryConfig) -> int:
        """The most parts a `state` of its may have."""
        return max(1, math.ceil(self.limit(cfg) / max(1, cfg.min_assets_per_part)))

    def to_record(self) -> dict:
        """What the store keeps (owned assets apart)."""
        return {"id": self.id, "domain": self.domain, "standing": str(self.standing), "origin": str(self.origin),
                "first_seen": self.first_seen, "max_assets": self.max_assets, "name": self.name,
                "decided_by": self.decided_by, "decided_at": self.decided_at}


class Registry:
    """Every supervisor Vigie knows of, and who owns which asset."""

    def __init__(self, config: RegistryConfig | None = None) -> None:
        self.config = config or RegistryConfig()
        self._entries: dict[str, Entry] = {}
        self._owner: dict[str, str] = {}  # asset id -> supervisor, from approved complete states
        self._held_items = 0
        self._changed: set[str] = set()
        self._assets_changed: set[str] = set()
        for d in self.config.declared:
            self._entries[d.id] = Entry(d.id, d.domain, Standing.APPROVED, Origin.DECLARED, 0.0, d.max_assets, d.name)

    # --- reading ---------------------------------------------------------------------------

    def get(self, supervisor: str) -> Entry | None:
        """One entry, or None."""
        return self._entries.get(supervisor)

    def all(self) -> list[Entry]:
        """Every entry, by domain then id."""
        return sorted(self._entries.values(), key=lambda e: (e.domain, e.id))

    def owner(self, asset_id: str) -> str | None:
        """The supervisor that owns an asset (from its last complete approved state), or None."""
        return self._owner.get(asset_id)

    def may_ask(self, supervisor: str) -> bool:
        """May Vigie send this supervisor a state request? Not when rejected, quarantined, flagged, or suspected of
        having two publishers (a gap then is the other publisher's counter, not a lost message)."""
        e = self._entries.get(supervisor)
        return e is None or (e.standing is Standing.APPROVED and not e.watch.flagged and not e.watch.evidence)

    def flagged(self) -> list[Entry]:
        """The ids with two publishers now."""
        return [e for e in self._entries.values() if e.watch.flagged]

    def take_changed(self) -> tuple[list[str], list[str]]:
        """(ids whose entry changed or went, ids whose owned assets changed) since the last call."""
        changed, assets = sorted(self._changed), sorted(self._assets_changed)
        self._changed, self._assets_changed = set(), set()
        return changed, assets

    # --- every message ---------------------------------------------------------------------

    def admit(self, msg: SupervisorMessage, now: float) -> Admission:
        """Decide what happens to one validated message (before anything of it is applied)."""
        cfg = self.config
        e = self._entries.get(msg.supervisor)
        learned = e is None
        if e is None:
            e = self._learn(msg.supervisor, msg.domain, now)
            if e is None:
                return Admission(Verdict.REFUSE, "quarantine_full",
                                 f"{cfg.max_quarantined} unknown supervisors already wait for an engineer")
        if e.standing is Standing.REJECTED:
            return Admission(Verdict.REFUSE, "rejected_supervisor", f"{e.id} was rejected by {e.decided_by or 'an engineer'}")
        if e.domain != msg.domain:
            return Admission(Verdict.REFUSE, "wrong_domain", f"{e.id} is registered for {e.domain}, not {msg.domain}")
        e.last_seen = now
        change = e.watch.note(msg.seq, msg.snapshot if isinstance(msg, State) else None, now, cfg.publishers,
                              getattr(msg, "boot", None))  # contract v2 messages name their process run
        if change is not None:
            self._changed.add(e.id)
        if e.watch.flagged:
            return Admission(Verdict.REFUSE, "two_publishers", f"two publishers use the id {e.id}: its messages wait until one is left",
                             flagged=change)
        if e.standing is Standing.QUARANTINED:
            if e.hold is None:
                e.hold = Hold()
            self._held_items += e.hold.add(msg, cfg.hold_items - self._held_items, cfg.hold_messages)
            return HOLD
        return APPLY if change is None and not learned else Admission(Verdict.APPLY, flagged=change)

    def check_state(self, msg: State, so_far: set[str]) -> Admission:
        """Refuse a `state` part in absurdly many parts, or declaring more assets than the supervisor may have."""
        e = self._entries.get(msg.supervisor)
        if e is None:
            return APPLY
        cfg = self.config
        if msg.parts > e.max_parts(cfg):
            return Admission(Verdict.REFUSE, "too_many_parts",
                             f"{e.id}: a state in {msg.parts} parts (at most {e.max_parts(cfg)} for {e.limit(cfg)} assets)")
        total = len(so_far) + sum(1 for a in msg.assets if a.id not in so_far)
        if total > e.limit(cfg):
            return Admission(Verdict.REFUSE, "too_many_assets", f"{e.id}: a state declaring {total} assets or more (at most {e.limit(cfg)})")
        return APPLY

    def owns(self, supervisor: str, ids: set[str]) -> None:
        """A complete state of an approved supervisor lists exactly these assets: they are its own now."""
        e = self._entries.get(supervisor)
        if e is None or e.assets == ids:
            return
        for aid in e.assets - ids:
            if self._owner.get(aid) == supervisor:
                del self._owner[aid]
        for aid in ids:
            self._owner.setdefault(aid, supervisor)
        e.assets = set(ids)
        self._assets_changed.add(supervisor)

    def tick(self, now: float) -> list[Entry]:
        """Entries whose second publisher has been gone long enough: they are cleared now."""
        cleared = [e for e in self._entries.values() if e.watch.flagged and e.watch.expire(now, self.config.publishers) is False]
        self._changed.update(e.id for e in cleared)
        return cleared

    # --- an engineer's decisions -----------------------------------------------------------

    def approve(self, supervisor: str, who: str, now: float, max_assets: int | None = None) -> Hold | None:
        """Approve a quarantined (or rejected) supervisor; return what it sent meanwhile, to apply now."""
        e = self._entries[supervisor]
        e.standing, e.origin, e.decided_by, e.decided_at = Standing.APPROVED, Origin.ENGINEER, who, now
        if max_assets is not None:
            e.max_assets = max_assets
        hold, e.hold = e.hold, None
        if hold is not None:
            self._held_items -= hold.items
        self._changed.add(supervisor)
        return hold

    def set_limit(self, supervisor: str, max_assets: int | None) -> None:
        """Give an approved supervisor a maximum of its own (None: the site's default)."""
        self._entries[supervisor].max_assets = max_assets
        self._changed.add(supervisor)

    def reject(self, supervisor: str, who: str, now: float) -> None:
        """Reject a supervisor: its messages are dropped from now on, what it held is forgotten."""
        e = self._entries[supervisor]
        e.standing, e.origin, e.decided_by, e.decided_at = Standing.REJECTED, Origin.ENGINEER, who, now
        self._drop_hold(e)
        self._disown(e)
        self._changed.add(supervisor)

    def remove(self, supervisor: str) -> Entry | None:
        """Forget a supervisor entirely (it is unknown again if it ever publishes)."""
        e = self._entries.pop(supervisor, None)
        if e is not None:
            self._drop_hold(e)
            self._disown(e)
            self._changed.add(supervisor)
        return e

    # --- persistence -----------------------------------------------------------------------

    def restore(self, records: list[dict], assets: dict[str, list[str]]) -> list[str]:
        """Load the saved entries and their assets (at start); return the ids once declared but no longer in the file."""
        gone = []
        for r in records:
            sid = str(r.get("id", ""))
            e = self._entries.get(sid)
            if not sid:
                continue
            if e is not None and e.origin is Origin.DECLARED:
                e.first_seen = float(r.get("first_seen") or 0.0)
            elif r.get("origin") == str(Origin.DECLARED):
                gone.append(sid)  # the file no longer declares it: removed, with its alarms and assets
                self._changed.add(sid)
                continue
            else:
                try:
                    e = Entry(sid, str(r.get("domain", "")), Standing(r.get("standing", "quarantined")),
                              Origin(r.get("origin", "unknown")), float(r.get("first_seen") or 0.0), r.get("max_assets"),
                              str(r.get("name", "")), str(r.get("decided_by", "")), r.get("decided_at"))
                except (ValueError, TypeError):
                    continue  # an unreadable record: the supervisor is first seen again
                self._entries[sid] = e
            if e.standing is Standing.APPROVED:
                e.assets = set(assets.get(sid, ()))
                for aid in e.assets:
                    self._owner.setdefault(aid, sid)
        return gone

    # --- inside ----------------------------------------------------------------------------

    def _learn(self, supervisor: str, domain: str, now: float) -> Entry | None:
        cfg = self.config
        if cfg.approval != "required" or any(fnmatchcase(supervisor, p) for p in cfg.auto_approve):
            e = Entry(supervisor, domain, Standing.APPROVED, Origin.LEARNED, now)
        elif sum(1 for x in self._entries.values() if x.standing is Standing.QUARANTINED) >= cfg.max_quarantined:
            return None
        else:
            e = Entry(supervisor, domain, Standing.QUARANTINED, Origin.UNKNOWN, now)
        self._entries[supervisor] = e
        self._changed.add(supervisor)
        return e

    def _drop_hold(self, e: Entry) -> None:
        if e.hold is not None:
            self._held_items -= e.hold.items
            e.hold = None

    def _disown(self, e: Entry) -> None:
        for aid in e.assets:
            if self._owner.get(aid) == e.id:
                del self._owner[aid]
        if e.assets:
            e.assets = set()
            self._assets_changed.add(e.id)

    def view(self, now: float, owner_of: Callable[[str], str | None], health: Callable[[str], dict | None]) -> list[dict]:
        """Every entry for the engineers' page and the API, JSON-ready."""
        cfg = self.config
        out = []
        for e in self.all():
            w = e.watch
            out.append({
                **e.to_record(), "limit": e.limit(cfg), "assets": len(e.assets), "last_seen": e.last_seen,
                "flagged": w.flagged, "flagged_since": w.flagged_at, "health": health(e.id),
                "held": e.hold.summary(owner_of, e.id) if e.hold is not None else None,
            })
        return out
