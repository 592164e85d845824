"""An NGSI source's full state as a retained version (contract v2): what the relay writes instead of a `state`."""
from __future__ import annotations

from datetime import datetime, timezone

from services.contract import Codec, StateReady, sup_channel
from services.ngsi.bridge import SourceSupervisor
from services.ngsi.intake import map_notification

T0 = datetime(2026, 6, 21, 18, 0, tzinfo=timezone.utc).timestamp()
CODEC = Codec()


def lamps(*ids: int) -> list:
    entities = [{"id": f"lamp-{i}", "type": "Streetlight", "location": {"type": "Point", "coordinates": [3.87, 43.6 + i * 1e-4]},
                 "status": "ok", "powerState": "on"} for i in ids]
    return map_notification(entities, now=datetime.fromtimestamp(T0, timezone.utc), hint="lighting").mapped["lighting"]


def test_a_retained_version_holds_every_asset_with_its_reading_under_one_sequence_number() -> None:
    src = SourceSupervisor("lighting", "ngsi-o-lighting")
    src.take(lamps(1, 2), T0)
    assert src.due(T0)
    version = src.retained(T0, "b1", 1, 1, 15.0)
    ready = CODEC.decode(sup_channel("lighting", "ngsi-o-lighting", "state_ready"), version.announcement())
    assert isinstance(ready, StateReady) and (ready.seq, ready.snapshot, ready.parts, ready.assets) == (1, "b1-1", 1, 2)
    [part] = [CODEC.decode(sup_channel("lighting", "ngsi-o-lighting", "state"), p) for p in version.parts]
    assert (part.seq, part.snapshot, len(part.assets), len(part.readings)) == (1, "b1-1", 2, 2)
    assert not src.due(T0) and src.flush(T0) == []  # it stands for the state: the assets count as announced
    src.take(lamps(1), T0 + 1)
    assert src.flush(T0 + 1) == []  # nothing changed
