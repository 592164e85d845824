"""Server push: coalesce the engine's change events into small versioned deltas per channel.

The engine calls `PushHub.on_events` on its own thread (it only marks what is dirty). The hub's
thread emits, per channel, at most one delta every `window_s` (leading edge: an idle channel
emits at once); the deltas due together travel in one Socket.IO message. Every delta carries
`seq`, +1 per channel; `snapshot()` returns the current state with the `seq` it is consistent
with, so a page applies only deltas newer than its snapshot. Wire format: push_wire.py, docs/ui.md.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any, Callable, Iterable

import msgspec

from services.core.assets import Thresholds
from services.core.bands import BANDED_DOMAINS, asset_band, bands_of
from services.core.events import AlarmsChanged, AssetsChanged, AssetsRemoved, KpisChanged, RegistryChanged, SupervisorChanged

from services.feed.push_wire import (  # noqa: F401 - re-exported: the wire format is part of this module's interface
    ALARM_CONSOLE_FIELDS, CHANNELS, CONDITION_CODE, DOMAINS, EVENT, PROTOCOL, SNAPSHOT_LIMIT, build_snapshot,
    compact_alarm, compact_supervisor, geo_collection, geo_columns,
)

log = logging.getLogger(__name__)
_encode = msgspec.json.Encoder().encode  # to count the bytes emitted (Socket.IO encodes its own copy)

Emit = Callable[[str, dict], None]
REPLAY_DEPTH = 64  # recent deltas kept per channel for pages that missed one
BULK_READ_FROM = 300  # (readers without views) dirty assets of one domain above which the abnormal ones are read in bulk
NAMES_MAX = 250_000  # asset names remembered for alarm rows


class PushHub:
    """Turns engine events into coalesced, versioned deltas and consistent snapshots."""

    def __init__(self, reader: Any, emit: Emit, *, window_s: float = 0.25, poll_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time) -> None:
        self.reader = reader
        self.emit = emit
        self.window_s = window_s
        self.poll_s = poll_s
        self.clock = clock
        self.wall = wall
        self.seq = {ch: 0 for ch in CHANNELS}
        self._geo_rev = {d: 0 for d in DOMAINS}  # +1 each time a domain's set of assets changes
        self.emitted_bytes = 0  # JSON bytes emitted, for the benchmark
        self._codes: dict[str, dict[str, int]] = {d: {} for d in DOMAINS}  # every asset's condition code, as pushed
        self._bands: dict[str, dict[str, int]] = {d: {} for d in BANDED_DOMAINS}  # speed/pressure band codes, as pushed
        self.thresholds = Thresholds()
        self._recent: dict[str, deque] = {ch: deque(maxlen=REPLAY_DEPTH) for ch in CHANNELS}
        self.geo_listeners: list[Callable[[str, int], None]] = []  # told when a domain's set of assets changed
        self._cond = threading.Condition()
        self._emit_lock = threading.Lock()  # orders deltas against snapshots
        self._flush_lock = threading.RLock()  # one flush at a time: a catch-up waits for the one in progress
        self._dirty_assets: dict[str, set[str]] = {d: set() for d in DOMAINS}
        self._removed: dict[str, set[str]] = {d: set() for d in DOMAINS}
        self._dirty_kpis: set[str] = set()
        self._dirty_alarms: set[str] = set()
        self._dirty_sups = False
        self._last_emit = {ch: float("-inf") for ch in CHANNELS}
        self._last_poll = float("-inf")
        self._last_sups: list[dict] | None = None
        self._registry_rev = 0  # registry changes seen (the supervisors page re-reads the registry when it moves)
        self._last_registry_rev = 0
        self._last_summary: dict | None = None
        self._hist_ts: dict[str, float] = {}
        self._names: dict[str, str] = {}
        self._audience: int | None = None  # browsers listening; None: not counted (always built: tests, a relay)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- engine side (keep it fast) -------------------------------------------------------

    def on_events(self, events: Iterable[object]) -> None:
        """Mark what the events changed; called on the engine thread."""
        with self._cond:
            for ev in events:
                if isinstance(ev, AssetsChanged):
                    self._dirty_assets[ev.domain].update(ev.asset_ids)
                elif isinstance(ev, AssetsRemoved):
                    self._removed[ev.domain].update(ev.asset_ids)
                    self._dirty_assets[ev.domain].difference_update(ev.asset_ids)
                elif isinstance(ev, KpisChanged):
                    self._dirty_kpis.add(ev.domain)
                elif isinstance(ev, AlarmsChanged):
                    self._dirty_alarms.update(ev.alarm_ids)
                elif isinstance(ev, SupervisorChanged):
                    self._dirty_sups = True
                elif isinstance(ev, RegistryChanged):
                    self._dirty_sups = True
                    self._registry_rev += 1
            if self._audience is None or self._audience > 0:  # nobody listens: the thread stays asleep
                self._cond.notify()

    # --- what is due ----------------------------------------------------------------------

    def _pending(self) -> set[str]:
        out = {d for d in DOMAINS if self._dirty_assets[d] or self._removed[d] or d in self._dirty_kpis}
        if self._dirty_alarms:
            out.add("alarms")
        if self._dirty_sups:
            out.add("supervisors")
        return out

    # --- who listens -----------------------------------------------------------------------

    def count_audience(self) -> None:
        """From now on build deltas only while a browser listens (`listening`/`left`); before: always."""
        with self._cond:
            if self._audience is None:
                self._audience = 0

    def listening(self) -> None:
        """A browser connected: what changed while nobody listened is pushed at once, then as usual."""
        with self._cond:
            self._audience = (self._audience or 0) + 1
            self._cond.notify()

    def left(self) -> None:
        """A browser went away."""
        with self._cond:
            if self._audience:
                self._audience -= 1

    @property
    def geo_rev(self) -> dict[str, int]:
        """Per domain, how many times its set of assets changed, counting what changed while nobody listened."""
        self.catch_up()
        return self._geo_rev

    @property
    def heard(self) -> bool:
        """Does anyone listen (always true while the audience is not counted)?"""
        return self._audience is None or self._audience > 0

    def catch_up(self) -> None:
        """Build now what changed while nobody listened (a snapshot or a layer is about to be read); a flush in
        progress is waited for (what it took is applied when this returns)."""
        if not self.heard:
            with self._flush_lock:
                with self._cond:
                    pending = bool(self._pending())
                if pending:
                    self.flush(force=True)

    def _next_due(self, now: float) -> float:
        """When the hub must wake next: the earliest pending channel's window end, or the next poll."""
        if not self.heard:  # nothing is built for nobody: marks pile up (ids only) until a browser or a read comes
            return now + self.poll_s
        due = self._last_poll + self.poll_s
        for ch in self._pending():
            due = min(due, self._last_emit[ch] + self.window_s)
        return max(due, now)

    def flush(self, now: float | None = None, *, force: bool = False) -> list[tuple[str, dict]]:
        """Emit every channel whose window has passed (`force`: every pending one); return what was emitted."""
        with self._flush_lock:
            return self._flush(now, force)

    def _flush(self, now: float | None, force: bool) -> list[tuple[str, dict]]:
        now = self.clock() if now is None else now
        with self._cond:
            ready = {ch for ch in self._pending() if force or now - self._last_emit[ch] >= self.window_s - 1e-9}
            poll = now - self._last_poll >= self.poll_s - 1e-9
            taken = self._take(ready)
        if poll:
            self._last_poll = now
            ready.add("supervisors")
        out: list[tuple[str, dict]] = []
        with self._emit_lock:
            for ch in sorted(ready, key=CHANNELS.index):
                payload = self._build(ch, taken)
                if payload is not None:
                    self.seq[ch] += 1
                    payload.update(v=PROTOCOL, ch=ch, seq=self.seq[ch], t=round(self.wall(), 3))
                    self._last_emit[ch] = now
                    out.append((ch, payload))
            summary = self._summary_delta(ready)
            if summary is not None:
                out.append(("summary", summary))
            for ch, payload in out:
                self._recent[ch].append(payload)
            if out:
                self._send({"v": PROTOCOL, "deltas": [payload for _, payload in out]})
        return out

    def replay(self, ch: str, after: int) -> list[dict] | None:
        """The deltas of `ch` newer than `after`, or None when some of them are no longer kept."""
        with self._emit_lock:
            kept = [p for p in self._recent.get(ch, ()) if p["seq"] > after]
            if after >= self.seq.get(ch, 0):
                return []
            if not kept or kept[0]["seq"] != after + 1:
                return None
            return kept

    def _take(self, ready: set[str]) -> dict:
        taken: dict[str, Any] = {}
        for d in DOMAINS:
            if d in ready:
                taken[d] = (self._dirty_assets[d], self._removed[d], d in self._dirty_kpis)
                self._dirty_assets[d], self._removed[d] = set(), set()
                self._dirty_kpis.discard(d)
        if "alarms" in ready:
            taken["alarms"], self._dirty_alarms = self._dirty_alarms, set()
        if "supervisors" in ready:
            self._dirty_sups = False
        return taken

    # --- building deltas ------------------------------------------------------------------

    def _build(self, ch: str, taken: dict) -> dict | None:
        if ch in DOMAINS:
            return self._domain_delta(ch, *taken[ch])
        if ch == "alarms":
            return self._alarms_delta(taken["alarms"])
        return self._supervisors_delta()

    def _domain_delta(self, domain: str, ids: set[str], removed: set[str], kpis: bool) -> dict | None:
        seen: dict[str, dict] = {}
        current, gone = self._conditions(domain, ids, seen)
        gone |= removed
        bands = self._band_changes(domain, set(current), gone, seen)
        codes = self._codes[domain]
        new_ids = any(aid not in codes for aid in current)
        assets = {aid: code for aid, code in current.items() if codes.get(aid) != code}  # only what moved
        for aid in gone:
            codes.pop(aid, None)
        codes.update(assets)
        if gone or new_ids:
            self._geo_rev[domain] += 1
            for listener in self.geo_listeners:
                listener(domain, self._geo_rev[domain])
        if not (assets or gone or kpis or bands):
            return None
        delta: dict[str, Any] = {"assets": assets, "removed": sorted(gone), "geo_rev": self._geo_rev[domain]}
        if bands:
            delta["bands"] = bands
        if kpis:
            delta["kpis"] = self.reader.kpis().get(domain, [])
            delta["history"] = self._new_history(domain)
        return delta

    def _views(self, domain: str) -> Any:
        """The engine's current view of a domain's assets (id -> AssetView), or None for a reader without views."""
        views = getattr(self.reader, "views", None)
        return views.current.domains[domain].assets if views is not None else None

    def _conditions(self, domain: str, ids: set[str], seen: dict[str, Any] | None = None) -> tuple[dict[str, int], set[str]]:
        """Condition codes of `ids`, and those that no longer exist (the assets read one by one go into `seen`).

        With the engine's views, each changed asset is looked up where it is, without a copy: the cost is the
        number of assets that changed, never the domain's size."""
        view = self._views(domain)
        if view is not None:
            found, gone = {}, set()
            get, codes = view.get, CONDITION_CODE
            for aid in ids:
                a = get(aid)
                if a is None:
                    gone.add(aid)
                else:
                    found[aid] = codes.get(a.condition, 1)
                    if seen is not None:
                        seen[aid] = a
            return found, gone
        if len(ids) <= BULK_READ_FROM:
            found, gone = {}, set()
            for aid in ids:
                a = self.reader.asset(aid)
                if a is None:
                    gone.add(aid)
                else:
                    found[aid] = CONDITION_CODE.get(str(a.get("condition")), 1)
                    if seen is not None:
                        seen[aid] = a
            return found, gone
        # many at once (a supervisor's full state, a busy step): read only the abnormal assets of the
        # domain, the rest are ok; ids never seen are confirmed one by one (rare: new assets)
        abnormal = self._abnormal(domain)
        codes = self._codes[domain]
        found = {aid: abnormal.get(aid, 0) for aid in ids if aid in codes or aid in abnormal}
        unseen = {aid for aid in ids if aid not in found}
        if len(unseen) > BULK_READ_FROM:
            rows = {r["id"]: r.get("condition") for r in self._remember(self.reader.assets_geo(domain))}
            found.update({aid: CONDITION_CODE.get(str(rows[aid]), 1) for aid in unseen if aid in rows})
            return found, {aid for aid in unseen if aid not in rows}
        more, gone = self._conditions(domain, unseen, seen) if unseen else ({}, set())
        found.update(more)
        return found, gone

    def _band_changes(self, domain: str, ids: set[str], gone: set[str], seen: dict[str, Any]) -> dict[str, int]:
        """The band codes of `ids` that moved since pushed (speed against free flow, pressure against thresholds),
        from the changed assets only: those already read, the others one by one (never the whole domain)."""
        held = self._bands.get(domain)
        if held is None:
            return {}
        for aid in gone:
            held.pop(aid, None)
        if not ids:
            return {}
        t = self.thresholds
        moved: dict[str, int] = {}
        for aid in ids:
            a = seen.get(aid)
            if a is None:
                a = self.reader.asset(aid)
                if a is None:
                    continue
            if isinstance(a, dict):
                band = asset_band(domain, a.get("type", ""), a.get("values") or {}, a.get("props") or {}, t)
            else:
                band = asset_band(domain, a.type, a.values, a.props, t)
            if held.get(aid, 0) != band:
                moved[aid] = band
                held[aid] = band
        return moved

    def _abnormal(self, domain: str) -> dict[str, int]:
        """Every asset of the domain not ok, by id, with its code."""
        out: dict[str, int] = {}
        for condition, code in CONDITION_CODE.items():
            if code:
                _total, rows = self.reader.assets(domain=domain, condition=condition, limit=SNAPSHOT_LIMIT)
                out.update((r["id"], code) for r in self._remember(rows))
        return out

    def _remember(self, rows: list[dict]) -> list[dict]:
        """Keep the names of assets read in bulk (alarm rows show them); return the rows."""
        if len(self._names) > NAMES_MAX:
            self._names.clear()
        for r in rows:
            self._names[r["id"]] = r.get("name") or r["id"]
        return rows

    def _new_history(self, domain: str) -> dict[str, list]:
        since = self._hist_ts.get(domain, float("-inf"))
        out: dict[str, list] = {}
        for key, series in self.reader.kpi_history(domain).items():
            fresh = [p for p in series if p[0] > since]
            if fresh:
                out[key] = fresh
                self._hist_ts[domain] = max(self._hist_ts.get(domain, since), fresh[-1][0])
        return out

    def _asset_name(self, asset_id: str) -> str:
        name = self._names.get(asset_id)
        if name is None:
            views = getattr(self.reader, "views", None)
            if views is not None:
                found = next((v for d in DOMAINS if (v := views.current.domains[d].assets.get(asset_id)) is not None), None)
                name = found.name if found is not None else asset_id
            else:
                a = self.reader.asset(asset_id)
                name = (a or {}).get("name") or asset_id
            if len(self._names) > NAMES_MAX:
                self._names.clear()
            self._names[asset_id] = name
        return name

    def _alarms_delta(self, ids: set[str]) -> dict | None:
        by_id = self.reader.alarms_by_id(ids)  # only what changed: a flood has thousands held
        up = [compact_alarm(by_id[i], self._asset_name(by_id[i]["asset"])) for i in sorted(ids) if i in by_id]
        removed = sorted(i for i in ids if i not in by_id)
        return {"alarms": up, "removed": removed} if (up or removed) else None

    def _supervisors_delta(self) -> dict | None:
        sups = [compact_supervisor(s) for s in self.reader.supervisors()]
        if sups == self._last_sups and self._registry_rev == self._last_registry_rev:
            return None
        self._last_sups, self._last_registry_rev = sups, self._registry_rev
        return {"supervisors": sups, "registry": self._registry_rev}

    def _summary_delta(self, ready: set[str]) -> dict | None:
        if not ready & {"alarms", "supervisors"}:
            return None
        summary = self.reader.summary()
        if summary == self._last_summary:
            return None
        self._last_summary = summary
        self.seq["summary"] += 1
        return {"summary": summary, "v": PROTOCOL, "ch": "summary", "seq": self.seq["summary"], "t": round(self.wall(), 3)}

    def _send(self, message: dict) -> None:
        try:
            self.emit(EVENT, message)
            self.emitted_bytes += len(_encode(message))
        except Exception:  # noqa: BLE001 - a transport failure must not stop the push loop
            log.exception("push: emitting failed")

    # --- snapshots --------------------------------------------------------------------------

    def snapshot(self, domains: Iterable[str] = DOMAINS) -> dict:
        """The current state and the `seq` of every channel it is consistent with."""
        self.catch_up()
        with self._emit_lock:  # the conditions pushed so far, exactly as of `seq`: no full read of the state
            assets = {d: {aid: c for aid, c in self._codes[d].items() if c} for d in domains}
            bands = {d: {aid: b for aid, b in self._bands[d].items() if b} for d in domains if d in self._bands}
            return {
                "v": PROTOCOL, "t": round(self.wall(), 3), "seq": dict(self.seq), "geo_rev": dict(self._geo_rev),
                "assets": assets, "bands": bands, "kpis": self.reader.kpis(),
                "alarms": [compact_alarm(a, self._asset_name(a["asset"])) for a in self.reader.alarms(active_only=False)],
                "supervisors": [compact_supervisor(s) for s in self.reader.supervisors()], "summary": self.reader.summary(),
            }

    # --- the thread -----------------------------------------------------------------------

    def start(self) -> "PushHub":
        """Learn the assets already known, then run the emitting loop in a daemon thread."""
        for d in DOMAINS:
            view = self._views(d)
            if view is not None:  # straight from the engine's view: no copy of the domain
                self._codes[d] = {a.id: CONDITION_CODE.get(a.condition, 1) for a in view.values()}
                if d in self._bands:
                    self._bands[d] = {a.id: b for a in view.values() if (b := asset_band(d, a.type, a.values, a.props, self.thresholds))}
                continue
            rows = self._remember(self.reader.assets_geo(d))
            self._codes[d] = {r["id"]: CONDITION_CODE.get(str(r.get("condition")), 1) for r in rows}
            if d in self._bands:
                self._bands[d] = bands_of(d, self.reader.assets(domain=d, limit=SNAPSHOT_LIMIT)[1], self.thresholds)
        self._thread = threading.Thread(target=self._run, name="vigie-push", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                now = self.clock()
                wait = self._next_due(now) - now
                if wait > 0:
                    self._cond.wait(min(wait, self.poll_s))
            if self._stop.is_set():
                break
            if not self.heard:
                continue
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - a reader hiccup must not kill the push
                log.exception("push: flush failed")
                self._stop.wait(self.window_s)

    @property
    def stopped(self) -> bool:
        """Has `stop()` been called?"""
        return self._stop.is_set()

    def stop(self) -> None:
        """Stop the loop."""
        self._stop.set()
        with self._cond:
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(2)


def follow_audience(socketio: Any, hub: PushHub) -> None:
    """Count the browsers connected to this Socket.IO server, so that `hub` builds deltas only while one listens.

    Only for a server whose browsers all connect here: with a message queue, browsers of other workers listen too."""
    hub.count_audience()

    @socketio.on("connect")
    def _listening(auth: Any = None) -> None:
        hub.listening()

    @socketio.on("disconnect")
    def _left(*_reason: Any) -> None:
        hub.left()


def start_external_push(reader: Any, engine: Any, message_queue: str, window_s: float = 0.25) -> PushHub:
    """For an engine running without a web server: push through Flask-SocketIO's Redis message queue,
    which relays to the browsers of every web worker started with the same `VIGIE_SOCKETIO_QUEUE`."""
    from flask_socketio import SocketIO

    from services.web.socketio_queue import queue_options

    emitter = SocketIO(**queue_options(message_queue, write_only=True))
    hub = PushHub(reader, emitter.emit, window_s=window_s, wall=reader.now).start()  # `t`: Vigie's time (the territory clock)
    engine.subscribe(hub.on_events)
    return hub
