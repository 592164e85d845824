"""Alarm actions and commands forwarded from a web-only worker to the engine's process (services/feed/engine_rpc.py).

On a web-only worker, `RemoteAlarmActions` and `RemoteCommandService` stand in for the local ones:
the web worker still authorises and audits, then the engine's process applies the request through
the same code paths (`AlarmActions.apply`, `CommandService.open`, ...). `serve_alarms` and
`serve_commands` register those paths on the engine's server, with each op's arguments validated
again at the boundary.
"""
from __future__ import annotations

import functools
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Callable

import msgspec
from msgspec import Meta, Struct

from services.alarms.actions import ACTIONS, BULK_MAX, ActionsUnavailable, AlarmActions, AlarmId, BadRequest, UserName, parse_params
from services.commands.progress import Actor
from services.commands.service import (
    CommandConflict, CommandInvalid, CommandRequest, CommandService, CommandsUnavailable, ConfirmationNeeded, Selection,
)
from services.core.alarm_record import AlarmPolicy, Outcome
from services.feed.engine_rpc import EngineClient, EngineRpcServer, EngineUnreachable, Rejected, RemoteRefusal

if TYPE_CHECKING:
    from services.alarms.store import AlarmStore
    from services.supervisors.actions import SupervisorActions

Short = Annotated[str, Meta(max_length=120)]
Ident = Annotated[str, Meta(min_length=1, max_length=128)]
ParamValue = str | float | int | bool | None


class Op(StrEnum):
    """The operations a web-only worker may ask of the engine's process."""

    ALARM_APPLY = "alarm.apply"
    ALARM_DOMAINS = "alarm.domains"
    ALARM_DETAIL = "alarm.detail"
    ALARM_KPIS = "alarm.kpis"
    ALARM_POLICY = "alarm.policy"
    ALARM_SET_POLICY = "alarm.set_policy"
    COMMAND_OPEN = "command.open"
    COMMAND_PREVIEW = "command.preview"
    COMMAND_REVERT = "command.revert"
    COMMAND_CHOICES = "command.choices"
    COMMAND_BOUNDS = "command.bounds"
    SUPERVISORS_VIEW = "supervisors.view"
    SUPERVISORS_DECIDE = "supervisors.decide"


# --- the arguments of each op, as the engine's side validates them ----------------------------------

class NoArgs(Struct, forbid_unknown_fields=True):
    pass


class ApplyArgs(Struct, forbid_unknown_fields=True):
    action: Annotated[str, Meta(max_length=40)]
    ids: Annotated[list[AlarmId], Meta(min_length=1, max_length=BULK_MAX)]
    who: UserName
    params: dict[str, Any] = {}
    domains: dict[AlarmId, Short | None] | None = None


class IdsArgs(Struct, forbid_unknown_fields=True):
    ids: Annotated[list[AlarmId], Meta(min_length=1, max_length=BULK_MAX)]


class AlarmArgs(Struct, forbid_unknown_fields=True):
    alarm_id: AlarmId


class PolicyArgs(Struct, forbid_unknown_fields=True):
    policy: dict[str, Any]


class RequestDoc(Struct, forbid_unknown_fields=True):
    domain: Annotated[str, Meta(max_length=32)]
    action: Annotated[str, Meta(max_length=64)]
    params: Annotated[dict[Annotated[str, Meta(max_length=64)], ParamValue], Meta(max_length=32)] = {}
    ids: Annotated[list[Ident], Meta(max_length=200_000)] = []
    polygon: Annotated[list[tuple[float, float]], Meta(max_length=100_000)] = []
    reason: Annotated[str, Meta(max_length=500)] = ""
    confirm: bool = False
    key: Annotated[str, Meta(max_length=120)] | None = None


class ActorDoc(Struct, forbid_unknown_fields=True):
    user: UserName
    role: Short = ""
    kind: Short = "user"
    ip: Short = ""


class OpenArgs(Struct, forbid_unknown_fields=True):
    request: RequestDoc
    actor: ActorDoc
    cancels: Annotated[str, Meta(max_length=64)] | None = None


class PreviewArgs(Struct, forbid_unknown_fields=True):
    request: RequestDoc
    geo: bool = False


class RevertArgs(Struct, forbid_unknown_fields=True):
    command_id: Annotated[str, Meta(min_length=1, max_length=64)]
    key: Annotated[str, Meta(max_length=120)] | None = None


class ChoicesArgs(Struct, forbid_unknown_fields=True):
    domain: Annotated[str, Meta(max_length=32)]
    kind: Annotated[str, Meta(max_length=32)]


class DecideArgs(Struct, forbid_unknown_fields=True):
    decision: Annotated[str, Meta(max_length=16)]
    supervisor: Annotated[str, Meta(min_length=1, max_length=64)]
    who: UserName
    max_assets: int | None = None


class BoundsArgs(Struct, forbid_unknown_fields=True):
    domain: Annotated[str, Meta(max_length=32)]
    ids: Annotated[list[Ident], Meta(max_length=200_000)]


def request_doc(r: CommandRequest) -> dict[str, Any]:
    """A CommandRequest as JSON-ready data."""
    return {"domain": r.domain, "action": r.action, "params": dict(r.params), "ids": list(r.selection.ids),
            "polygon": [list(p) for p in r.selection.polygon], "reason": r.reason, "confirm": r.confirm, "key": r.key}


def request_of(doc: RequestDoc) -> CommandRequest:
    """The CommandRequest a validated document describes."""
    return CommandRequest(doc.domain, doc.action, doc.params, Selection(tuple(doc.ids), tuple(doc.polygon)), reason=doc.reason,
                          confirm=doc.confirm, key=doc.key)


# --- the engine's side -------------------------------------------------------------------------------

def _refusals(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Turn the project's refusals into RemoteRefusal, which travels back to the web worker."""
    @functools.wraps(fn)
    def run(args: Any) -> Any:
        try:
            return fn(args)
        except BadRequest as err:
            raise Rejected("bad_args", str(err)) from None
        except CommandInvalid as err:
            raise RemoteRefusal("invalid_command", str(err), {"field": err.field}) from None
        except ConfirmationNeeded as err:
            raise RemoteRefusal("confirmation_required", str(err), {"plan": err.plan}) from None
        except CommandConflict as err:
            raise RemoteRefusal("conflict", str(err)) from None
        except (ActionsUnavailable, CommandsUnavailable) as err:
            raise RemoteRefusal("unavailable", str(err)) from None

    return run


def serve_alarms(server: EngineRpcServer, actions: AlarmActions) -> None:
    """Apply forwarded alarm actions and reads with the engine's AlarmActions."""
    def apply(a: ApplyArgs) -> list[dict]:
        if a.action not in ACTIONS:
            raise Rejected("bad_args", f"unknown action {a.action[:40]!r}")
        outcomes = actions.apply(a.action, list(dict.fromkeys(a.ids)), a.who, parse_params(a.action, a.params), a.domains)
        return [o.to_dict() for o in outcomes]

    def set_policy(a: PolicyArgs) -> None:
        try:
            policy = AlarmPolicy.from_dict(a.policy)
        except (ValueError, TypeError) as err:
            raise Rejected("bad_args", f"policy: {err}") from None
        actions.set_policy(policy)

    server.serve(Op.ALARM_APPLY, ApplyArgs, _refusals(apply))
    server.serve(Op.ALARM_DOMAINS, IdsArgs, _refusals(lambda a: actions.domains(a.ids)))
    server.serve(Op.ALARM_DETAIL, AlarmArgs, _refusals(lambda a: actions.detail(a.alarm_id)))
    server.serve(Op.ALARM_KPIS, NoArgs, _refusals(lambda a: actions.kpis()))
    server.serve(Op.ALARM_POLICY, NoArgs, _refusals(lambda a: actions.policy().to_dict()))
    server.serve(Op.ALARM_SET_POLICY, PolicyArgs, _refusals(set_policy))


def serve_supervisors(server: EngineRpcServer, actions: "SupervisorActions") -> None:
    """Read the registry of supervisors and apply engineers' decisions with the engine's SupervisorActions."""
    from services.supervisors.actions import BadDecision, SupervisorsUnavailable

    def guarded(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def run(args: Any) -> Any:
            try:
                return fn(args)
            except BadDecision as err:
                raise Rejected("bad_args", str(err)) from None
            except SupervisorsUnavailable as err:
                raise RemoteRefusal("unavailable", str(err)) from None

        return run

    server.serve(Op.SUPERVISORS_VIEW, NoArgs, guarded(lambda a: actions.view()))
    server.serve(Op.SUPERVISORS_DECIDE, DecideArgs, guarded(lambda a: actions.decide(a.decision, a.supervisor, a.who, a.max_assets)))


def serve_commands(server: EngineRpcServer, service: CommandService) -> None:
    """Open, preview and revert forwarded commands with the engine's CommandService (its engine thread checks and sends)."""
    def open_(a: OpenArgs) -> list:
        doc, existed = service.open(request_of(a.request), Actor(a.actor.user, a.actor.role, a.actor.kind, a.actor.ip), cancels=a.cancels)
        return [doc, existed]

    server.serve(Op.COMMAND_OPEN, OpenArgs, _refusals(open_))
    server.serve(Op.COMMAND_PREVIEW, PreviewArgs, _refusals(lambda a: service.preview(request_of(a.request), geo=a.geo)))
    server.serve(Op.COMMAND_REVERT, RevertArgs, _refusals(lambda a: request_doc(service.revert_request(a.command_id, a.key))))
    server.serve(Op.COMMAND_CHOICES, ChoicesArgs, _refusals(lambda a: service.choices(a.domain, a.kind)))
    server.serve(Op.COMMAND_BOUNDS, BoundsArgs, _refusals(lambda a: service.bounds_of(a.domain, a.ids)))


# --- the web-only worker's side ----------------------------------------------------------------------

class RemoteAlarmActions(AlarmActions):
    """AlarmActions whose every engine step is applied by the engine's process."""

    def __init__(self, client: EngineClient, store: "AlarmStore | None" = None) -> None:
        super().__init__(None, store, timeout_s=client.timeout_s)
        self.client = client

    def _call(self, op: str, args: dict[str, Any] | None = None) -> Any:
        try:
            return self.client.call(op, args)
        except EngineUnreachable as err:
            raise ActionsUnavailable(str(err)) from err
        except RemoteRefusal as err:
            if err.kind == "bad_request":
                raise BadRequest(str(err)) from err
            raise ActionsUnavailable(f"the engine's process could not apply it ({err})") from err

    def apply(self, action: str, ids: list[str], who: str, params: Any, domains: dict[str, str | None] | None = None) -> list[Outcome]:
        """Apply one action to each alarm in the engine's process; one Outcome per alarm."""
        doc = {"action": action, "ids": ids, "who": who, "params": msgspec.to_builtins(params), "domains": domains}
        return [Outcome(**o) for o in self._call(Op.ALARM_APPLY, doc)]

    def domains(self, ids: list[str]) -> dict[str, str | None]:
        """Each alarm's domain (None: not held), from the engine's process."""
        return self._call(Op.ALARM_DOMAINS, {"ids": ids})

    def detail(self, alarm_id: str) -> dict | None:
        """One alarm, its children and its history, from the engine's process."""
        return self._call(Op.ALARM_DETAIL, {"alarm_id": alarm_id})

    def kpis(self) -> dict:
        """The alarm-system KPI report, from the engine's process."""
        return self._call(Op.ALARM_KPIS)

    def policy(self) -> AlarmPolicy:
        """The policy in force in the engine's process."""
        return AlarmPolicy.from_dict(self._call(Op.ALARM_POLICY))

    def set_policy(self, policy: AlarmPolicy) -> None:
        """Put a new policy in force in the engine's process (which keeps it)."""
        self._call(Op.ALARM_SET_POLICY, {"policy": policy.to_dict()})


class RemoteCommandService(CommandService):
    """A CommandService whose checks, sends and previews happen in the engine's process; reads come from the log."""

    def __init__(self, client: EngineClient, store: Any, audit: Any = None, **kwargs: Any) -> None:
        super().__init__(None, None, store, audit, **kwargs)
        self.client = client

    def _call(self, op: str, args: dict[str, Any]) -> Any:
        try:
            return self.client.call(op, args)
        except EngineUnreachable as err:
            raise CommandsUnavailable(str(err)) from err
        except RemoteRefusal as err:
            if err.kind == "invalid_command":
                raise CommandInvalid(str(err), str(err.extra.get("field", ""))) from err
            if err.kind == "confirmation_required":
                raise ConfirmationNeeded(str(err), err.extra.get("plan") or {}) from err
            if err.kind == "conflict":
                raise CommandConflict(str(err)) from err
            if err.kind == "bad_request":
                raise CommandInvalid(str(err)) from err
            raise CommandsUnavailable(f"the engine's process could not apply it ({err})") from err

    def open(self, request: CommandRequest, actor: Actor, *, cancels: str | None = None) -> tuple[dict[str, Any], bool]:
        """Check, open and send in the engine's process."""
        actor_doc = {"user": actor.user, "role": actor.role, "kind": actor.kind, "ip": actor.ip}
        doc, existed = self._call(Op.COMMAND_OPEN, {"request": request_doc(request), "actor": actor_doc, "cancels": cancels})
        return doc, bool(existed)

    def preview(self, request: CommandRequest, *, geo: bool = False) -> dict[str, Any]:
        """What the command would do, from the engine's process."""
        return self._call(Op.COMMAND_PREVIEW, {"request": request_doc(request), "geo": geo})

    def revert_request(self, command_id: str, key: str | None = None) -> CommandRequest:
        """The command that hands a command's targets back to automatic control, from the engine's process."""
        return request_of(msgspec.convert(self._call(Op.COMMAND_REVERT, {"command_id": command_id, "key": key}), RequestDoc))

    def choices(self, domain: str, kind: str) -> list[dict[str, str]]:
        """What an operator may pick by name, from the engine's process."""
        return self._call(Op.COMMAND_CHOICES, {"domain": domain, "kind": kind})

    def bounds_of(self, domain: str, ids: list[str]) -> tuple[float, float, float, float] | None:
        """The bounds of a selection, from the engine's process (None when unknown or unreachable)."""
        try:
            box = self._call(Op.COMMAND_BOUNDS, {"domain": domain, "ids": list(ids)})
        except CommandsUnavailable:
            return None
        return tuple(box) if box else None  # type: ignore[return-value]


class RemoteSupervisorActions:
    """SupervisorActions whose reads and decisions happen in the engine's process (a web-only worker)."""

    def __init__(self, client: EngineClient) -> None:
        self.client = client

    def _call(self, op: str, args: dict[str, Any] | None = None) -> Any:
        from services.supervisors.actions import BadDecision, SupervisorsUnavailable

        try:
            return self.client.call(op, args)
        except EngineUnreachable as err:
            raise SupervisorsUnavailable(str(err)) from err
        except RemoteRefusal as err:
            if err.kind == "bad_request":
                raise BadDecision(str(err)) from err
            raise SupervisorsUnavailable(f"the engine's process could not answer ({err})") from err

    def view(self) -> list[dict]:
        """Every registered supervisor, from the engine's process."""
        return self._call(Op.SUPERVISORS_VIEW)

    def domain_of(self, supervisor: str) -> str | None:
        """The domain a supervisor is registered for, from the engine's process."""
        return next((r["domain"] for r in self.view() if r["id"] == supervisor), None)

    def decide(self, decision: str, supervisor: str, who: str, max_assets: int | None = None) -> dict:
        """Approve, reject or remove in the engine's process."""
        from services.supervisors.actions import check

        max_assets = check(decision, supervisor, max_assets)
        return self._call(Op.SUPERVISORS_DECIDE, {"decision": decision, "supervisor": supervisor, "who": who, "max_assets": max_assets})
