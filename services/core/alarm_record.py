"""One alarm as Vigie holds it, the journal entries its transitions leave, and the engineer's policy."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from .alarm_states import UNACKED, AlarmState, Priority

HISTORY_MAX = 50  # per alarm in memory; the full journal is in Redis


@dataclass(frozen=True, slots=True)
class AlarmPolicy:
    """Alarm-system settings an engineer sets (persisted by services/alarms/store.py)."""

    max_shelf_s: float = 8 * 3600.0  # no shelf lasts longer, one-shot included
    default_shelf_s: float = 3600.0
    release_delay_s: float = 30.0  # children stay suppressed this long after their parent clears
    chatter_toggles: int = 3  # more raises + clears than this ...
    chatter_window_s: float = 60.0  # ... in this window: chattering
    chatter_hold_s: float = 600.0  # flag kept until this long without chattering
    stale_after_s: float = 24 * 3600.0  # active this long: a stale (standing) alarm
    operators: int = 1  # operator positions sharing the alarm load (EEMUA rates are per operator)
    flood_per_10min: int = 10  # annunciated alarms in 10 min that make a flood (EEMUA 191)
    kpi_window_s: float = 24 * 3600.0  # the window of the alarm-system KPIs

    def to_dict(self) -> dict:
        """JSON-ready view."""
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict) -> "AlarmPolicy":
        """Build from a dict, keeping defaults for unknown or missing keys (raises ValueError on bad values)."""
        known = {f.name: f.type for f in fields(cls)}
        values = {}
        for k, v in raw.items():
            if k not in known:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v or v <= 0:
                raise ValueError(f"{k} must be a positive number")
            values[k] = int(v) if k in ("chatter_toggles", "operators", "flood_per_10min") else float(v)
        policy = cls(**values)
        if policy.default_shelf_s > policy.max_shelf_s:
            raise ValueError("default_shelf_s cannot exceed max_shelf_s")
        return policy


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One thing that happened to an alarm: who, when, why, and the states around it."""

    at: float
    alarm: str
    action: str  # a Trigger, or assign / comment / update
    who: str
    why: str = ""
    before: str = ""
    after: str = ""
    domain: str = ""
    priority: str = ""

    def to_dict(self) -> dict:
        """JSON-ready view (written out: dataclasses.asdict deep-copies, and floods journal thousands)."""
        return {"at": self.at, "alarm": self.alarm, "action": self.action, "who": self.who, "why": self.why,
                "before": self.before, "after": self.after, "domain": self.domain, "priority": self.priority}


@dataclass(frozen=True, slots=True)
class Outcome:
    """The answer to one operator action on one alarm."""

    alarm: str
    result: str  # done, already, refused (by the alarm's state), forbidden (by the role table), not_found
    message: str = ""
    by: str | None = None  # for `already`: who did it first
    at: float | None = None
    state: str | None = None

    @property
    def ok(self) -> bool:
        """Did the action take effect (or had it already, which the operator wanted anyway)?"""
        return self.result in ("done", "already")

    def to_dict(self) -> dict:
        """JSON-ready view."""
        return asdict(self)


@dataclass(slots=True)
class AlarmRecord:
    """One alarm, keyed `<supervisor>/<its id>` or `vigie/<code>/<subject>`. Mutated only by AlarmBook."""

    id: str
    source: str  # "supervisor" or "vigie"
    domain: str
    supervisor: str
    asset: str
    code: str
    severity: str
    priority: Priority
    message: str
    state: AlarmState = AlarmState.NORMAL
    active: bool = False  # the process condition
    area: str = ""  # the asset's district (or commune) when known
    raised_at: float = 0.0  # the supervisor's time of the last activation
    seen_at: float = 0.0  # Vigie's time of the last activation (KPIs, staleness)
    cleared_at: float | None = None
    updated_at: float = 0.0
    acked_by: str | None = None
    acked_at: float | None = None
    ack_comment: str = ""
    shelved_by: str | None = None
    shelved_at: float | None = None
    shelved_until: float | None = None
    shelve_reason: str = ""
    parent: str | None = None  # the alarm upstream that suppresses this one
    release_at: float | None = None  # when a cleared parent lets this one go
    out_of_service_by: str | None = None
    out_of_service_reason: str = ""
    assignee: str | None = None
    assigned_at: float | None = None
    comments: int = 0
    children: int = 0  # alarms this one suppresses
    raise_count: int = 1
    chattering: bool = False
    alarm_class: str = "operator"  # from the master alarm database: operator, maintenance (never annunciated), event
    chatter_held: bool = False  # suppressed because it chatters (no parent): reversible, released when it steadies
    clear_due: float | None = None  # its clear waits for the off-delay (raised again meanwhile: no toggle)
    history: list[JournalEntry] = field(default_factory=list)

    @property
    def acknowledged(self) -> bool:
        """Nothing awaits an acknowledgement (hidden alarms included: they are not annunciated)."""
        return self.state not in UNACKED

    def to_dict(self) -> dict:
        """JSON-ready view (without the history: see AlarmBook.history)."""
        return {
            "id": self.id, "source": self.source, "domain": self.domain, "supervisor": self.supervisor,
            "asset": self.asset, "code": self.code, "severity": self.severity, "priority": str(self.priority),
            "message": self.message, "active": self.active, "acknowledged": self.acknowledged, "state": str(self.state),
            "area": self.area, "raised_at": self.raised_at, "seen_at": self.seen_at, "cleared_at": self.cleared_at,
            "updated_at": self.updated_at, "acked_by": self.acked_by, "acked_at": self.acked_at, "ack_comment": self.ack_comment,
            "shelved_by": self.shelved_by, "shelved_until": self.shelved_until, "shelve_reason": self.shelve_reason,
            "parent": self.parent, "children": self.children, "out_of_service_reason": self.out_of_service_reason,
            "assignee": self.assignee, "assigned_at": self.assigned_at, "comments": self.comments,
            "raise_count": self.raise_count, "chattering": self.chattering, "alarm_class": self.alarm_class,
            "chatter_held": self.chatter_held,
        }

    def to_record(self, history: bool = True) -> dict:
        """Everything, for persistence (the history too unless `history` is False: the store keeps it apart)."""
        out = {name: getattr(self, name) for name in RECORD_FIELDS}
        out["priority"], out["state"] = str(self.priority), str(self.state)
        if history:
            out["history"] = [h.to_dict() for h in self.history]
        return out

    @classmethod
    def from_record(cls, raw: dict) -> "AlarmRecord":
        """Rebuild from `to_record()` output (unknown keys ignored)."""
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in names and k != "history"}
        values["priority"], values["state"] = Priority(values["priority"]), AlarmState(values["state"])
        rec = cls(**values)
        rec.history = [JournalEntry(**h) for h in raw.get("history", [])]
        return rec


RECORD_FIELDS = tuple(f.name for f in fields(AlarmRecord) if f.name != "history")
