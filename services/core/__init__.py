"""The hypervisor's pure core: live state, supervisor health, alarms, KPIs.

No Redis, no Flask, no clock inside: adapters feed it typed contract messages and the
current time (`now`, epoch seconds on Vigie's clock) and act on the events it returns.
"""
from .events import AlarmsChanged, AssetsChanged, Event, KpisChanged, StateNeeded, SupervisorChanged
from .hypervisor import CoreConfig, Hypervisor

__all__ = [
    "AlarmsChanged", "AssetsChanged", "Event", "KpisChanged", "StateNeeded", "SupervisorChanged",
    "CoreConfig", "Hypervisor",
]
