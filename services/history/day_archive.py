"""The day archive in Redis: one hash per domain and local day (`vigie:day:<domain>:<YYYY-MM-DD>`), field per slot.

The engine is its single writer (the buckets its core samples, written from this module's own thread so a slow
Redis never stalls ingestion; and the simulated backfill). Pages, the API and other web workers read it. A stored
value that cannot be read is skipped, counted by reason and logged once; a page never fails on it.
"""
from __future__ import annotations

import json
import logging
import time
from datetime import date, datetime
from typing import TYPE_CHECKING, Iterable
from zoneinfo import ZoneInfo

from services.feed.bus import ERRORS, bounded_client
from services.threads import QueuedWriter
from services.core.day_series import BUCKET_S, Bucket, compared_days, energy_before
from services.core.day_view import day_view, decode_day, savings

if TYPE_CHECKING:
    import redis

    from services.core import Hypervisor
    from services.feed.engine import Engine

log = logging.getLogger(__name__)

PREFIX = "vigie:day:"
LATEST = "vigie:day-latest"  # hash: domain -> "YYYY-MM-DD slot" of the newest bucket written (the domain's clock)
RETENTION_S = 15 * 86400
PENDING_MAX = 5000  # buckets held while Redis is away (a day of the three domains is ~900)


class ArchiveUnavailable(RuntimeError):
    """The day archive cannot be read right now (Redis is down)."""


def day_key(domain: str, day: str) -> str:
    """The hash of one domain's local day."""
    return f"{PREFIX}{domain}:{day}"


class DayArchive(QueuedWriter):
    """Writes the day buckets (its own thread) and reads days back, counting what it had to skip."""

    def __init__(self, redis_url: str, timezone: str = "Europe/Paris", client: "redis.Redis | None" = None,
                 timeout_s: float = 2.0) -> None:
        self.redis_url = redis_url
        self.tz = ZoneInfo(timezone)
        self._client = client
        self.timeout_s = timeout_s
        self.writes = 0
        self.failures = 0
        self.skipped: dict[str, int] = {}  # reason -> stored values skipped on reading
        self._logged: set[tuple[str, str]] = set()
        self._core = None
        self._pending: dict[tuple[str, str, int], dict] = {}
        self._init_writer("vigie-day-archive")

    @property
    def client(self) -> "redis.Redis":
        """The Redis client (made on first use)."""
        if self._client is None:
            self._client = bounded_client(self.redis_url, self.timeout_s)
        return self._client

    # --- writing (where the engine runs) -----------------------------------------------------

    def attach(self, engine: "Engine") -> "DayArchive":
        """Follow the engine's day buckets and start writing them."""
        self._core = engine.core
        engine.subscribe(self.on_events)
        return self.start()

    def on_events(self, _events: list) -> None:
        """Take the buckets the core changed (on the engine thread)."""
        if self._core is None:
            return
        changed = self._core.day_series.take_changed()
        if not changed:
            return
        with self._cv:
            for domain, day, slot, doc in changed:
                self._pending[(domain, day, slot)] = doc
            while len(self._pending) > PENDING_MAX:
                self._pending.pop(next(iter(self._pending)))
            self._cv.notify()

    @property
    def stopped(self) -> bool:
        """Has the archive been asked to stop (long writers like the backfill give up)?"""
        return self._stop

    def _run(self) -> None:
        backoff = 0.5
        while True:
            with self._cv:
                while not self._pending and not self._stop:
                    self._cv.wait()
                batch, self._pending = self._pending, {}
                stopping = self._stop
            if batch and not self._write(batch):
                with self._cv:
                    self._pending = {**batch, **self._pending}  # newer values win
                if stopping:
                    break
                time.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            backoff = 0.5
            if stopping:
                break

    def _write(self, batch: dict[tuple[str, str, int], dict]) -> bool:
        try:
            pipe = self.client.pipeline(transaction=False)
            keys: set[str] = set()
            for (domain, day, slot), doc in batch.items():
                key = day_key(domain, day)
                pipe.hset(key, str(slot), json.dumps(doc, separators=(",", ":")))
                keys.add(key)
            for key in keys:
                pipe.expire(key, RETENTION_S)
            newest: dict[str, tuple[str, int]] = {}
            for domain, day, slot in batch:
                newest[domain] = max(newest.get(domain, (day, slot)), (day, slot))
            pipe.hset(LATEST, mapping={d: f"{day} {slot}" for d, (day, slot) in newest.items()})
            pipe.execute()
        except ERRORS as err:
            self.failures += 1
            if self.failures == 1 or self.failures % 100 == 0:
                log.warning("day archive not written (%s); retrying", err)
            return False
        self.writes += 1
        return True

    def write_day(self, domain: str, day: str, buckets: dict[int, Bucket], meta: dict | None = None, *, keep: bool = False) -> None:
        """Write a whole day at once (the simulated backfill), or with `keep` only the slots not stored yet."""
        mapping = {str(slot): json.dumps(b.to_dict(), separators=(",", ":")) for slot, b in buckets.items()}
        if meta is not None:
            mapping["meta"] = json.dumps({"v": 1, **meta}, separators=(",", ":"))
        if not mapping:
            return
        try:
            pipe = self.client.pipeline(transaction=False)
            if keep:
                for field, value in mapping.items():
                    pipe.hsetnx(day_key(domain, day), field, value)
            else:
                pipe.hset(day_key(domain, day), mapping=mapping)
            pipe.expire(day_key(domain, day), RETENTION_S)
            pipe.execute()
        except ERRORS as err:
            raise ArchiveUnavailable(str(err)) from err

    def energy_before(self, started_at: float) -> tuple[date, float]:
        """The lighting energy stored for `started_at`'s local day before that instant: (day, kWh)."""
        day = datetime.fromtimestamp(started_at, self.tz).date()
        return day, energy_before(self.read("lighting", day), started_at, self.tz)

    def restore_energy(self, core: "Hypervisor", started_at: float) -> float:
        """Before the engine starts: carry today's energy drawn before `started_at` into the core's "energy today"."""
        try:
            day, kwh = self.energy_before(started_at)
        except ArchiveUnavailable as err:
            log.warning("day archive unreadable (%s): energy today counts from now", err)
            return 0.0
        core.energy_before(day, kwh)
        if kwh:
            log.info("energy today: %.0f kWh drawn before this start, from the day archive", kwh)
        return kwh

    # --- reading (any worker) ----------------------------------------------------------------

    def read(self, domain: str, day: str | date) -> dict[int, Bucket]:
        """One domain's stored day by slot; bad values are skipped and counted."""
        buckets, _ = self._read(domain, day.isoformat() if isinstance(day, date) else day)
        return buckets

    def _read(self, domain: str, day: str) -> tuple[dict[int, Bucket], dict[str, int]]:
        try:
            fields = self.client.hgetall(day_key(domain, day))
        except ERRORS as err:
            raise ArchiveUnavailable(str(err)) from err
        buckets, skipped = decode_day(fields, BUCKET_S)
        for reason, n in skipped.items():
            self.skipped[reason] = self.skipped.get(reason, 0) + n
            if (day_key(domain, day), reason) not in self._logged:
                self._logged.add((day_key(domain, day), reason))
                log.warning("day archive %s: %d stored value(s) skipped (%s)", day_key(domain, day), n, reason)
        return buckets, skipped

    def view(self, domain: str, day: str | date) -> dict:
        """One domain's day, JSON-ready (series, and for lighting kWh per hour and savings)."""
        d = day.isoformat() if isinstance(day, date) else day
        buckets, skipped = self._read(domain, d)
        return day_view(domain, d, buckets, skipped)

    def meta(self, domain: str, day: str) -> dict:
        """What a day's hash says about itself (how it was made); {} when nothing readable."""
        try:
            raw = self.client.hget(day_key(domain, day), "meta")
        except ERRORS as err:
            raise ArchiveUnavailable(str(err)) from err
        try:
            doc = json.loads(raw) if raw else {}
        except ValueError:
            return {}
        return doc if isinstance(doc, dict) else {}

    def latest(self, domain: str) -> tuple[date, int] | None:
        """The local day and slot of the domain's newest bucket (its own clock, which a fast simulation runs ahead)."""
        try:
            raw = self.client.hget(LATEST, domain)
        except ERRORS as err:
            raise ArchiveUnavailable(str(err)) from err
        try:
            day, slot = raw.decode().split(" ")
            return date.fromisoformat(day), int(slot)
        except (AttributeError, ValueError, UnicodeDecodeError):
            return None

    def compared(self, domain: str, now: float) -> dict:
        """Today (the domain's newest day, else the wall clock's), yesterday and the same day last week, JSON-ready."""
        found = self.latest(domain)
        today, slot = found if found else (datetime.fromtimestamp(now, self.tz).date(), None)
        yesterday, last_week = compared_days(today)
        y_buckets, y_skipped = self._read(domain, yesterday.isoformat())
        doc = {"today": self.view(domain, today), "yesterday": day_view(domain, yesterday.isoformat(), y_buckets, y_skipped),
               "last_week": self.view(domain, last_week), "now_slot": slot}
        if domain == "lighting" and slot is not None:
            doc["yesterday_same_time"] = savings(y_buckets, slot)
        return doc

    @staticmethod
    def empty(domain: str, now: float, tz: ZoneInfo) -> dict:
        """What `compared` gives when nothing can be read: three empty days."""
        today = datetime.fromtimestamp(now, tz).date()
        yesterday, last_week = compared_days(today)
        return {"today": day_view(domain, today.isoformat(), {}), "yesterday": day_view(domain, yesterday.isoformat(), {}),
                "last_week": day_view(domain, last_week.isoformat(), {}), "now_slot": None}

    def present(self, domain: str, days: Iterable[date]) -> set[date]:
        """Which of these days hold anything for the domain."""
        days = list(days)
        try:
            pipe = self.client.pipeline(transaction=False)
            for d in days:
                pipe.exists(day_key(domain, d.isoformat()))
            found = pipe.execute()
        except ERRORS as err:
            raise ArchiveUnavailable(str(err)) from err
        return {d for d, n in zip(days, found) if n}
