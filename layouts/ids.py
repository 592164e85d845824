"""Component ids, in one place (the browser's JS uses the same strings)."""
from __future__ import annotations

SOCKET = "push-socket"
CONFIG = "page-config"  # dcc.Store: language, catalog, palette, thresholds, URLs
PAGE = "page-scope"  # dcc.Store in each page: which domains it shows
URL = "url"
THEME_PROVIDER = "theme-provider"

BANNER = "live-banner"
BANNER_TEXT = "live-banner-text"
CLOCK_TEXT = "clock-text"
SUPERVISORS = "supervisor-badges"
ANNUNCIATOR_SLOT = "annunciator-slot"  # class of the places of the Silence button (assets/alarms_annunciate.js)
SUMMARY = "summary-strip"
ALARM_LIST = "alarm-list"
DETAILS = "asset-details"
SELECTED = "selected-asset"  # dcc.Store: the asset whose details are open
DETAILS_REFRESH = "details-refresh"  # dcc.Store bumped by the browser when the selected asset changed

MAP = "territory-map"
LAYERS_CONTROL = "layers-control"
BASE_LAYER = "base-layer"
LAYER = {"lighting": "layer-lighting", "water": "layer-water", "traffic": "layer-traffic"}


def summary_count(key: str) -> str:
    """Id of one number of the cross-domain strip (urgent, high, low, diagnostic, unack, stale)."""
    return f"summary-{key}"


def kpi_value(domain: str, key: str) -> dict:
    """Id of a KPI tile's number."""
    return {"type": "kpi-value", "domain": domain, "key": key}


def kpi_tile(domain: str, key: str) -> dict:
    """Id of a KPI tile (its class says normal / abnormal)."""
    return {"type": "kpi-tile", "domain": domain, "key": key}


def kpi_trend_slot(domain: str, key: str) -> dict:
    """Id of the container a KPI's trend chart is mounted into."""
    return {"type": "kpi-trend-slot", "domain": domain, "key": key}


def kpi_trend(domain: str, key: str) -> dict:
    """Id of a KPI tile's trend chart."""
    return {"type": "kpi-trend", "domain": domain, "key": key}
