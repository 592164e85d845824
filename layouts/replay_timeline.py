"""The trainer's timeline: where alarms occurred over the session's period, where the clock is, what was injected."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from .palette import PRIORITY_STYLE
from .replay_banner import EXERCISE_COLOUR
from .replay_i18n import rt
from .i18n import t

LANES = ("urgent", "high", "low", "diagnostic")
SYMBOLS = {"urgent": "triangle-up", "high": "diamond", "low": "square", "diagnostic": "circle"}


def _dt(ts: float, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ts, tz)


def timeline_figure(data: dict, position: float | None, tz: ZoneInfo, lang: str, theme: str = "light") -> dict:
    """A plotly figure: alarm marks on a lane per priority, alarms per minute as bars, the position as a line."""
    ink, muted, grid = ("#ececec", "#a4a6a8", "#3c3f43") if theme == "dark" else ("#1f1f1f", "#5c5c5c", "#d4d4d0")
    traces: list[dict] = [{
        "type": "bar", "name": rt("timeline.counts", lang), "yaxis": "y2", "hoverinfo": "skip",
        "x": [_dt(c["t"] + data.get("bucket_s", 60) / 2, tz) for c in data.get("counts", [])],
        "y": [sum(v for k, v in c.items() if k != "t") for c in data.get("counts", [])],
        "marker": {"color": "rgba(120,120,120,.25)"}, "width": data.get("bucket_s", 60) * 1000 * 0.9,
    }]
    for p in LANES:
        marks = [m for m in data.get("alarms", []) if m["priority"] == p]
        if not marks:
            continue
        traces.append({
            "type": "scatter", "mode": "markers", "name": t(f"priority.{p}", lang), "x": [_dt(m["t"], tz) for m in marks],
            "y": [t(f"priority.{p}", lang)] * len(marks), "customdata": [m["t"] for m in marks],
            "text": [f"{m['code']} · {m['asset']}" for m in marks], "hovertemplate": "%{x|%H:%M:%S} %{text}<extra></extra>",
            "marker": {"symbol": SYMBOLS[p], "size": 9, "color": PRIORITY_STYLE[p]["color"], "line": {"width": 0.5, "color": ink}},
        })
    injections = data.get("injections", [])
    if injections:
        traces.append({
            "type": "scatter", "mode": "markers", "name": rt("timeline.injection", lang), "x": [_dt(i["at"], tz) for i in injections],
            "y": [rt("timeline.injection", lang)] * len(injections), "customdata": [i["at"] for i in injections],
            "text": [rt(f"event.{i['event']}", lang) for i in injections], "hovertemplate": "%{x|%H:%M:%S} %{text}<extra></extra>",
            "marker": {"symbol": "star", "size": 13, "color": EXERCISE_COLOUR},
        })
    lanes = [rt("timeline.injection", lang)] + [t(f"priority.{p}", lang) for p in LANES]
    shapes = []
    if position is not None:
        x = _dt(position, tz)
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
                       "line": {"color": EXERCISE_COLOUR, "width": 3}})
    return {
        "data": traces,
        "layout": {
            "height": 230, "margin": {"l": 90, "r": 58, "t": 8, "b": 28}, "showlegend": False, "bargap": 0,
            "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)", "font": {"color": ink, "size": 13},
            "xaxis": {"type": "date", "range": [_dt(data["since"], tz), _dt(data["until"], tz)], "gridcolor": grid,
                      "tickformat": "%H:%M", "fixedrange": True},
            "yaxis": {"type": "category", "categoryorder": "array", "categoryarray": lanes[::-1], "range": [-0.5, len(lanes) - 0.5],
                      "gridcolor": grid, "fixedrange": True, "color": muted},
            "yaxis2": {"overlaying": "y", "side": "right", "showgrid": False, "rangemode": "tozero", "fixedrange": True,
                       "color": muted, "tickformat": "d", "nticks": 4,
                       "title": {"text": rt("timeline.counts", lang), "font": {"size": 13}, "standoff": 4}},
            "shapes": shapes, "clickmode": "event", "hovermode": "closest",
        },
    }
