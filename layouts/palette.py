"""The one ISA-101 palette: neutral greys for normal, colour + shape only for abnormal and alarm priorities.

Used by the CSS (as custom properties set from `css_variables`), the map's JS styling (via the
page config) and the Python layouts, so a colour means the same thing everywhere.
"""
from __future__ import annotations

# Alarm priorities: colour, shape glyph (shape backs colour for colour-blind operators).
PRIORITY_STYLE: dict[str, dict[str, str]] = {
    "urgent": {"color": "#d7191c", "shape": "▲", "shape_name": "triangle"},
    "high": {"color": "#f07c00", "shape": "◆", "shape_name": "diamond"},
    "low": {"color": "#e6c700", "shape": "■", "shape_name": "square"},
    "diagnostic": {"color": "#3d7fc4", "shape": "●", "shape_name": "circle"},
}
PRIORITIES = tuple(PRIORITY_STYLE)

# Asset conditions by wire code (services.web.push.CONDITION_CODE). Shape only, in neutral ink: colour on the map
# means an active alarm and its priority (a broken lamp with a low alarm is yellow, not urgent red), so a
# condition without an alarm (fault, maintenance, unknown) is told by its shape, never by a priority colour.
CONDITION_STYLE: dict[int, dict[str, str]] = {
    0: {"name": "ok", "color": "", "shape": ""},
    1: {"name": "unknown", "color": "", "shape": "?"},
    2: {"name": "maintenance", "color": "", "shape": "◐"},
    3: {"name": "warning", "color": "", "shape": "△"},
    4: {"name": "fault", "color": "", "shape": "✕"},
}

# Value bands by wire code (services/core/bands.py). Normal is the neutral line; only slowed traffic and
# out-of-range pressure get weight and colour, stronger as it gets worse; a closed road is the theme's ink, dashed.
# Never an alarm priority's colour (docs/ui.md "Colours"): traffic is a mauve-to-deep-violet ramp drawn as lines that
# thicken with the state; pressure is cyan (low, "-") or deep teal (high, "+") dots. tests/unit/test_palette_vision.py
# checks, in normal vision and under protanopia, deuteranopia and tritanopia, that none comes near an alarm colour.
SPEED_BAND_STYLE: dict[int, dict] = {
    0: {"name": "free", "color": "", "weight": 1.5, "dash": ""},
    1: {"name": "slowed", "color": "#c8a8d0", "weight": 3, "dash": ""},
    2: {"name": "congested", "color": "#904070", "weight": 5, "dash": ""},
    3: {"name": "jammed", "color": "#500070", "weight": 7, "dash": ""},
    4: {"name": "closed", "color": "", "weight": 4, "dash": "6 5"},  # the theme's ink: black, or white on the wall
}
PRESSURE_BAND_STYLE: dict[int, dict] = {
    0: {"name": "normal", "color": "", "shape": ""},
    1: {"name": "low", "color": "#40c8e8", "shape": "−"},
    2: {"name": "high", "color": "#005a70", "shape": "+"},
}

# Commands are not alarms: their states are told by shape and word in neutral ink, the abnormal ones (partial,
# rejected, failed, no answer) by a heavier, dashed or double border; the targets of a command are outlined in the
# theme's ink. No alarm priority colour (a failed command raises its own alarm when it must).
COMMAND_STYLE: dict[str, dict[str, str]] = {
    "requested": {"shape": "○", "border": "solid"}, "sent": {"shape": "◔", "border": "solid"},
    "accepted": {"shape": "◑", "border": "solid"}, "applied": {"shape": "✓", "border": "solid"},
    "partial": {"shape": "◐", "border": "dashed"}, "rejected": {"shape": "⊘", "border": "dashed"},
    "failed": {"shape": "✕", "border": "double"}, "timed_out": {"shape": "◌", "border": "double"},
}
SELECT_INK = {"light": "#1f1f1f", "dark": "#ffffff"}  # command targets on the map: the theme's ink, never a priority colour

# Supervisor liveness: live is neutral, late is "high", stale is "urgent".
LIVENESS_STYLE: dict[str, dict[str, str]] = {
    "live": {"color": "", "shape": "●"},
    "late": {"color": PRIORITY_STYLE["high"]["color"], "shape": "◆"},
    "stale": {"color": PRIORITY_STYLE["urgent"]["color"], "shape": "▲"},
    "unknown": {"color": "", "shape": "?"},  # the bus is down (or just back): Vigie cannot tell, and says so
}

# Neutral greys per theme (operator: light grey; wall: dark grey). No colour for "normal".
THEMES: dict[str, dict[str, str]] = {
    "light": {
        "bg": "#e4e4e2", "panel": "#f2f2f0", "ink": "#1f1f1f", "muted": "#5c5c5c", "line": "#c4c4c0",
        "map_bg": "#dcdcd8", "land": "#ececea", "district": "#b4b4ae", "commune": "#8c8c86", "road": "#c8c8c2",
        "asset": "#6e6e6a", "asset_line": "#9a9a94", "pipe": "#7c8a96", "cluster": "#f6f6f4",
    },
    "dark": {
        "bg": "#1c1d1f", "panel": "#26282b", "ink": "#ececec", "muted": "#a4a6a8", "line": "#3c3f43",
        "map_bg": "#202124", "land": "#2a2c2f", "district": "#4a4d52", "commune": "#6a6d72", "road": "#3d4044",
        "asset": "#9c9ea2", "asset_line": "#5a5d62", "pipe": "#66727c", "cluster": "#34373b",
    },
}


def map_palette(theme: str) -> dict:
    """What the map's JS needs: neutrals of the theme, condition colours and shapes."""
    neutral = THEMES.get(theme, THEMES["light"])
    return {
        "neutral": neutral,
        "conditions": {str(k): v for k, v in CONDITION_STYLE.items()},
        "speed_bands": {str(k): v for k, v in SPEED_BAND_STYLE.items()},
        "pressure_bands": {str(k): v for k, v in PRESSURE_BAND_STYLE.items()},
        "priorities": PRIORITY_STYLE,
        "liveness": LIVENESS_STYLE,
    }


def css_variables(theme: str) -> dict[str, str]:
    """CSS custom properties (`--v-*`) for a theme."""
    out = {f"--v-{k.replace('_', '-')}": v for k, v in THEMES.get(theme, THEMES["light"]).items()}
    out.update({f"--v-{p}": s["color"] for p, s in PRIORITY_STYLE.items()})
    out.update({f"--v-speed-{s['name']}": s["color"] for s in SPEED_BAND_STYLE.values() if s["color"]})
    out.update({f"--v-pressure-{s['name']}": s["color"] for s in PRESSURE_BAND_STYLE.values() if s["color"]})
    out["--v-select"] = SELECT_INK.get(theme, SELECT_INK["light"])
    return out
