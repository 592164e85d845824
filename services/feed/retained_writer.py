"""The supervisor's side of contract v2: keep the full state retained in Redis, announce each version.

Used by the simulators (services/simulators/runner.py) and the NGSI relay (services/ngsi/relay.py), and
a model for a real supervisor. The supervisor builds a version (its parts and its `state_ready`, which
takes the next sequence number); the writer puts the parts in Redis a few megabytes per round trip, then
flips the manifest, expires the replaced version's parts and publishes the announcement in one MULTI/EXEC.
A new version is written at most every `refresh_s` while something changes; after a reconnect or a state
request the state is written again only if Redis lost it: otherwise what Redis holds is current within `refresh_s`.
"""
from __future__ import annotations

import logging
import secrets
from typing import Callable

import msgspec

from services.contract import StateReady, sup_channel
from services.contract.retained import GRACE_S, RetainedVersion, keys_of, state_key

log = logging.getLogger(__name__)

WRITE_BYTES = 4 * 1024 * 1024  # parts written per round trip, about

Build = Callable[[str, int, int, float], RetainedVersion]  # (boot, version, definitions, refresh_s) -> the version


class RetainedStateWriter:
    """One supervisor's retained state in Redis: versions, the manifest, the announcement (one thread uses it)."""

    def __init__(self, domain: str, supervisor: str, *, refresh_s: float = 15.0, grace_s: int = GRACE_S, boot: str | None = None) -> None:
        self.domain = domain
        self.supervisor = supervisor
        self.refresh_s = refresh_s
        self.grace_s = grace_s
        self.boot = boot or secrets.token_hex(4)  # a new one per process run
        self.version = 0
        self.definitions = 0
        self.current: RetainedVersion | None = None
        self.dirty = False  # readings or alarms changed since the current version
        self.redefined = True  # assets or their definitions changed since the current version
        self.last_write = float("-inf")
        self.writes = 0  # versions written (parts and all)

    def changed(self, definitions: bool = False) -> None:
        """Something the state holds changed (`definitions`: the assets themselves)."""
        self.dirty = True
        self.redefined = self.redefined or definitions

    def due(self, now: float) -> bool:
        """Is a new version owed (something changed, and the last one is `refresh_s` old)?"""
        return (self.dirty or self.redefined) and now - self.last_write >= self.refresh_s

    def write(self, client, build: Build, now: float) -> RetainedVersion:
        """Write a new version: its parts first, then manifest, expiry of the old parts and announcement at once."""
        version = self.version + 1
        definitions = version if self.redefined or not self.definitions else self.definitions
        new = build(self.boot, version, definitions, self.refresh_s)
        old = self.current.ready if self.current is not None else self._held(client)
        pipe, size = client.pipeline(transaction=False), 0
        for key, part in zip(new.part_keys(), new.parts):
            pipe.set(key, part)
            size += len(part)
            if size >= WRITE_BYTES:
                pipe.execute()
                pipe, size = client.pipeline(transaction=False), 0
        pipe.execute()
        payload = new.announcement()
        tx = client.pipeline(transaction=True)
        tx.set(new.manifest_key, payload)
        if old is not None and old.snapshot != new.ready.snapshot:
            for key in keys_of(old):
                tx.expire(key, self.grace_s)
        tx.publish(sup_channel(self.domain, self.supervisor, "state_ready"), payload)
        tx.execute()
        self.version, self.definitions, self.current = version, definitions, new
        self.dirty = self.redefined = False
        self.last_write = now
        self.writes += 1
        return new

    def sync(self, client, build: Build, now: float) -> bool:
        """After a (re)connect or a state request: write the state again if Redis lost it; return whether it was written.

        Otherwise nothing is written or published: what Redis holds is current within `refresh_s` (`due`).
        """
        if self.current is not None and self.intact(client):
            return False
        self.write(client, build, now)
        return True

    def intact(self, client) -> bool:
        """Does Redis hold the current version whole (the manifest ours, every part there)?"""
        if self.current is None or client.get(self.current.manifest_key) != self.current.announcement():
            return False
        keys = self.current.part_keys()
        return int(client.exists(*keys)) == len(keys)

    def _held(self, client) -> StateReady | None:
        """The version Redis holds from before this process (its parts are to expire), if readable."""
        raw = client.get(state_key(self.domain, self.supervisor))
        if raw is None:
            return None
        try:
            return msgspec.json.decode(raw, type=StateReady)
        except (msgspec.DecodeError, msgspec.ValidationError):
            log.warning("retained state of %s.%s: an unreadable manifest is replaced", self.domain, self.supervisor)
            return None
