"""One NGSI source seen as a supervisor of the feed contract: its assets, sequence numbers and messages.

Pure: it turns mapped entities into contract messages (`state`, `telemetry`, `alarm`, `heartbeat`)
and remembers what it told Vigie, so it can answer a `state_request` with the full picture. A new
asset is announced in a full `state` before any reading of it is sent; full states are spaced out
(`state_spacing`) so a broker replaying thousands of entities one by one does not cost a state each.
The NGSI relay keeps that full state retained in Redis instead (contract v2, `retained`).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable

import msgspec

from services.contract import AlarmEvent, AssetDef, sup_channel
from services.contract.messages import READING_TYPES, Ack, Alarm, Heartbeat, State, StateReady, Telemetry
from services.contract.retained import RetainedVersion

from .inbound import Mapped

Outgoing = list[tuple[str, bytes]]
STATE_CHUNK = 2000
TELEMETRY_CHUNK = 500
_encode = msgspec.json.Encoder().encode


def state_spacing(assets: int, minimum_s: float = 0.5) -> float:
    """Seconds to wait between two full states of a source with this many assets."""
    return max(minimum_s, assets / 20000.0)


class SourceSupervisor:
    """The contract-facing side of one NGSI source in one domain (single writer: the relay's thread)."""

    def __init__(self, domain: str, supervisor: str, *, refresh_s: float = 30.0, min_spacing_s: float = 0.5) -> None:
        self.domain = domain
        self.supervisor = supervisor
        self.refresh_s = refresh_s
        self.min_spacing_s = min_spacing_s
        self.seq = 0
        self.assets: dict[str, AssetDef] = {}
        self.readings: dict[str, dict] = {}  # asset id -> latest reading fields
        self.alarms: dict[str, AlarmEvent] = {}  # active alarms by id
        self.announced: set[str] = set()  # asset ids sent in a state
        self.changed: set[str] = set()  # ids whose definition or reading changed since last persisted
        self.alarms_changed = False  # the set of active alarms changed since last persisted
        self.last_heard: float | None = None
        self.refused_recently = 0
        self._held: dict[str, dict] = {}  # readings of assets not announced yet
        self._pending: dict[str, dict] = {}  # readings to send in the next telemetry
        self._events: list[AlarmEvent] = []
        self._redefined = False
        self._closed: dict[str, None] = {}  # alerts already raised and cleared (expired): not replayed
        self._last_state = float("-inf")
        self._reading_type = READING_TYPES[domain]

    # --- taking entities in ---------------------------------------------------------------

    def take(self, mapped: Iterable[Mapped], now: float) -> None:
        """Remember what the entities say; `flush` turns it into messages."""
        self.last_heard = now
        for m in mapped:
            if m.remove:
                self._remove(m)
            elif m.asset is not None:
                self._define(m.asset, m.define_if_new)
                if m.reading is not None:
                    self._read(m.reading)
            if len(m.alarms) == 2 and m.alarms[0].id in self._closed:
                continue  # an expired alert the broker sends again
            for ev in m.alarms:
                self._alarm(ev)

    def _define(self, asset: AssetDef, only_if_new: bool) -> None:
        old = self.assets.get(asset.id)
        if old is not None and (only_if_new or old == asset):
            return
        self.assets[asset.id] = asset
        self.changed.add(asset.id)
        if old is not None:
            self._redefined = True

    def _read(self, reading: msgspec.Struct) -> None:
        fields = {k: v for k, v in msgspec.structs.asdict(reading).items() if v is not None and k != "asset"}
        if not fields:
            return
        aid = reading.asset  # type: ignore[attr-defined]
        known = self.readings.setdefault(aid, {})
        fields = {k: v for k, v in fields.items() if known.get(k) != v}  # brokers notify unchanged values too
        if not fields:
            return
        known.update(fields)
        self.changed.add(aid)
        target = self._pending if aid in self.announced else self._held
        target.setdefault(aid, {}).update(fields)

    def _alarm(self, ev: AlarmEvent) -> None:
        if ev.action == "raise":
            self._closed.pop(ev.id, None)
            if self.alarms.get(ev.id) == ev:
                return
            self.alarms[ev.id] = ev
        else:
            if self.alarms.pop(ev.id, None) is None and not self._events_raise(ev.id):
                return
            self._closed[ev.id] = None
            if len(self._closed) > 10000:
                del self._closed[next(iter(self._closed))]
        self.alarms_changed = True
        self._events.append(ev)

    def _events_raise(self, alarm_id: str) -> bool:
        return any(e.id == alarm_id and e.action == "raise" for e in self._events)

    def _remove(self, m: Mapped) -> None:
        if m.asset is not None and self.assets.pop(m.asset.id, None) is not None:
            self.readings.pop(m.asset.id, None)
            self.announced.discard(m.asset.id)
            self.changed.add(m.asset.id)
            self._redefined = True

    # --- messages out -----------------------------------------------------------------------

    def due(self, now: float) -> bool:
        """Is a full state owed now (new assets waiting, or redefinitions to publish)?"""
        spacing = state_spacing(len(self.assets), self.min_spacing_s)
        if self._held or (set(self.assets) - self.announced):
            return now - self._last_state >= spacing
        return self._redefined and now - self._last_state >= max(spacing, self.refresh_s)

    def flush(self, now: float) -> Outgoing:
        """Messages owed now: a full state when due, then changed readings and alarm events."""
        out: Outgoing = []
        if self.due(now):
            out.extend(self.state(now))
        if self._pending:
            pending, self._pending = self._pending, {}
            rows = [{"asset": aid, **fields} for aid, fields in pending.items() if aid in self.assets]
            for i in range(0, len(rows), TELEMETRY_CHUNK):
                out.append(self._message("telemetry", now, readings=rows[i : i + TELEMETRY_CHUNK]))
        if self._events:
            events, self._events = self._events, []
            for i in range(0, len(events), TELEMETRY_CHUNK):
                out.append(self._message("alarm", now, events=events[i : i + TELEMETRY_CHUNK]))
        return out

    def state(self, now: float) -> Outgoing:
        """The full snapshot: every asset, its latest reading, the active alarms (in parts of 2,000 assets)."""
        return [self._message("state", now, **part) for part in self._state_parts(now, f"{self.supervisor}-{self.seq + 1}"[:64])]

    def retained(self, now: float, boot: str, version: int, definitions: int, refresh_s: float) -> RetainedVersion:
        """The full snapshot as a retained version (contract v2): its parts, under the one sequence number of the
        `state_ready` that announces them. It stands for `state`: the pending readings are in it."""
        snapshot = f"{boot}-{version}"
        bodies = self._state_parts(now, snapshot)
        self.seq += 1
        env = {"v": 1, "kind": "state", "domain": self.domain, "supervisor": self.supervisor,
               "ts": datetime.fromtimestamp(now, timezone.utc), "seq": self.seq}
        parts = tuple(_encode(msgspec.convert({**env, **body}, State[self._reading_type], from_attributes=True)) for body in bodies)
        ready = StateReady(v=2, kind="state_ready", domain=self.domain, supervisor=self.supervisor, ts=env["ts"], seq=self.seq,
                           boot=boot, version=version, snapshot=snapshot, parts=len(parts), assets=len(self.assets),
                           definitions=definitions, refresh_s=refresh_s)
        return RetainedVersion(ready, parts)

    def _state_parts(self, now: float, snapshot: str) -> list[dict]:
        """The bodies of a full snapshot's parts; from now on every asset counts as announced."""
        self._last_state = now
        self._redefined = False
        self._held.clear()
        self._pending.clear()  # the state carries the latest readings; pending alarm events follow it
        ids = sorted(self.assets)
        chunks = [ids[i : i + STATE_CHUNK] for i in range(0, len(ids), STATE_CHUNK)] or [[]]
        self.announced = set(ids)
        return [{"snapshot": snapshot, "part": n, "parts": len(chunks), "assets": [self.assets[a] for a in chunk],
                 "readings": [{"asset": a, **self.readings[a]} for a in chunk if self.readings.get(a)],
                 "alarms": list(self.alarms.values()) if n == len(chunks) else []}
                for n, chunk in enumerate(chunks, start=1)]

    def heartbeat(self, now: float, uptime_s: float) -> Outgoing:
        """One heartbeat; `degraded` when entities were refused since the last one."""
        status = "degraded" if self.refused_recently else "ok"
        self.refused_recently = 0
        return [self._message("heartbeat", now, uptime_s=max(0.0, uptime_s), assets=len(self.assets), status=status)]

    def refuse_command(self, command_id: str, now: float) -> Outgoing:
        """Answer a command: an NGSI source is read-only for Vigie."""
        return [self._message("ack", now, command_id=command_id, status="rejected",
                              reason="This supervisor is an NGSI source: Vigie reads it and cannot send it commands.")]

    def _message(self, kind: str, now: float, **body) -> tuple[str, bytes]:
        self.seq += 1
        env = {"v": 1, "kind": kind, "domain": self.domain, "supervisor": self.supervisor,
               "ts": datetime.fromtimestamp(now, timezone.utc), "seq": self.seq}
        cls = {"state": State[self._reading_type], "telemetry": Telemetry[self._reading_type], "alarm": Alarm,
               "heartbeat": Heartbeat, "ack": Ack}[kind]
        msg = msgspec.convert({**env, **body}, cls, from_attributes=True)
        return sup_channel(self.domain, self.supervisor, kind), _encode(msg)

    # --- persistence (the relay keeps it in Redis) --------------------------------------

    def record(self, asset_id: str) -> bytes | None:
        """What to persist for one asset (None: it is gone)."""
        asset = self.assets.get(asset_id)
        return None if asset is None else _encode({"def": asset, "r": self.readings.get(asset_id, {})})

    def restore(self, records: Iterable[bytes], alarms: Iterable[bytes]) -> None:
        """Take back persisted assets and active alarms; what the source said since the restart wins."""
        for raw in records:
            doc = msgspec.json.decode(raw)
            asset = msgspec.convert(doc["def"], AssetDef)
            if asset.id in self.assets:
                continue
            self.assets[asset.id] = asset
            if doc.get("r"):
                self.readings[asset.id] = {**doc["r"], **self.readings.get(asset.id, {})}
        for raw in alarms:
            ev = msgspec.json.decode(raw, type=AlarmEvent)
            self.alarms.setdefault(ev.id, ev)
        self._redefined = bool(self.assets)
