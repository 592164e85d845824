"""Start the command service a Vigie process needs: the engine's own, or a forwarder to it on a web-only worker.

Kept apart from `service.py` so that the command service and the engine's RPC (services/feed/engine_remote.py),
which builds on it, never import each other.
"""
from __future__ import annotations

from typing import Any

from services.audit import AuditLog
from services.commands.service import CommandService, Publisher, area_names
from services.commands.store import CommandStore
from services.feed.bus import CommandPublisher, bounded_client
from services.feed.engine_remote import RemoteCommandService, serve_commands


def start_commands(settings: Any, runtime: Any, audit: AuditLog | None = None, publisher: Publisher | None = None) -> CommandService:
    """Build and start the command service of a Vigie (`runtime` from services.runtime.start_services)."""
    store = CommandStore(bounded_client(runtime.redis_url))
    client = getattr(runtime, "engine_client", None)
    if runtime.engine is None and client is not None and publisher is None:  # a web-only worker: the engine's process sends
        return RemoteCommandService(client, store, audit, names=area_names(settings.territory)).start()
    # Vigie and the simulators share the territory clock (services/contract/clock.py): an expiry means the same to both.
    service = CommandService(runtime.engine, publisher or CommandPublisher(runtime.redis_url), store, audit,
                             names=area_names(settings.territory), clock=getattr(runtime, "clock", None) or runtime.engine.clock)
    rpc = getattr(runtime, "engine_rpc", None)
    if rpc is not None and publisher is None:  # web-only workers' commands, checked and sent by this service
        serve_commands(rpc, service)
    return service.start()
