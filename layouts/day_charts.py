"""The domain pages' "over the day" panels: today against yesterday and the same day last week, from plain data.

ISA-101: today dark grey, yesterday mid grey, last week light grey dashed; red dashed lines only for the limits
beyond which a value is abnormal. A day made by the simulated backfill says so in its legend.
"""
from __future__ import annotations

from dash import dcc, html

from services.core.assets import Thresholds
from services.core.kpis import CONGESTION_ABNORMAL_PCT

from .i18n import language
from .palette import PRIORITY_STYLE, THEMES

BUCKET_S = 300
DAYS = ("today", "yesterday", "last_week")
CHART_HEIGHT = 190
GRAPH_CONFIG = {"displayModeBar": False, "responsive": True}
LIMIT_COLOR = PRIORITY_STYLE["urgent"]["color"]

_WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "title.lighting": "Puissance et énergie par heure", "title.savings": "Économies de gradation",
        "title.chlorine": "Chlore libre sur la journée", "title.turbidity": "Turbidité sur la journée",
        "title.speed": "Vitesse moyenne sur la journée", "title.congestion": "Indice de congestion sur la journée",
        "today": "Aujourd'hui", "yesterday": "Hier", "last_week": "J-7", "simulated": "simulé", "simulated_before": "simulé < {t}", "simulated_note": "Simulé : {days}",
        "power": "Puissance (kW)", "energy": "Énergie par heure (kWh)", "band": "min – max capteurs", "mean": "moyenne",
        "max": "max", "limit_min": "seuil min {v} mg/L", "limit_max": "seuil max {v} mg/L", "limit_ntu": "seuil {v} NTU",
        "limit_pct": "seuil {v} %", "none": "Pas encore de mesure aujourd'hui.",
        "saved": "{kwh} kWh économisés", "saved_pct": "{pct} % sous la pleine puissance",
        "same_time": "{day} à la même heure : {kwh} kWh ({pct} %)", "whole_day": "{day}, journée entière : {kwh} kWh ({pct} %)",
    },
    "en": {
        "title.lighting": "Power and energy by hour", "title.savings": "Savings from dimming",
        "title.chlorine": "Free chlorine over the day", "title.turbidity": "Turbidity over the day",
        "title.speed": "Mean speed over the day", "title.congestion": "Congestion index over the day",
        "today": "Today", "yesterday": "Yesterday", "last_week": "D-7", "simulated": "simulated", "simulated_before": "simulated < {t}", "simulated_note": "Simulated: {days}",
        "power": "Power (kW)", "energy": "Energy per hour (kWh)", "band": "sensors min – max", "mean": "mean",
        "max": "max", "limit_min": "min limit {v} mg/L", "limit_max": "max limit {v} mg/L", "limit_ntu": "limit {v} NTU",
        "limit_pct": "limit {v} %", "none": "No reading yet today.",
        "saved": "{kwh} kWh saved", "saved_pct": "{pct} % below full power",
        "same_time": "{day} at the same time: {kwh} kWh ({pct} %)", "whole_day": "{day}, whole day: {kwh} kWh ({pct} %)",
    },
}

CHARTS: dict[str, tuple[str, ...]] = {"lighting": ("lighting",), "water": ("chlorine", "turbidity"), "traffic": ("speed", "congestion")}


def dw(key: str, lang: str, **fmt: object) -> str:
    """A word of the day panels."""
    text = _WORDS[language(lang)][key]
    return text.format(**fmt) if fmt else text


def graph_id(domain: str, chart: str) -> str:
    """The id of one day chart."""
    return f"day-{domain}-{chart}"


def bump_id(domain: str) -> str:
    """The store a push bumps to refresh the domain's day panels."""
    return f"day-bump-{domain}"


SAVINGS = "day-lighting-savings"


def _num(x: float | None, lang: str, digits: int = 0) -> str:
    if x is None:
        return "–"
    text = f"{x:,.{digits}f}"
    return text.replace(",", "\u202f").replace(".", ",") if language(lang) == "fr" else text


def _clock(day: str, slot: int) -> str:
    """A slot of a day as a wall-clock time on `day` (every day is drawn on today's axis)."""
    s = slot * BUCKET_S
    return f"{day} {s // 3600:02d}:{s % 3600 // 60:02d}"


def _styles(theme: str) -> dict[str, dict]:
    n = THEMES.get(theme, THEMES["light"])
    return {"today": {"color": n["ink"], "width": 2.5}, "yesterday": {"color": n["muted"], "width": 1.5},
            "last_week": {"color": n["asset_line"], "width": 1.5, "dash": "dash"}}


def _name(which: str, view: dict, lang: str) -> str:
    name = dw(which, lang)
    if view.get("source") == "mixed" and view.get("live_from_slot") is not None:
        return f"{name} ({dw('simulated_before', lang, t=_clock('', view['live_from_slot']).strip())})"
    return f"{name} ({dw('simulated', lang)})" if view.get("source") in ("backfill", "mixed") else name


def _line(which: str, view: dict, key: str, axis_day: str, lang: str, theme: str, **extra: object) -> dict:
    pts = view.get("series", {}).get(key, [])
    return {"type": "scatter", "mode": "lines", "x": [_clock(axis_day, s) for s, _ in pts], "y": [v for _, v in pts],
            "name": dw(which, lang), "line": _styles(theme)[which], "hovertemplate": "%{x|%H:%M} %{y:.2f}<extra></extra>",
            **extra}


def _limit(value: float, label: str, axis_day: str, yaxis: str = "y") -> dict:
    return {"type": "scatter", "mode": "lines", "x": [f"{axis_day} 00:00", f"{axis_day} 23:59"], "y": [value, value], "yaxis": yaxis,
            "name": label, "showlegend": False, "line": {"color": LIMIT_COLOR, "width": 1.5, "dash": "dash"}, "hoverinfo": "name"}


def _limit_notes(fig: dict) -> dict:
    """Name each limit line at its right end (in the chart, not the legend)."""
    notes = [{"text": t["name"], "x": 1, "xref": "paper", "xanchor": "right", "y": t["y"][0], "yref": t.get("yaxis", "y"),
              "yanchor": "bottom", "showarrow": False, "font": {"color": LIMIT_COLOR, "size": 13}}
             for t in fig["data"] if t.get("line", {}).get("color") == LIMIT_COLOR]
    fig["layout"]["annotations"] = fig["layout"].get("annotations", []) + notes
    return fig


def _layout(theme: str, axis_day: str, height: int = CHART_HEIGHT, **extra: object) -> dict:
    n = THEMES.get(theme, THEMES["light"])
    axis = {"gridcolor": n["line"], "color": n["muted"], "zeroline": False, "tickfont": {"size": 13}}
    return {"height": height, "margin": {"l": 44, "r": 8, "t": 6, "b": 24}, "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)", "font": {"color": n["ink"], "size": 13}, "hovermode": "x",
            "legend": {"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom", "font": {"size": 13}},
            "xaxis": {**axis, "type": "date", "range": [f"{axis_day} 00:00", f"{axis_day} 23:59"], "tickformat": "%Hh", "dtick": 3 * 3600_000},
            "yaxis": {**axis, "rangemode": "tozero"}, **extra}


def lighting_figure(days: dict, lang: str, theme: str, thresholds: Thresholds | None = None) -> dict:
    """Power over the day (lines) above energy per hour (bars), today against yesterday and last week."""
    axis_day = days["today"]["day"]
    styles = _styles(theme)
    data = [_line(w, days[w], "power_kw", axis_day, lang, theme, legendgroup=w) for w in reversed(DAYS)]
    for k, w in enumerate(reversed(DAYS)):  # three bars an hour, side by side: last week, yesterday, today
        hours = days[w].get("energy_by_hour") or []
        data.append({"type": "bar", "x": [f"{axis_day} {h:02d}:{14 + 18 * k:02d}" for h, v in enumerate(hours) if v is not None],
                     "y": [v for v in hours if v is not None], "width": 17 * 60_000, "yaxis": "y2", "name": dw(w, lang),
                     "legendgroup": w, "showlegend": False, "marker": {"color": styles[w]["color"], "line": {"width": 0}},
                     "hovertemplate": f"{dw(w, lang)} %{{x|%Hh}} %{{y:.0f}} kWh<extra></extra>"})
    layout = _layout(theme, axis_day, height=250, barmode="overlay")
    layout["yaxis"] = {**layout["yaxis"], "domain": [0.45, 1.0], "title": {"text": "kW", "font": {"size": 13}, "standoff": 2}}
    layout["yaxis2"] = {**layout["yaxis"], "domain": [0.0, 0.36], "title": {"text": "kWh", "font": {"size": 13}, "standoff": 2}}
    layout["margin"] = {**layout["margin"], "l": 56}
    layout["xaxis"]["anchor"] = "y2"  # the hours under the bars, not between the two charts
    return {"data": data, "layout": layout}


def chlorine_figure(days: dict, lang: str, theme: str, thresholds: Thresholds | None = None) -> dict:
    """Today's chlorine band (sensors' min to max) and mean, yesterday's mean, against the min and max limits."""
    t = thresholds or Thresholds()
    axis_day, n = days["today"]["day"], THEMES.get(theme, THEMES["light"])
    today = days["today"]
    data = [_line("yesterday", days["yesterday"], "chlorine_mean", axis_day, lang, theme),
            _line("today", today, "chlorine_min", axis_day, lang, theme, showlegend=False, hoverinfo="skip",
                  line={"color": n["line"], "width": 0.5}),
            _line("today", today, "chlorine_max", axis_day, lang, theme, name=dw("band", lang), fill="tonexty",
                  fillcolor="rgba(128,128,128,0.25)", line={"color": n["line"], "width": 0.5}),
            _line("today", today, "chlorine_mean", axis_day, lang, theme),
            _limit(t.min_chlorine_mgl, dw("limit_min", lang, v=_num(t.min_chlorine_mgl, lang, 1)), axis_day),
            _limit(t.max_chlorine_mgl, dw("limit_max", lang, v=_num(t.max_chlorine_mgl, lang, 1)), axis_day)]
    layout = _layout(theme, axis_day)
    layout["yaxis"]["range"] = [0, max(t.max_chlorine_mgl * 1.15, *_values(today, "chlorine_max"))]
    return _limit_notes({"data": data, "layout": layout})


def turbidity_figure(days: dict, lang: str, theme: str, thresholds: Thresholds | None = None) -> dict:
    """Today's mean and highest turbidity, yesterday's mean, against the limit."""
    t = thresholds or Thresholds()
    axis_day, n = days["today"]["day"], THEMES.get(theme, THEMES["light"])
    data = [_line("yesterday", days["yesterday"], "turbidity_mean", axis_day, lang, theme),
            _line("today", days["today"], "turbidity_max", axis_day, lang, theme, name=f"{dw('today', lang)} {dw('max', lang)}",
                  line={"color": n["muted"], "width": 1, "dash": "dot"}),
            _line("today", days["today"], "turbidity_mean", axis_day, lang, theme),
            _limit(t.max_turbidity_ntu, dw("limit_ntu", lang, v=_num(t.max_turbidity_ntu, lang, 1)), axis_day)]
    layout = _layout(theme, axis_day)
    layout["yaxis"]["range"] = [0, max(t.max_turbidity_ntu * 1.3, *_values(days["today"], "turbidity_max"))]
    return _limit_notes({"data": data, "layout": layout})


def speed_figure(days: dict, lang: str, theme: str, thresholds: Thresholds | None = None) -> dict:
    """Mean speed over the day: today, yesterday, last week."""
    axis_day = days["today"]["day"]
    layout = _layout(theme, axis_day)
    layout["yaxis"]["rangemode"] = "normal"  # the dips matter more than the distance to zero
    return {"data": [_line(w, days[w], "mean_speed_kmh", axis_day, lang, theme) for w in reversed(DAYS)], "layout": layout}


def congestion_figure(days: dict, lang: str, theme: str, thresholds: Thresholds | None = None) -> dict:
    """Congestion index over the day against the level where it becomes abnormal."""
    axis_day = days["today"]["day"]
    data = [_line(w, days[w], "congestion_index_pct", axis_day, lang, theme) for w in reversed(DAYS)]
    data.append(_limit(CONGESTION_ABNORMAL_PCT, dw("limit_pct", lang, v=_num(CONGESTION_ABNORMAL_PCT, lang)), axis_day))
    layout = _layout(theme, axis_day)
    layout["yaxis"]["range"] = [0, max(CONGESTION_ABNORMAL_PCT * 1.5, *_values(days["today"], "congestion_index_pct"))]
    return _limit_notes({"data": data, "layout": layout})


def _values(view: dict, key: str) -> list[float]:
    return [v * 1.1 for _, v in view.get("series", {}).get(key, [])] or [0.0]


FIGURES = {"lighting": lighting_figure, "chlorine": chlorine_figure, "turbidity": turbidity_figure,
           "speed": speed_figure, "congestion": congestion_figure}


def savings_lines(days: dict, lang: str) -> list:
    """Energy saved by dimming today, against yesterday at the same time and yesterday's whole day."""
    today = days["today"].get("savings") or {}
    y = days["yesterday"]
    out = [html.Div([html.Span(dw("saved", lang, kwh=_num(today.get("saved_kwh"), lang)), className="day-saved"),
                     html.Span(dw("saved_pct", lang, pct=_num(today.get("saved_pct"), lang)), className="day-saved-pct")],
                    className="day-savings-now")]
    if days["today"].get("source") in ("backfill", "mixed"):
        out.append(html.Div(_name("today", days["today"], lang), className="day-savings-ref"))
    same = days.get("yesterday_same_time")
    if same and same.get("rated_kwh"):
        out.append(html.Div(dw("same_time", lang, day=_name("yesterday", y, lang), kwh=_num(same.get("saved_kwh"), lang),
                               pct=_num(same.get("saved_pct"), lang)), className="day-savings-ref"))
    whole = y.get("savings") or {}
    if whole.get("rated_kwh"):
        out.append(html.Div(dw("whole_day", lang, day=_name("yesterday", y, lang), kwh=_num(whole.get("saved_kwh"), lang),
                               pct=_num(whole.get("saved_pct"), lang)), className="day-savings-ref"))
    return out


def simulated_note(days: dict, lang: str) -> str | None:
    """Which of the days shown the backfill simulated, in a few words (None: all measured)."""
    parts = []
    for w in ("last_week", "yesterday", "today"):
        v = days[w]
        if v.get("source") == "backfill":
            parts.append(dw(w, lang).lower() if w != "last_week" else dw(w, lang))
        elif v.get("source") == "mixed" and v.get("live_from_slot") is not None:
            parts.append(f"{dw(w, lang).lower()} < {_clock('', v['live_from_slot']).strip()}")
    return dw("simulated_note", lang, days=", ".join(parts)) if parts else None


def figures(domain: str, days: dict, lang: str, theme: str, thresholds: Thresholds | None = None) -> list[dict]:
    """The domain's day figures, in the order of CHARTS (saying which days are simulated, or that today has no reading yet)."""
    out = [FIGURES[c](days, lang, theme, thresholds) for c in CHARTS[domain]]
    note = simulated_note(days, lang)
    muted = THEMES.get(theme, THEMES["light"])["muted"]
    for fig in out:  # room for the note under the hours, whether or not there is one (the height stays put)
        fig["layout"]["margin"] = {**fig["layout"]["margin"], "b": 40}
        fig["layout"]["height"] += 16
        if note:
            fig["layout"]["annotations"] = fig["layout"].get("annotations", []) + [{
                "text": note, "showarrow": False, "xref": "paper", "yref": "paper", "x": 1, "xanchor": "right", "y": 0,
                "yshift": -26, "yanchor": "top", "font": {"size": 13, "color": muted}}]
    if not any(days["today"].get("series", {}).values()):
        for fig in out:
            fig["layout"]["annotations"] = fig["layout"].get("annotations", []) + [{"text": dw("none", lang), "showarrow": False, "xref": "paper", "yref": "paper",
                                             "x": 0.5, "y": 0.6, "font": {"size": 13}}]
    return out


def day_panels(domain: str, days: dict, lang: str, theme: str, thresholds: Thresholds | None = None) -> list:
    """The domain's "over the day" panels for the side column (with the store a push bumps)."""
    titles = {"lighting": "title.lighting", "chlorine": "title.chlorine", "turbidity": "title.turbidity",
              "speed": "title.speed", "congestion": "title.congestion"}
    out: list = [dcc.Store(id=bump_id(domain), data=0)]
    for chart, fig in zip(CHARTS[domain], figures(domain, days, lang, theme, thresholds)):
        out.append(html.Section(className="domain-panel day-panel", children=[
            html.H2(dw(titles[chart], lang), className="panel-title"),
            dcc.Graph(id=graph_id(domain, chart), figure=fig, config=GRAPH_CONFIG, className="day-chart",
                      style={"height": f"{fig['layout']['height']}px"}),
        ]))
    if domain == "lighting":
        out.append(html.Section(className="domain-panel day-panel", children=[
            html.H2(dw("title.savings", lang), className="panel-title"),
            html.Div(savings_lines(days, lang), id=SAVINGS, className="day-savings")]))
    return out
