"""FIWARE NGSI (v2 and NGSI-LD) in and out: Smart Data Models entities mapped to Vigie and back.

In: `read_notification` -> `map_entity` (pure) turn broker notifications into asset definitions,
readings and alarm events; `SourceSupervisor` (pure) speaks the feed contract for one NGSI source;
`NgsiRelay` runs them against Redis. Out: `asset_entity` / `alarm_entity` (pure) give the Smart Data
Models entity of an asset or an alarm. The HTTP side is `services/web/ngsi.py`.
"""
from .bridge import SourceSupervisor
from .entities import Entity, NotificationError, read_notification
from .inbound import Mapped, Refusal, map_entity
from .intake import NGSI_KIND, Intake, map_notification, ngsi_channel, source_supervisor
from .alerts import alarm_entity
from .outbound import asset_entity, territory_areas
from .relay import NgsiRelay

__all__ = [
    "SourceSupervisor", "Entity", "NotificationError", "read_notification", "Mapped", "Refusal", "map_entity", "NGSI_KIND",
    "Intake", "map_notification", "ngsi_channel", "source_supervisor", "alarm_entity", "asset_entity", "territory_areas",
    "NgsiRelay",
]
