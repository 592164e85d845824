"""The command log in the core: opens commands, applies answers and telemetry, keeps deadlines. Pure: `now` is given.

The Hypervisor owns one `CommandBook` and feeds it acks (`on_ack`), the ids of assets whose
values changed (`observe`) and the time (`tick`); every change comes back as a
`CommandsChanged` event. Idempotency: a (user, key) pair names one command for `keep_s`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from services.contract.messages import Ack

from .assets import TerritoryState
from .command_effects import Plan
from .command_specs import RETURNED, CommandInvalid
from .commands import FINAL, CommandRecord, Override, Status, Step, Verification
from .events import CommandsChanged, Event

PURGE_EVERY_S = 60.0


@dataclass(frozen=True, slots=True)
class CommandConfig:
    """How long Vigie waits for answers and telemetry, and what it keeps in memory."""

    ack_timeout_s: float = 10.0  # sent -> accepted/rejected
    apply_timeout_s: Mapping[str, float] = field(default_factory=lambda: {"lighting": 60.0, "water": 120.0, "traffic": 240.0})
    verify_s: float = 120.0  # applied -> telemetry shows it
    keep_s: float = 24 * 3600.0  # finished commands (and idempotency keys) kept in memory
    keep_max: int = 2000
    hold_s: float = 4 * 3600.0  # a permanent command's targets are watched for drift this long after it is applied
    drift_grace_s: float = 30.0  # an override's last seconds: a target going back to automatic early is not a drift


class CommandConflict(ValueError):
    """An idempotency key reused for a different command."""


class CommandBook:
    """Every recent command, by id; the single writer is the Hypervisor's thread."""

    def __init__(self, config: CommandConfig | None = None) -> None:
        self.config = config or CommandConfig()
        self.records: dict[str, CommandRecord] = {}
        self._keys: dict[tuple[str, str], str] = {}
        self._open: set[str] = set()  # records with something still to watch (deadline, telemetry, countdown)
        self._verify: dict[str, set[str]] = {}  # asset id -> commands waiting for its telemetry
        self._return: dict[str, set[str]] = {}  # asset id -> ended overrides waiting for it back on schedule
        self._hold: dict[str, set[str]] = {}  # asset id -> confirmed commands whose state it must keep (drift watch)
        self._drift_news: dict[str, bool] = {}  # command id -> drifting now (started/ended since the last take_drift)
        self._purged_at = float("-inf")
        self._state: TerritoryState | None = None  # the core's state, remembered from the first answer (tick has none)
        self.ignored_acks = 0

    @property
    def watching(self) -> bool:
        """Is any command waiting for telemetry (the ingest path skips `observe` otherwise)?"""
        return bool(self._verify or self._return or self._hold)

    # --- opening ----------------------------------------------------------------------------

    def by_key(self, user: str, key: str | None, fingerprint: str) -> CommandRecord | None:
        """The command already opened with this idempotency key, or None; CommandConflict if it differs."""
        if not key:
            return None
        rec = self.records.get(self._keys.get((user, key), ""))
        if rec is not None and rec.fingerprint != fingerprint:
            raise CommandConflict(f"the idempotency key {key!r} was used for another command ({rec.id})")
        return rec

    def open(self, plan: Plan, *, command_id: str, user: str, now: float, role: str = "", actor_kind: str = "", ip: str = "",
             cancels: str | None = None) -> tuple[CommandRecord, list[Event]]:
        """Record a checked command as `requested`, with its answer deadline."""
        r = plan.request
        rec = CommandRecord(id=command_id, domain=r.domain, supervisor=plan.supervisor, action=r.action, params=plan.params,
                            targets=plan.targets, assets=plan.assets, label=plan.label, user=user, requested_at=now, role=role,
                            actor_kind=actor_kind, ip=ip, reason=r.reason.strip(), key=r.key, fingerprint=r.fingerprint(),
                            effect=plan.effect, large=[{"rule": x.rule, "message": x.message, "values": dict(x.values)} for x in plan.large], cancels=cancels)
        rec.deadline = now + self.config.ack_timeout_s
        self._add(rec)
        return rec, [CommandsChanged((rec.id,))]

    def _add(self, rec: CommandRecord) -> None:
        self.records[rec.id] = rec
        if rec.key:
            self._keys[(rec.user, rec.key)] = rec.id
        self._open.add(rec.id)

    def sent(self, command_id: str, now: float, receivers: int) -> list[Event]:
        """The command is on the bus; nobody listening means nobody will answer."""
        rec = self.records.get(command_id)
        if rec is None:
            return []
        if receivers <= 0:
            return self._move(rec, Step.NOT_SENT, now, f"not delivered: no supervisor listens on cmd.{rec.domain}.{rec.supervisor}")
        return self._move(rec, Step.SENT, now)

    def not_sent(self, command_id: str, now: float, why: str) -> list[Event]:
        """Publishing failed (the bus is down): the command did not leave Vigie."""
        rec = self.records.get(command_id)
        return [] if rec is None else self._move(rec, Step.NOT_SENT, now, f"not sent: {why}")

    # --- answers, telemetry, time -----------------------------------------------------------

    def on_ack(self, ack: Ack, state: TerritoryState, now: float) -> list[Event]:
        """Apply a supervisor's answer; unknown, foreign and duplicate answers are ignored and counted."""
        rec = self.records.get(ack.command_id)
        if rec is None or rec.supervisor != ack.supervisor or rec.domain != ack.domain:
            self.ignored_acks += 1
            return []
        if ack.status in ("applied", "partial", "failed"):
            if not rec.move(Step(ack.status), now, ack.reason or ""):
                self.ignored_acks += 1
                return []
            rec.applied, rec.failed, rec.message = list(ack.applied), list(ack.failed), ack.reason or ""
            rec.deadline = None
            if rec.status in (Status.APPLIED, Status.PARTIAL) and (rec.applied or not rec.failed):
                self._applied(rec, state, now)
            else:
                self._unapplied(rec)
            self._open.add(rec.id)
            return [CommandsChanged((rec.id,))]
        return self._move(rec, Step(ack.status), now, ack.reason or "")

    def _move(self, rec: CommandRecord, step: Step, now: float, detail: str = "") -> list[Event]:
        if not rec.move(step, now, detail):
            self.ignored_acks += step in (Step.ACCEPTED, Step.REJECTED)
            return []
        if step in (Step.REJECTED, Step.NOT_SENT, Step.TIMEOUT):
            rec.message = detail
        if rec.status is Status.ACCEPTED:
            rec.deadline = now + self.config.apply_timeout_s.get(rec.domain, 120.0)
        elif rec.status is Status.SENT:
            rec.deadline = rec.requested_at + self.config.ack_timeout_s
        else:
            rec.deadline = None
        if rec.final:
            self._unapplied(rec)
        self._open.add(rec.id)
        return [CommandsChanged((rec.id,))]

    @staticmethod
    def _unapplied(rec: CommandRecord) -> None:
        """A command that ended without taking effect: nothing to verify, no countdown."""
        if rec.override is Override.PENDING:
            rec.override = Override.NONE
        if rec.verification is Verification.WAITING:
            rec.verification = Verification.NOT_APPLICABLE

    def _applied(self, rec: CommandRecord, state: TerritoryState, now: float) -> None:
        self._state = state
        self._supersede(rec, now)
        if rec.override is Override.PENDING and rec.override_s:
            rec.override, rec.override_until = Override.ACTIVE, now + rec.override_s
        elif rec.override is Override.NONE and rec.expect is not None:
            rec.hold_until = now + self.config.hold_s
        if rec.expect is not None:
            rec.verification, rec.verify_deadline = Verification.PENDING, now + self.config.verify_s
            for aid in rec.checked():
                self._verify.setdefault(aid, set()).add(rec.id)
            self._check(rec, rec.checked(), state)
        if rec.cancels:
            self._cancel_done(rec, now)

    def _check(self, rec: CommandRecord, ids: Iterable[str], state: TerritoryState) -> bool:
        """Note the targets whose telemetry shows the command; return whether anything moved."""
        assert rec.expect is not None
        moved = False
        for aid in ids:
            a = state.get(aid)
            if a is not None and aid not in rec.confirmed and rec.expect.met(a.values):
                rec.confirmed.add(aid)
                self._unwatch(self._verify, aid, rec.id)
                moved = True
        if len(rec.confirmed) >= len(rec.checked()) and rec.verification is Verification.PENDING:
            rec.verification, rec.unconfirmed = Verification.CONFIRMED, []
            if self._holds(rec):  # from now on, the targets must keep the commanded state
                for aid in rec.confirmed:
                    self._hold.setdefault(aid, set()).add(rec.id)
        return moved

    def observe(self, ids: Iterable[str], state: TerritoryState, now: float) -> list[Event]:
        """Assets whose values changed: confirm commands (and returns to schedule) they were waiting for."""
        touched: dict[str, list[str]] = {}
        returned: dict[str, list[str]] = {}
        for aid in ids:
            for cid in self._verify.get(aid, ()):
                touched.setdefault(cid, []).append(aid)
            for cid in self._return.get(aid, ()):
                returned.setdefault(cid, []).append(aid)
        changed = [cid for cid, aids in touched.items() if self._check(self.records[cid], aids, state)]
        held: dict[str, list[str]] = {}
        for aid in ids:
            for cid in self._hold.get(aid, ()):
                held.setdefault(cid, []).append(aid)
        changed += [cid for cid, aids in held.items() if self._check_hold(self.records[cid], aids, state, now)]
        for cid, aids in returned.items():
            if self._check_return(self.records[cid], aids, state):
                changed.append(cid)
        for cid in changed:
            self.records[cid].rev += 1
        return [CommandsChanged(tuple(dict.fromkeys(changed)))] if changed else []

    # --- drift: a confirmed target leaving the commanded state while the command holds ---------

    @staticmethod
    def _holds(rec: CommandRecord) -> bool:
        """Should the targets keep the commanded state now (an active override, a permanent command being watched)?"""
        return rec.expect is not None and (rec.override is Override.ACTIVE or (rec.override is Override.NONE and rec.hold_until is not None))

    def _check_hold(self, rec: CommandRecord, ids: Iterable[str], state: TerritoryState, now: float) -> bool:
        """Note targets that left the commanded state (drift) or came back to it; return whether anything moved."""
        assert rec.expect is not None
        if rec.override is Override.ACTIVE and rec.override_until is not None and rec.override_until - now <= self.config.drift_grace_s:
            return False  # the supervisor's own countdown may end a little before ours
        moved = False
        for aid in ids:
            a = state.get(aid)
            if a is None:
                continue
            if not rec.expect.met(a.values):
                if aid not in rec.drifted:
                    rec.drifted[aid] = a.values.get(rec.expect.field)
                    moved = True
            elif aid in rec.drifted:
                del rec.drifted[aid]
                moved = True
        if not moved:
            if any(aid in rec.drifted for aid in ids):
                self._drift_news[rec.id] = True  # a drifted target's fault came or went: the alarm is looked at again
            return False
        self._drift_news[rec.id] = bool(rec.drifted)  # the alarm follows which targets drift (see drift_target)
        if rec.drifted and rec.verification is not Verification.DRIFT:
            rec.verification, rec.drift_at = Verification.DRIFT, now
            first = next(iter(rec.drifted))
            rec.history.append({"status": "drift", "at": now,
                                "detail": f"drift observed: {first} reports {rec.expect.field} {rec.drifted[first]!r}, "
                                          f"commanded {rec.expect.value!r}"})
        elif not rec.drifted and rec.verification is Verification.DRIFT:
            rec.verification, rec.drift_at = Verification.CONFIRMED, None
            rec.history.append({"status": "drift_over", "at": now, "detail": "back in the commanded state"})
        rec.rev += 1
        return True

    def _release_hold(self, rec: CommandRecord) -> None:
        """The command no longer holds (override over, watch over, superseded): stop watching, end any drift alarm."""
        for aid in list(rec.confirmed) + list(rec.drifted):
            self._unwatch(self._hold, aid, rec.id)
        rec.hold_until = None
        if rec.drifted:
            rec.drifted = {}
            self._drift_news[rec.id] = False  # the verdict stays "drift" in its story; the condition is over

    def _supersede(self, rec: CommandRecord, now: float) -> None:
        """A newer command applied on the same targets: the older ones stop expecting their state there."""
        for aid in rec.checked():
            for old_id in list(self._hold.get(aid, ())):
                if old_id == rec.id:
                    continue
                old = self.records[old_id]
                self._unwatch(self._hold, aid, old_id)
                old.confirmed.discard(aid)
                if aid in old.drifted:
                    del old.drifted[aid]
                    old.rev += 1
                    self._drift_news[old_id] = bool(old.drifted)
                self._open.add(old_id)

    @staticmethod
    def drift_target(rec: CommandRecord, state: TerritoryState) -> str | None:
        """The first drifted target worth an alarm: one not reporting a fault (its own fault alarm already says it)."""
        for aid in rec.drifted:
            a = state.get(aid)
            if a is None or a.values.get("status") in (None, "ok", "closed"):
                return aid
        return None

    def take_drift(self) -> dict[str, bool]:
        """The commands whose drift started (True) or ended (False) since the last call (the core raises or clears alarms)."""
        news, self._drift_news = self._drift_news, {}
        return news

    def _check_return(self, rec: CommandRecord, ids: Iterable[str], state: TerritoryState) -> bool:
        expect = RETURNED.get(rec.domain)
        moved = False
        for aid in ids:
            a = state.get(aid)
            if expect is not None and a is not None and aid not in rec.returned and expect.met(a.values):
                rec.returned.add(aid)
                self._unwatch(self._return, aid, rec.id)
                moved = True
        return moved

    def tick(self, now: float) -> list[Event]:
        """Time out silent supervisors, judge telemetry at its deadline, end overrides; forget old commands."""
        changed: list[str] = []
        for cid in list(self._open):
            rec = self.records[cid]
            if rec.deadline is not None and now >= rec.deadline and not rec.final:
                waited = now - (rec.history[-1]["at"] if rec.status is Status.ACCEPTED else rec.requested_at)
                why = (f"{rec.supervisor} accepted the command but reported no result within {waited:.0f} s" if rec.status is Status.ACCEPTED
                       else f"no answer from {rec.supervisor} within {waited:.0f} s: the supervisor may be down or silent")
                changed += [e.command_ids[0] for e in self._move(rec, Step.TIMEOUT, now, why)]  # type: ignore[union-attr]
            if rec.verification is Verification.PENDING and rec.verify_deadline is not None and now >= rec.verify_deadline:
                rec.verification = Verification.MISMATCH
                rec.unconfirmed = [a for a in rec.checked() if a not in rec.confirmed]
                for aid in rec.unconfirmed:
                    self._unwatch(self._verify, aid, cid)
                rec.rev += 1
                changed.append(cid)
            if rec.override is Override.ACTIVE and rec.override_until is not None and now >= rec.override_until:
                self._end_override(rec, Override.ENDED, now)
                changed.append(cid)
            if rec.hold_until is not None and now >= rec.hold_until:
                self._release_hold(rec)
                rec.rev += 1
                changed.append(cid)
            if rec.return_deadline is not None and now >= rec.return_deadline:
                for aid in rec.checked():
                    self._unwatch(self._return, aid, cid)
                rec.return_deadline = None
            if self._settled(rec):
                self._open.discard(cid)
        if now - self._purged_at >= PURGE_EVERY_S:
            self._purged_at = now
            self._purge(now)
        return [CommandsChanged(tuple(dict.fromkeys(changed)))] if changed else []

    def _settled(self, rec: CommandRecord) -> bool:
        return rec.final and rec.verification is not Verification.PENDING and rec.override is not Override.ACTIVE \
            and rec.return_deadline is None and rec.hold_until is None

    def _end_override(self, rec: CommandRecord, how: Override, now: float) -> None:
        rec.override = how
        self._release_hold(rec)
        rec.history.append({"status": str(how), "at": now, "detail": "override over: back to automatic control"})
        rec.rev += 1
        if RETURNED.get(rec.domain) is not None:
            rec.return_deadline = now + self.config.verify_s
            for aid in rec.checked():
                self._return.setdefault(aid, set()).add(rec.id)
            if self._state is not None:  # telemetry of the same batch may already show it
                self._check_return(rec, rec.checked(), self._state)

    def _cancel_done(self, rec: CommandRecord, now: float) -> None:
        original = self.records.get(rec.cancels or "")
        if original is None or rec.status not in (Status.APPLIED, Status.PARTIAL):
            return
        original.cancelled_by = rec.id
        if original.override in (Override.ACTIVE, Override.NONE):
            self._end_override(original, Override.CANCELLED, now)
            self._open.add(original.id)

    @staticmethod
    def _unwatch(index: dict[str, set[str]], aid: str, cid: str) -> None:
        ids = index.get(aid)
        if ids is not None:
            ids.discard(cid)
            if not ids:
                del index[aid]

    def _purge(self, now: float) -> None:
        done = [r for r in self.records.values() if r.final and r.id not in self._open]
        done.sort(key=lambda r: r.updated_at)
        excess = max(0, len(done) - self.config.keep_max)
        for n, r in enumerate(done):
            if n < excess or now - r.updated_at > self.config.keep_s:
                del self.records[r.id]
                if r.key:
                    self._keys.pop((r.user, r.key), None)

    # --- cancel, restore, reading -----------------------------------------------------------

    def revert_of(self, command_id: str) -> CommandRecord:
        """The command an operator may hand back to automatic control; CommandInvalid says why not."""
        rec = self.records.get(command_id)
        if rec is None:
            raise CommandInvalid(f"unknown command {command_id!r}", "command")
        if rec.revert is None:
            raise CommandInvalid(f"{rec.action} cannot be cancelled: nothing hands it back to automatic control", "command")
        if rec.status not in (Status.APPLIED, Status.PARTIAL):
            raise CommandInvalid(f"only an applied command can be cancelled; this one is {rec.status}", "command")
        if rec.override in (Override.ENDED, Override.CANCELLED):
            raise CommandInvalid(f"this command is already over ({rec.override})", "command")
        return rec

    def restore(self, docs: Iterable[dict[str, Any]], state: TerritoryState, now: float) -> list[Event]:
        """Take back commands persisted before a restart; open ones keep their deadlines."""
        ids = []
        for d in docs:
            if d.get("id") in self.records:
                continue
            rec = CommandRecord.from_dict(d)
            self._add(rec)
            if rec.verification is Verification.PENDING:
                for aid in rec.checked():
                    self._verify.setdefault(aid, set()).add(rec.id)
                self._check(rec, rec.checked(), state)
            elif rec.verification in (Verification.CONFIRMED, Verification.DRIFT) and self._holds(rec):
                rec.confirmed = set(rec.checked()) - set(rec.unconfirmed)
                for aid in rec.confirmed:
                    self._hold.setdefault(aid, set()).add(rec.id)
                self._check_hold(rec, rec.confirmed, state, now)
            ids.append(rec.id)
        return [CommandsChanged(tuple(ids))] if ids else []

    def get(self, command_id: str) -> CommandRecord | None:
        """A command by id (recent ones; older ones are in the persisted log)."""
        return self.records.get(command_id)

    def for_asset(self, asset_id: str, limit: int = 10) -> list[CommandRecord]:
        """The newest commands naming an asset (as a target or among the assets it stands for)."""
        found = [r for r in self.records.values() if r.names(asset_id)]
        return sorted(found, key=lambda r: -r.requested_at)[:limit]

    def pending(self) -> list[CommandRecord]:
        """Commands still waiting for an answer, newest first."""
        return sorted((r for r in self.records.values() if not r.final), key=lambda r: -r.requested_at)


DRIFT_TEXT = {  # the alarm Vigie raises when a target leaves a command's state while the command should hold
    "fr": "Écart constaté : {asset} montre {field} {got} au lieu de {want}{more}",
    "en": "Drift observed: {asset} shows {field} {got} instead of {want}{more}",
}
DRIFT_MORE = {"fr": " (commande « {label} » : {n} équipement(s) hors commande)", "en": " (command '{label}': {n} asset(s) off it)"}
FIELD_WORDS = {
    "fr": {"position": "une ouverture de", "illuminanceLevel": "un niveau de", "signalPlan": "le plan", "running": "marche :",
           "setpoint": "une consigne de", "closed": "fermée :", "controlMode": "le mode"},
    "en": {"position": "an opening of", "illuminanceLevel": "a level of", "signalPlan": "the plan", "running": "running:",
           "setpoint": "a setpoint of", "closed": "closed:", "controlMode": "the mode"},
}
VALUE_WORDS = {
    "fr": {"normal": "normal", "peak": "de pointe", "greenWave": "onde verte", "flashingAmber": "orange clignotant",
           "schedule": "programme", "override": "forçage", "manual": "manuel", True: "oui", False: "non"},
    "en": {"normal": "normal", "peak": "peak", "greenWave": "green wave", "flashingAmber": "flashing amber",
           "schedule": "schedule", "override": "override", "manual": "manual", True: "yes", False: "no"},
}


def _value_words(field: str, v: Any, lang: str) -> str:
    if isinstance(v, bool) or isinstance(v, str):
        return str(VALUE_WORDS[lang].get(v, v))
    if isinstance(v, (int, float)):
        if field in ("position", "illuminanceLevel"):
            return f"{100 * v:.0f} %"
        if field == "setpoint":
            return f"{v:g} bar".replace(".", "," if lang == "fr" else ".")
        return f"{v:g}"
    return "—" if v is None else str(v)


def drift_message(rec: CommandRecord, asset_name: str, lang: str = "fr", first: str | None = None) -> str:
    """The drift alarm's text in the site's language: which target shows what instead of what was commanded."""
    lang = lang if lang in DRIFT_TEXT else "en"
    assert rec.expect is not None and rec.drifted
    first = first if first in rec.drifted else next(iter(rec.drifted))
    f = rec.expect.field
    more = "" if len(rec.assets) == 1 else DRIFT_MORE[lang].format(label=rec.label, n=len(rec.drifted))
    return DRIFT_TEXT[lang].format(asset=asset_name or first, field=FIELD_WORDS[lang].get(f, f), got=_value_words(f, rec.drifted[first], lang),
                                   want=_value_words(f, rec.expect.value, lang), more=more)


__all__ = ["CommandBook", "CommandConfig", "CommandConflict", "FINAL", "drift_message"]
