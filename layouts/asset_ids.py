"""Component ids of the asset detail page (level 3)."""
from __future__ import annotations

ROOT = "asset-page"
ASSET = "asset-id"  # dcc.Store: {"id", "domain"} of the asset shown
BUMP = "asset-bump"  # dcc.Store: bumped by the browser when a push concerns the asset's domain
VALUES = "asset-values"
CONDITION = "asset-condition"
UPDATED = "asset-updated"
RELATIONS = "asset-relations"
CHARTS = "asset-charts"
ALARMS = "asset-alarms"
COMMANDS = "asset-commands"


def chart(key: str) -> str:
    """Id of the chart of one reading."""
    return f"asset-chart-{key}"
