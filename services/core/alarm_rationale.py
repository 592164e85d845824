"""The master alarm database (ISA-18.2 rationalisation): one record per alarm code, and what is not rationalised yet.

Each code Vigie can show (a supervisor's code, or one Vigie derives) has a record: its class (an operator alarm,
maintenance, or an event only), its priority, on- and off-delays, the deadband of a threshold alarm, its chattering
rule, the consequence of not acting, the corrective action, the time to respond and its words in French and English.
Pure: records are built from plain dicts (services/alarms/rationale_store.py reads the shipped YAML and the
engineers' edits); a code nobody rationalised gets the default record and is remembered for the engineers' list.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from .alarm_states import SEVERITY_TO_PRIORITY, Priority

LANGS = ("fr", "en")
MAX_TEXT = 1000
MAX_UNKNOWN = 500  # codes remembered for the "to rationalise" list


class AlarmClass(StrEnum):
    """What an alarm type is for."""

    OPERATOR = "operator"  # the control room must act: annunciated, counted
    MAINTENANCE = "maintenance"  # a crew must act, not the control room: handed to work orders, never annunciated
    EVENT = "event"  # recorded only


FOLLOW_SEVERITY = "supervisor"  # the priority follows the supervisor's severity (a code whose severity escalates)
PRIORITIES = (*(str(p) for p in Priority), FOLLOW_SEVERITY)


class RationaleError(ValueError):
    """A record that cannot be accepted, with the field and why."""


@dataclass(frozen=True, slots=True)
class Rationale:
    """One alarm type as rationalised: how it is classed, annunciated and answered."""

    code: str
    alarm_class: AlarmClass = AlarmClass.OPERATOR
    priority: str = FOLLOW_SEVERITY
    on_delay_s: float = 0.0  # the condition must last this long before the alarm is raised
    off_delay_s: float = 0.0  # ... and be normal this long before it clears
    deadband: float | None = None  # threshold alarms: the return band (applied by the supervisor; recorded here)
    deadband_unit: str = ""
    chatter_toggles: int | None = None  # more raises + clears than this in chatter_window_s: suppressed as chattering
    chatter_window_s: float | None = None
    respond_min: float | None = None  # the time the operator has to respond
    domain: str = ""
    source: str = "supervisor"  # or "vigie" (derived by Vigie)
    label: tuple[tuple[str, str], ...] = ()  # (lang, text)
    consequence: tuple[tuple[str, str], ...] = ()
    action: tuple[tuple[str, str], ...] = ()
    default: bool = False  # the default record given to an unknown code

    def priority_for(self, severity: str) -> Priority:
        """The priority an alarm of this type gets, given the supervisor's severity."""
        if self.priority == FOLLOW_SEVERITY:
            return SEVERITY_TO_PRIORITY.get(severity, Priority.LOW)
        return Priority(self.priority)

    def text(self, name: str, lang: str) -> str:
        """A text field in `lang` (French when missing)."""
        words = dict(getattr(self, name))
        return words.get(lang) or words.get("fr") or words.get("en") or ""

    def to_dict(self) -> dict:
        """JSON-ready view (what the YAML file and the API hold)."""
        return {"code": self.code, "class": str(self.alarm_class), "priority": self.priority, "on_delay_s": self.on_delay_s,
                "off_delay_s": self.off_delay_s, "deadband": self.deadband, "deadband_unit": self.deadband_unit,
                "chatter": None if self.chatter_toggles is None else {"toggles": self.chatter_toggles, "window_s": self.chatter_window_s},
                "respond_min": self.respond_min, "domain": self.domain, "source": self.source,
                "label": dict(self.label), "consequence": dict(self.consequence), "action": dict(self.action),
                "default": self.default}


def _number(raw: dict, key: str, *, optional: bool = False, upper: float = 7 * 86400.0) -> float | None:
    v = raw.get(key)
    if v is None and optional:
        return None
    if v is None:
        return 0.0
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0 or v > upper:
        raise RationaleError(f"{key}: a number from 0 to {upper:g} is expected, not {v!r}")
    return float(v)


def _words(raw: dict, key: str, required: bool) -> tuple[tuple[str, str], ...]:
    v = raw.get(key) or {}
    if not isinstance(v, dict) or any(k not in LANGS for k in v):
        raise RationaleError(f"{key}: a mapping of fr/en texts is expected")
    out = []
    for lang in LANGS:
        text = v.get(lang)
        if text is None or (isinstance(text, str) and not text.strip()):
            if required:
                raise RationaleError(f"{key}.{lang}: required")
            continue
        if not isinstance(text, str) or len(text) > MAX_TEXT or any(ord(c) < 32 and c not in "\n\t" for c in text):
            raise RationaleError(f"{key}.{lang}: plain text up to {MAX_TEXT} characters is expected")
        out.append((lang, text.strip()))
    return tuple(out)


FIELDS = {"code", "class", "priority", "on_delay_s", "off_delay_s", "deadband", "deadband_unit", "chatter", "respond_min",
          "domain", "source", "label", "consequence", "action", "default"}


def parse_rationale(raw: Any) -> Rationale:
    """Build one record from a dict (the YAML's or an engineer's form); raise RationaleError saying what is wrong."""
    if not isinstance(raw, dict):
        raise RationaleError("a record is a mapping")
    unknown = set(raw) - FIELDS
    if unknown:
        raise RationaleError(f"unknown field(s): {', '.join(sorted(map(str, unknown)))}")
    code = raw.get("code")
    if not isinstance(code, str) or not code or len(code) > 80 or not all(c.isalnum() or c in "_-.:" for c in code):
        raise RationaleError("code: letters, digits and _-.: expected (at most 80)")
    try:
        klass = AlarmClass(raw.get("class", "operator"))
    except ValueError as err:
        raise RationaleError(f"class: one of {', '.join(AlarmClass)} expected") from err
    priority = raw.get("priority", FOLLOW_SEVERITY)
    if priority not in PRIORITIES:
        raise RationaleError(f"priority: one of {', '.join(PRIORITIES)} expected")
    chatter = raw.get("chatter")
    toggles = window = None
    if chatter is not None:
        if not isinstance(chatter, dict) or set(chatter) - {"toggles", "window_s"}:
            raise RationaleError("chatter: {toggles, window_s} expected")
        t = chatter.get("toggles")
        if isinstance(t, bool) or not isinstance(t, int) or not 1 <= t <= 1000:
            raise RationaleError("chatter.toggles: a whole number from 1 to 1000 expected")
        toggles, window = t, _number(chatter, "window_s", upper=3600.0)
        if not window:
            raise RationaleError("chatter.window_s: a positive number of seconds expected")
    unit = raw.get("deadband_unit") or ""
    source = raw.get("source", "supervisor")
    domain = raw.get("domain") or ""
    if not isinstance(unit, str) or len(unit) > 20 or source not in ("supervisor", "vigie") or not isinstance(domain, str) \
            or len(domain) > 40:
        raise RationaleError("deadband_unit (text), source (supervisor or vigie) or domain (text) malformed")
    return Rationale(code=code, alarm_class=klass, priority=priority, on_delay_s=_number(raw, "on_delay_s", upper=3600.0),
                     off_delay_s=_number(raw, "off_delay_s", upper=3600.0),
                     deadband=_number(raw, "deadband", optional=True, upper=1e9), deadband_unit=unit,
                     chatter_toggles=toggles, chatter_window_s=window,
                     respond_min=_number(raw, "respond_min", optional=True, upper=30 * 24 * 60.0), domain=domain, source=source,
                     label=_words(raw, "label", True), consequence=_words(raw, "consequence", klass is not AlarmClass.EVENT),
                     action=_words(raw, "action", klass is not AlarmClass.EVENT), default=bool(raw.get("default", False)))


DEFAULT = Rationale(
    code="*", label=(("fr", "Alarme non rationalisée"), ("en", "Alarm not rationalised")),
    consequence=(("fr", "Non évaluée: ce type d'alarme n'a pas encore été rationalisé."),
                 ("en", "Not assessed: this alarm type has not been rationalised yet.")),
    action=(("fr", "Lire le message du superviseur et appeler l'astreinte du domaine en cas de doute."),
            ("en", "Read the supervisor's message and call the domain's on-call engineer when in doubt.")),
    default=True)


@dataclass(slots=True)
class Unrationalised:
    """A code heard that has no record: shown on the engineers' "to rationalise" list."""

    code: str
    domain: str
    supervisor: str
    first_seen: float
    last_seen: float
    count: int
    example: str

    def to_dict(self) -> dict:
        return {"code": self.code, "domain": self.domain, "supervisor": self.supervisor, "first_seen": self.first_seen,
                "last_seen": self.last_seen, "count": self.count, "example": self.example}


class RationaleBook:
    """Every record by code, the default for the rest, and the codes heard without one."""

    def __init__(self, records: Iterable[Rationale] = (), *, default: Rationale = DEFAULT, strict: bool = True) -> None:
        self.records: dict[str, Rationale] = {r.code: r for r in records}
        self.default = default
        self.strict = strict  # False: an empty book (a test's core) where every code is an operator alarm, none unknown
        self.unknown: dict[str, Unrationalised] = {}
        self.version = 0

    @classmethod
    def from_dicts(cls, raws: Iterable[Any]) -> RationaleBook:
        """Parse a list of records (RationaleError names the failing record)."""
        out, seen = [], set()
        for i, raw in enumerate(raws):
            try:
                r = parse_rationale(raw)
            except RationaleError as err:
                raise RationaleError(f"record {i + 1} ({raw.get('code') if isinstance(raw, dict) else '?'}): {err}") from err
            if r.code in seen:
                raise RationaleError(f"record {i + 1}: code {r.code} given twice")
            seen.add(r.code)
            out.append(r)
        return cls(out)

    def lookup(self, code: str) -> Rationale:
        """The record of `code`, or the default one (never None)."""
        r = self.records.get(code)
        return r if r is not None else replace(self.default, code=code)

    def note(self, code: str, domain: str, supervisor: str, message: str, now: float) -> Rationale:
        """The record for an alarm being raised; remember the code when it has none."""
        r = self.records.get(code)
        if r is not None:
            return r
        if self.strict:
            u = self.unknown.get(code)
            if u is None:
                if len(self.unknown) < MAX_UNKNOWN:
                    self.unknown[code] = Unrationalised(code, domain, supervisor, now, now, 1, message[:200])
            else:
                u.last_seen, u.count = now, u.count + 1
        return replace(self.default, code=code)

    def put(self, record: Rationale) -> None:
        """Add or replace a record (an engineer's edit): effective for the next raise of the code."""
        self.records[record.code] = record
        self.unknown.pop(record.code, None)
        self.version += 1

    def remove(self, code: str) -> bool:
        """Drop a record (its code falls back to the default)."""
        self.version += 1
        return self.records.pop(code, None) is not None

    def to_rationalise(self) -> list[dict]:
        """Codes heard without a record, most frequent first."""
        return [u.to_dict() for u in sorted(self.unknown.values(), key=lambda u: (-u.count, u.code))]

    def listing(self) -> list[dict]:
        """Every record, by domain then code."""
        return [r.to_dict() for r in sorted(self.records.values(), key=lambda r: (r.domain, r.code))]
