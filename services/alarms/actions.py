"""Alarm actions as requests to the engine thread (one owner, in order), with their validated parameters.

The API (services/web/alarms.py) and the console's callbacks both go through `AlarmActions`:
authorisation happens before, in the request; here an action becomes one `engine.execute` call
that applies it to every alarm asked, in order, and returns one Outcome per alarm.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Callable

import re

import msgspec
from msgspec import Meta, Struct

from services.alarms.rationale_store import shipped_book
from services.core.alarm_rationale import Rationale, parse_rationale
from services.core.alarm_record import AlarmPolicy, Outcome
from services.core.alarms import AlarmBook
from services.core.events import AlarmsChanged, Event

if TYPE_CHECKING:
    from services.alarms.store import AlarmStore
    from services.core import Hypervisor
    from services.feed.engine import Engine

# Words typed by people: any printable text (shown as text, never markup), no control or bidi-override characters.
_PRINTABLE = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]*\Z"
Words = Annotated[str, Meta(max_length=500, pattern="^" + _PRINTABLE)]
Reason = Annotated[str, Meta(min_length=1, max_length=500, pattern=r"^(?=[\s\S]*\S)" + _PRINTABLE)]  # not blank
AlarmId = Annotated[str, Meta(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9:._~@/+-]+\Z")]
UserName = Annotated[str, Meta(min_length=1, max_length=120, pattern=r"^[^\x00-\x1f\x7f-\x9f<>]+\Z")]
BULK_MAX = 5000


class AckParams(Struct, forbid_unknown_fields=True):
    comment: Words = ""


class ShelveParams(Struct, forbid_unknown_fields=True):
    reason: Reason
    minutes: Annotated[float, Meta(gt=0, le=7 * 24 * 60)] | None = None
    one_shot: bool = False


class ReasonParams(Struct, forbid_unknown_fields=True):
    reason: Words = ""


class RequiredReasonParams(Struct, forbid_unknown_fields=True):
    reason: Reason


class AssignParams(Struct, forbid_unknown_fields=True):
    to: UserName | None = None
    me: bool = True  # without `to`: assign to the caller (false: release)


class CommentParams(Struct, forbid_unknown_fields=True):
    text: Reason


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """An alarm action: the permission it needs, its parameters, and how it applies to the book."""

    permission: str
    params: type
    apply: Callable[[AlarmBook, str, str, float, Any], Outcome]
    verb: str  # for the audit log and messages


ACTIONS: dict[str, ActionSpec] = {
    "ack": ActionSpec("alarm.acknowledge", AckParams, lambda b, aid, who, now, p: b.ack(aid, who, now, p.comment), "acknowledged"),
    "shelve": ActionSpec("alarm.shelve", ShelveParams, lambda b, aid, who, now, p: b.shelve(
        aid, who, now, p.reason, None if p.minutes is None else p.minutes * 60, p.one_shot), "shelved"),
    "unshelve": ActionSpec("alarm.shelve", ReasonParams, lambda b, aid, who, now, p: b.unshelve(aid, who, now, p.reason), "unshelved"),
    "assign": ActionSpec("alarm.acknowledge", AssignParams, lambda b, aid, who, now, p: b.assign(
        aid, who, now, p.to if p.to is not None else (who if p.me else None)), "assigned"),
    "release-chatter": ActionSpec("alarm.shelve", ReasonParams, lambda b, aid, who, now, p: b.release_chatter(
        aid, who, now, p.reason), "released from chattering suppression"),
    "comment": ActionSpec("alarm.comment", CommentParams, lambda b, aid, who, now, p: b.comment(aid, who, now, p.text), "commented"),
    "out-of-service": ActionSpec("alarm.shelve", RequiredReasonParams, lambda b, aid, who, now, p: b.remove_from_service(
        aid, who, now, p.reason), "took out of service"),
    "return-to-service": ActionSpec("alarm.shelve", ReasonParams, lambda b, aid, who, now, p: b.return_to_service(
        aid, who, now, p.reason), "returned to service"),
}


class BadRequest(ValueError):
    """Parameters an action refuses; the text says which and why."""


class ActionsUnavailable(RuntimeError):
    """No engine in this process to apply alarm actions (a web-only worker), or it did not answer."""


def _words(err: msgspec.ValidationError) -> str:
    """A validation error in words (msgspec speaks of regexes)."""
    text = str(err)
    field = m.group(1) if (m := re.search(r"at `\$\.(\w+)", text)) else ""
    if "missing required field" in text:
        return f"{text.split('`')[1]} is required"
    if "regex" in text or "length" in text:
        return f"{field}: plain text, not blank, at most 500 characters"
    return text


def parse_params(action: str, raw: dict | None) -> Any:
    """Validate an action's parameters (a JSON object) into its typed form."""
    spec = ACTIONS.get(action)
    if spec is None:
        raise BadRequest(f"unknown action {action[:40]!r}")
    try:
        return msgspec.convert(raw or {}, spec.params)
    except msgspec.ValidationError as err:
        raise BadRequest(_words(err)) from None


def parse_ids(raw: object) -> list[str]:
    """Validate a list of alarm ids (1 to BULK_MAX, duplicates dropped, order kept)."""
    try:
        ids = msgspec.convert(raw, Annotated[list[AlarmId], Meta(min_length=1, max_length=BULK_MAX)])
    except msgspec.ValidationError as err:
        raise BadRequest(f"ids: {err}") from None
    return list(dict.fromkeys(ids))


def _changes(core: "Hypervisor") -> list[Event]:
    touched = core.alarms.take_touched()
    return [AlarmsChanged(tuple(touched))] if touched else []


class AlarmActions:
    """Applies alarm actions on the engine thread and reads what the console needs."""

    def __init__(self, engine: "Engine | None", store: "AlarmStore | None" = None, *, timeout_s: float = 10.0) -> None:
        self.engine = engine
        self.store = store
        self.timeout_s = timeout_s

    def _execute(self, fn: Callable[["Hypervisor", float], tuple[Any, list[Event]]]) -> Any:
        if self.engine is None:
            raise ActionsUnavailable("alarm actions are applied by the engine's process; this worker has none")
        from services.feed.engine import EngineUnavailable

        try:
            return self.engine.execute(fn, self.timeout_s)
        except EngineUnavailable as err:
            raise ActionsUnavailable(str(err)) from err

    def apply(self, action: str, ids: list[str], who: str, params: Any, domains: dict[str, str | None] | None = None) -> list[Outcome]:
        """Apply one action to each alarm in order, in one turn of the engine; one Outcome per alarm.

        `domains`: the domain each alarm was authorised for (None: it was not held); an alarm whose
        domain is not that any more (raised in between) is refused, never acted on unauthorised.
        """
        spec = ACTIONS[action]

        def one(core: "Hypervisor", aid: str, now: float) -> Outcome:
            if domains is not None:
                a = core.alarms.get(aid)
                if (a.domain if a is not None else None) != domains.get(aid):
                    return Outcome(aid, "refused", "the alarm changed meanwhile; try again")
            return spec.apply(core.alarms, aid, who, now, params)

        def run(core: "Hypervisor", now: float) -> tuple[list[Outcome], list[Event]]:
            return [one(core, aid, now) for aid in ids], _changes(core)

        return self._execute(run)

    def domains(self, ids: list[str]) -> dict[str, str | None]:
        """Each alarm's domain (None: not held) to authorise per domain before acting.

        Read from the engine's published view when it has one (no turn of the engine: an action then costs one
        turn, not two); `apply` checks each domain again on the engine thread and refuses an alarm that moved."""
        views = getattr(self.engine, "views", None)
        if views is not None:
            alarms = views.current.alarms
            return {aid: (a.domain if (a := alarms.get(aid)) is not None else None) for aid in ids}

        def run(core: "Hypervisor", now: float) -> tuple[dict, list[Event]]:
            return {aid: (a.domain if (a := core.alarms.get(aid)) else None) for aid in ids}, []

        return self._execute(run)

    def detail(self, alarm_id: str) -> dict | None:
        """One alarm, its children and its history (from Redis when it has returned to normal)."""
        def run(core: "Hypervisor", now: float) -> tuple[dict | None, list[Event]]:
            a = core.alarms.get(alarm_id)
            if a is None:
                return None, []
            return {"alarm": a.to_dict(), "children": [c.to_dict() for c in core.alarms.children(alarm_id)],
                    "history": core.alarms.history(alarm_id), "procedure": core.alarms.rationale.lookup(a.code).to_dict()}, []

        found = self._execute(run)
        if found is None and self.store is not None:
            history = self.store.history(alarm_id)
            return {"alarm": None, "children": [], "history": history} if history else None
        if found is not None and self.store is not None:
            older = self.store.history(alarm_id)
            seen = {(h["at"], h["action"]) for h in found["history"]}
            found["history"] = [h for h in older if (h["at"], h["action"]) not in seen] + found["history"]
        return found

    def kpis(self) -> dict:
        """The alarm-system KPI report."""
        return self._execute(lambda core, now: (core.alarms.kpis(now, full=True), []))

    def policy(self) -> AlarmPolicy:
        """The policy in force."""
        return self._execute(lambda core, now: (core.alarms.policy, []))

    def maintenance(self) -> list[dict]:
        """Active maintenance conditions (class `maintenance`), oldest first, with the refs to group them by."""
        return self._execute(lambda core, now: (core.alarms.maintenance_view(), []))

    def rationale(self) -> dict:
        """The master alarm database in force: every record, and the codes heard without one."""
        return self._execute(lambda core, now: ({"records": core.alarms.rationale.listing(),
                                                 "to_rationalise": core.alarms.rationale.to_rationalise(),
                                                 "default": core.alarms.rationale.default.to_dict()}, []))

    def put_rationale(self, raw: dict) -> Rationale:
        """Validate an engineer's record, keep it, and put it in force (next raise of its code); RationaleError if bad."""
        record = parse_rationale(raw)
        if self.store is not None:
            self.store.save_rationale(record.to_dict())
        self._execute(lambda core, now: (core.alarms.rationale.put(record), []))
        return record

    def revert_rationale(self, code: str) -> Rationale:
        """Forget an engineer's edit: the shipped record (or the default) is in force again."""
        if self.store is not None:
            self.store.drop_rationale(code)
        shipped = {r.code: r for r in shipped_book().records.values()}.get(code)

        def run(core: "Hypervisor", now: float) -> tuple[Rationale, list[Event]]:
            if shipped is not None:
                core.alarms.rationale.put(shipped)
            else:
                core.alarms.rationale.remove(code)
            return core.alarms.rationale.lookup(code), []

        return self._execute(run)

    def set_policy(self, policy: AlarmPolicy) -> None:
        """Put a new policy in force and keep it."""
        if self.store is not None:
            self.store.save_policy(policy)
        self._execute(lambda core, now: (core.alarms.set_policy(policy), []))
