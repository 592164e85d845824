"""What the pages and callbacks of one app read from: settings, reader, push hub, territory.

It hangs off the Flask app (`server.extensions["vigie.ui"]`), never off a module global.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from flask import current_app

from layouts.i18n import language
from layouts.page import PageData, control_room
from services.web.push import DOMAINS, PushHub, build_snapshot, geo_collection, geo_columns
from services.settings import Settings
from services.territory.basemap import base_map
from services.territory.geo import Territory

log = logging.getLogger(__name__)
EXTENSION = "vigie.ui"
GEO_TTL_S = 30.0  # without a push hub here, how long a layer's GeoJSON is reused
URLS = {"geo": "/vigie/geo/{domain}", "base": "/vigie/base", "live": "/vigie/live", "replay": "/vigie/replay"}


def current_ui() -> "VigieUI":
    """The VigieUI of the app serving this request."""
    return current_app.extensions[EXTENSION]


@dataclass
class VigieUI:
    """The UI's view of the services (one per app)."""

    settings: Settings
    reader: Any
    territory: Territory
    hub: PushHub | None = None
    _base: dict = field(default_factory=dict, repr=False)
    _geo: dict = field(default_factory=dict, repr=False)
    _geo_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def tz(self) -> ZoneInfo:
        """The territory's timezone."""
        return ZoneInfo(self.territory.timezone)

    def page(self, key: str, domains: tuple[str, ...], lang: str | None, theme: str | None, alarm_rows: int = 8,
             default_theme: str = "light") -> Any:
        """Build a page for the request's language and theme."""
        return control_room(self.page_data(key, domains, lang, theme, alarm_rows, default_theme))

    def page_data(self, key: str, domains: tuple[str, ...], lang: str | None, theme: str | None, alarm_rows: int = 8,
                  default_theme: str = "light") -> PageData:
        """What a page shows, for the request's language and theme (the alarm pages lay it out their own way)."""
        t = self.territory
        kpis = self.reader.kpis()
        geo_rev = self.geo_rev()
        return PageData(
            key=key, domains=domains, lang=language(lang, self.settings.language),
            default_lang=language(self.settings.language), theme=theme if theme in ("light", "dark") else default_theme,
            territory_name=t.name, center=t.center, zoom=t.zoom, bounds=t.bounds, attribution=t.attribution,
            kpis=kpis, history={d: self.reader.kpi_history(d) for d in domains},
            geo_urls={d: URLS["geo"].format(domain=d) for d in domains},
            base_url=URLS["base"] + ("?roads=0" if "traffic" in domains else "?roads=1"),
            live_url=URLS["live"], replay_url=URLS["replay"], geo_rev=geo_rev, tile_url=self.settings.tile_url,
            late_after_s=self.settings.late_after_s, stale_after_s=self.settings.stale_after_s,
            window_ms=self.settings.coalesce_ms, kpi_window_h=self.settings.kpi_history_s / 3600, alarm_rows=alarm_rows,
            timezone=t.timezone,
        )

    def geo_rev(self) -> dict[str, int]:
        """Per domain, how many times the set of assets changed (pages reload a layer when it moves)."""
        return dict(self.hub.geo_rev) if self.hub is not None else {}

    def geo(self, domain: str, columns: bool = False) -> tuple[int | None, bytes]:
        """A domain's features as GeoJSON bytes (or points as columns) and the revision they are of,
        rebuilt only when the domain's set of assets changed. Conditions in it are those of build
        time: pages style from the live state instead."""
        rev = self.geo_rev().get(domain) if self.hub is not None else None
        key = rev if rev is not None else int(time.monotonic() // GEO_TTL_S)
        with self._geo_lock:
            cached = self._geo.get((domain, columns))
            if cached is not None and cached[0] == key:
                return rev, cached[1]
        rows = self.reader.assets_geo(domain)
        payload = msgspec.json.encode(geo_columns(rows) if columns else geo_collection(rows))
        with self._geo_lock:
            self._geo[(domain, columns)] = (key, payload)
        return rev, payload

    def warm_up(self) -> None:
        """Build the base map and each layer's GeoJSON ahead of the pages, again whenever a layer's assets change."""
        wake = threading.Event()
        if self.hub is not None:
            self.hub.geo_listeners.append(lambda domain, rev: wake.set())

        def run() -> None:
            while True:
                try:
                    self.base_map(roads=True)
                    self.base_map(roads=False)
                    self.geo("lighting", columns=True)
                    for d in DOMAINS:
                        self.geo(d)
                except Exception:  # noqa: BLE001 - warming is an optimisation; the request path retries
                    log.exception("warming the map data failed")
                while self.hub is not None and not self.hub.stopped and not wake.wait(5.0):
                    pass
                if self.hub is None or self.hub.stopped:
                    return
                wake.clear()
                time.sleep(0.5)  # let a snapshot in several parts finish arriving

        threading.Thread(target=run, name="vigie-ui-warm", daemon=True).start()

    def snapshot(self) -> dict:
        """The live snapshot (with push sequence numbers when the hub runs in this process)."""
        return self.hub.snapshot() if self.hub is not None else build_snapshot(self.reader)

    def replay(self, ch: str, after: int) -> list[dict] | None:
        """Deltas of a channel newer than `after` (None: not kept, or no hub in this process)."""
        return self.hub.replay(ch, after) if self.hub is not None else None

    def asset_details(self, asset_id: str) -> tuple[dict | None, list[dict]]:
        """An asset and its active alarms."""
        asset = self.reader.asset(asset_id)
        alarms = [a for a in self.reader.alarms(active_only=True) if a.get("asset") == asset_id]
        return asset, alarms

    def base_map(self, roads: bool = True) -> bytes:
        """The offline base layer from the territory's own data: communes, districts and (unless the
        page draws the traffic layer, which is the same network) roads, of what the package has. Built once per variant."""
        if roads not in self._base:
            self._base[roads] = msgspec.json.encode(base_map(self.territory.ref, roads))
        return self._base[roads]


__all__ = ["VigieUI", "current_ui", "EXTENSION", "DOMAINS"]
