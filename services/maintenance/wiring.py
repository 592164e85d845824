"""Start the work-order service a Vigie process needs: the owner where the engine runs, a forwarder on a web-only worker."""
from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta, Struct

from services.commands.progress import Actor
from services.maintenance.service import (
    RemoteWorkOrders,
    WorkOrderInvalid,
    WorkOrderNotFound,
    WorkOrderService,
    WorkOrdersUnavailable,
)
from services.maintenance.store import WorkOrderStore

Short = Annotated[str, Meta(max_length=120)]


class ActorDoc(Struct, forbid_unknown_fields=True):
    user: Short
    role: Short = ""
    kind: Short = "user"
    ip: Short = ""


class CreateArgs(Struct, forbid_unknown_fields=True):
    body: dict[Short, Any]
    actor: ActorDoc
    source: Annotated[str, Meta(pattern=r"^(manual|gmao)\Z")] = "manual"


class UpdateArgs(Struct, forbid_unknown_fields=True):
    order_id: Annotated[str, Meta(min_length=1, max_length=64)]
    changes: dict[Short, Any]
    actor: ActorDoc


def _refusals(fn):
    from services.feed.engine_rpc import RemoteRefusal

    def run(args: Any) -> Any:
        try:
            return fn(args)
        except WorkOrderNotFound as err:
            raise RemoteRefusal("not_found", f"no work order {err}") from None
        except WorkOrderInvalid as err:
            raise RemoteRefusal("invalid", str(err)) from None
        except WorkOrdersUnavailable as err:
            raise RemoteRefusal("unavailable", str(err)) from None

    return run


def serve_workorders(rpc: Any, service: WorkOrderService) -> None:
    """Apply web-only workers' work-order changes here (the single writer)."""
    def actor(a: ActorDoc) -> Actor:
        return Actor(a.user, a.role, a.kind, a.ip)

    rpc.serve("workorder.create", CreateArgs, _refusals(lambda a: service.create(a.body, actor(a.actor), a.source)))
    rpc.serve("workorder.update", UpdateArgs, _refusals(lambda a: service.update(a.order_id, a.changes, actor(a.actor))))


def start_workorders(settings: Any, runtime: Any, audit: Any = None) -> WorkOrderService:
    """Build and start the work-order service of a Vigie (`runtime` from services.runtime.start_services)."""
    store = WorkOrderStore(runtime.redis_url)
    client = getattr(runtime, "engine_client", None)
    if runtime.engine is None and client is not None:
        return RemoteWorkOrders(client, store, audit).start()
    service = WorkOrderService(store, audit, runtime.engine, verify_s=settings_verify_s(settings))
    rpc = getattr(runtime, "engine_rpc", None)
    if rpc is not None:
        serve_workorders(rpc, service)
    return service.start()


def settings_verify_s(settings: Any) -> float:
    """How long telemetry must report no fault after a repair before it is verified: 10 min of the territory's time."""
    speed = getattr(settings, "simulator_speed", 1.0) if getattr(settings, "run_simulators", False) else 1.0
    return max(30.0, 600.0 / max(1.0, float(speed or 1.0)))
