"""The alarm-system KPI page (EEMUA 191): tiles against targets, priority distribution, rate over time, bad actors."""
from __future__ import annotations

from dash import dcc, html

from . import alarms_ids as aids
from . import ids
from .alarms_i18n import at
from .i18n import t
from .page import PageData, page_config, page_scope
from .palette import PRIORITY_STYLE, THEMES, css_variables
from .shell import banner, header, summary_strip


def _num(value: float | None, lang: str, digits: int = 1) -> str:
    if value is None:
        return at("kpi.none", lang)
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{value:.0f}"
    return text.replace(".", ",") if lang == "fr" else text


def duration(seconds: float | None, lang: str) -> str:
    """A delay as minutes and seconds (or hours and minutes)."""
    if seconds is None:
        return at("kpi.none", lang)
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d}"


def _tile(key: str, value: str, target: str, status: str, lang: str) -> html.Div:
    return html.Div(className=f"akpi-tile status-{status}", id=f"akpi-{key}", children=[
        html.Div(at(f"kpi.{key}", lang), className="akpi-label"),
        html.Div(value, className="akpi-value"),
        html.Div(target, className="akpi-target"),
        html.Div(at(f"kpi.status.{status}", lang), className="akpi-status"),
    ])


def kpi_tiles(r: dict, lang: str) -> html.Div:
    """The six numbers a manager watches, each against its target."""
    per10, per_hour, flood = r["targets"]["per_10min"], r["targets"]["per_hour"], r["targets"]["flood_share_pct"]
    return html.Div(className="akpi-tiles", id=aids.KPI_TILES, children=[
        _tile("per_10min", _num(r["per_10min"], lang), at("kpi.target", lang, v=f"≤ {_num(per10[0], lang)}"), r["per_10min_status"], lang),
        _tile("per_hour", _num(r["per_hour"], lang), at("kpi.target", lang, v=f"≤ {_num(per_hour[0], lang)}"), r["per_hour_status"], lang),
        _tile("flood_share_pct", _num(r["flood_share_pct"], lang) + " %", at("kpi.target", lang, v=f"< {_num(flood[0], lang)} %"),
              r["flood_share_status"], lang),
        _tile("chattering", str(r["chattering"]), at("kpi.target", lang, v="0"), "ok" if not r["chattering"] else "warning", lang),
        _tile("stale", str(r["stale"]), at("kpi.target", lang, v="0"), "ok" if not r["stale"] else "warning", lang),
        _tile("mtta_s", duration(r["mtta_s"], lang), f"n = {r['acks']}", "ok", lang),
        _tile("standing", str(r.get("standing", 0)), at("kpi.standing_more", lang, max=r.get("standing_max", 0),
                                                      mean=_num(r.get("standing_mean", 0.0), lang)),
              r.get("standing_status", "ok"), lang),
        _tile("per_10min_max", _num(r.get("per_10min_max", 0.0), lang), at("kpi.target", lang, v=f"< {r['targets']['flood_per_10min']}"),
              "ok" if r.get("per_10min_max", 0.0) < r["targets"]["flood_per_10min"] else "warning", lang),
        _tile("maintenance_opened", str(r.get("maintenance_opened", 0)), at("kpi.maintenance_note", lang), "ok", lang),
    ])


def distribution(r: dict, lang: str) -> html.Section:
    """Annunciated alarms by priority against the 80/15/5 guideline (shape, word and bar)."""
    rows = [html.Tr([html.Th(at("col.priority", lang)), html.Th(at("kpi.count", lang), className="num"),
                     html.Th(at("kpi.share", lang), className="num"), html.Th(at("kpi.goal", lang), className="num"), html.Th("")])]
    for d in r["distribution"]:
        p = d["priority"]
        rows.append(html.Tr([
            html.Td([html.Span(PRIORITY_STYLE[p]["shape"] + " ", className=f"prio-shape prio-{p}"), t(f"priority.{p}", lang)]),
            html.Td(str(d["count"]), className="num"), html.Td(_num(d["pct"], lang) + " %", className="num"),
            html.Td(_num(d["target_pct"], lang, 0) + " %", className="num"),
            html.Td([html.Div(className="akpi-bar", style={"width": f"{min(100.0, d['pct']):.0f}%",
                                                            "background": PRIORITY_STYLE[p]["color"]}),
                     html.Div(className="akpi-bar target", style={"width": f"{d['target_pct']:.0f}%"})], style={"width": "40%"}),
        ]))
    return html.Section(className="akpi-panel", children=[
        html.H2(at("kpi.distribution", lang)), html.Table(html.Tbody(rows), className="akpi-table"),
        html.Div(at("kpi.diagnostic", lang, n=r["diagnostic"]), className="akpi-target"),
    ])


def rate_chart(r: dict, lang: str, theme: str) -> html.Section:
    """Annunciated alarms per 10-minute period, with the flood threshold."""
    n = THEMES.get(theme, THEMES["light"])
    xs = [(p[0] + 300) * 1000 for p in r["series"]]  # bars centred on their 10-minute period
    span = [xs[0] - 600_000, xs[-1] + 600_000] if xs else None
    figure = {
        "data": [{"type": "bar", "x": xs, "y": [p[1] for p in r["series"]], "width": 540_000, "marker": {"color": n["asset"]},
                  "name": at("kpi.per_10min", lang), "hovertemplate": "%{y}<extra></extra>"},
                 {"type": "scatter", "mode": "lines", "x": [xs[0], xs[-1]] if xs else [], "y": [r["targets"]["flood_per_10min"]] * (2 if xs else 0),
                  "line": {"color": PRIORITY_STYLE["urgent"]["color"], "dash": "dash", "width": 2}, "name": at("kpi.flood_line", lang)}],
        "layout": {"height": 240, "margin": {"l": 36, "r": 8, "t": 8, "b": 28}, "showlegend": True, "legend": {"orientation": "h", "y": 1.1},
                   "xaxis": {"type": "date", "color": n["muted"], **({"range": span} if span else {})}, "yaxis": {"rangemode": "tozero", "color": n["muted"], "gridcolor": n["line"]},
                   "paper_bgcolor": n["panel"], "plot_bgcolor": n["panel"], "font": {"color": n["ink"], "size": 11}},
    }
    return html.Section(className="akpi-panel", children=[
        html.H2(at("kpi.series", lang)), dcc.Graph(figure=figure, config={"displayModeBar": False, "staticPlot": False}),
    ])


def bad_actors(r: dict, lang: str) -> html.Section:
    """The ten alarms annunciated most often: fix these first."""
    rows = [html.Tr([html.Th("#"), html.Th(at("col.asset", lang)), html.Th(at("col.message", lang)), html.Th(at("col.domain", lang)),
                     html.Th(at("kpi.count", lang), className="num"), html.Th(at("col.flags", lang))])]
    for i, b in enumerate(r["bad_actors"], start=1):
        rows.append(html.Tr([
            html.Td(str(i), className="num"), html.Td(b["asset"]), html.Td(b["message"] or b["code"], className="msg", title=b["message"]),
            html.Td(t(f"nav.{b['domain']}", lang) if b["domain"] else ""), html.Td(str(b["count"]), className="num"),
            html.Td(at("flag.chattering", lang) if b["chattering"] else ""),
        ]))
    return html.Section(className="akpi-panel wide", children=[html.H2(at("kpi.bad_actors", lang)),
                                                          html.Table(html.Tbody(rows), className="akpi-table")])


def kpi_report(r: dict, lang: str, theme: str) -> list:
    """The whole report from `AlarmBook.kpis(now, full=True)`."""
    out: list = []
    if r["in_flood"]:
        out.append(html.Div("▲ " + at("kpi.in_flood", lang), className="akpi-flood", role="alert"))
    out += [
        kpi_tiles(r, lang),
        html.Div(at("kpi.window", lang, h=_num(r["window_s"] / 3600, lang, 0), ops=r["operators"]), className="akpi-window"),
        distribution(r, lang), rate_chart(r, lang, theme), bad_actors(r, lang),
    ]
    return out


def alarm_kpi_page(d: PageData, report: dict | None) -> html.Div:
    """The page: the control room's frame around the report; the browser asks for a new one when the tiles move."""
    lang = d.lang
    body = kpi_report(report, lang, d.theme) if report else [html.Div(at("kpi.none", lang), className="details-hint")]
    return html.Div(className=f"vigie-page page-alarm-kpis theme-{d.theme}", style=css_variables(d.theme), children=[
        dcc.Store(id=ids.CONFIG, data=page_config(d)),
        dcc.Store(id=ids.PAGE, data=page_scope(d)),
        dcc.Store(id=aids.KPI_REV, data=0),
        header(lang, d.theme, "alarms", d.territory_name, d.default_lang),
        banner(lang),
        summary_strip(lang),
        html.H1(at("kpis.title", lang), className="akpi-title"),
        html.Main(body, id=aids.KPI_REPORT, className="kpi-report"),
    ])
