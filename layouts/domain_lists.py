"""The water and traffic pages' lists beside the map: reservoir gauges with autonomy, pumps, the 10 most congested
segments, junctions by signal plan. Neutral unless abnormal (ISA-101): a low autonomy gets the orange frame and ◆."""
from __future__ import annotations

from urllib.parse import quote

from dash import dcc, html

from services.domain_views import Congested, Reservoir


def lists_id(domain: str) -> str:
    """Id of a domain's lists container."""
    return f"{domain}-lists"


def bump_id(domain: str) -> str:
    """Id of the store the browser bumps when the domain's assets changed."""
    return f"{domain}-lists-bump"


_WORDS = {
    "fr": {"reservoirs": "Réservoirs", "autonomy": "{h} h d'autonomie", "no_autonomy": "autonomie inconnue",
           "pumps": "Pompes", "running": "en marche", "stopped": "arrêtée", "unknown": "inconnu",
           "congested": "Les 10 tronçons les plus congestionnés", "junctions": "Carrefours par plan de feux",
           "none": "aucun", "of_free": "{s} km/h / {f} libre", "leaks": "Fuites suspectées"},
    "en": {"reservoirs": "Reservoirs", "autonomy": "{h} h autonomy", "no_autonomy": "autonomy unknown",
           "pumps": "Pumps", "running": "running", "stopped": "stopped", "unknown": "unknown",
           "congested": "The 10 most congested segments", "junctions": "Junctions by signal plan",
           "none": "none", "of_free": "{s} km/h / {f} free", "leaks": "Suspected leaks"},
}


def w(key: str, lang: str, **fmt: object) -> str:
    """A word of these lists."""
    text = _WORDS.get(lang, _WORDS["fr"])[key]
    return text.format(**fmt) if fmt else text


def _link(asset_id: str, text: str) -> dcc.Link:
    return dcc.Link(text, href="/asset/" + quote(asset_id, safe=""), className="fault-lamp")


def gauge(r: Reservoir, lang: str) -> html.Div:
    """A reservoir's level as a vertical gauge with its autonomy in hours."""
    pct = None if r.fill is None else round(r.fill * 100)
    return html.Div(className="gauge" + (" low" if r.low else ""), id=f"gauge-{r.id}", children=[
        html.Div(html.Div(className="gauge-fill", style={"height": f"{pct or 0}%"}), className="gauge-tank"),
        html.Div(f"{pct} %" if pct is not None else "?", className="gauge-pct"),
        html.Div(("◆ " if r.low else "") + (w("autonomy", lang, h=f"{r.autonomy_h:g}") if r.autonomy_h is not None else w("no_autonomy", lang)),
                 className="gauge-autonomy"),
        _link(r.id, r.name),
    ])


def water_lists(res: list[Reservoir], pumps: list[tuple[str, str, bool | None]], lang: str, leaks: list | None = None) -> list:
    """Suspected leaks with their probable area, reservoirs as gauges, then the pumps running or stopped."""
    leak_rows = [html.Div([html.Span("◆", className="prio-shape leak-shape"), _link(pid, name), html.Span(area, className="fault-street")],
                          className="leak-row") for pid, name, area, _t in (leaks or [])]
    pump_rows = [html.Div([_link(pid, name), html.Span(w("running" if run else "stopped" if run is False else "unknown", lang),
                                                       className="pump-state " + ("on" if run else "off"))], className="pump-row")
                 for pid, name, run in pumps]
    return [html.H2(f"{w('leaks', lang)} ({len(leak_rows)})", className="panel-title"),
            html.Div(leak_rows or [html.Div(w("none", lang), className="details-none")], className="leaks", id="water-leaks"),
            html.H2(w("reservoirs", lang), className="panel-title"),
            html.Div([gauge(r, lang) for r in res] or [html.Div(w("none", lang), className="details-none")], className="gauges"),
            html.H2(w("pumps", lang), className="panel-title"),
            html.Div(pump_rows or [html.Div(w("none", lang), className="details-none")], className="pumps")]


def traffic_lists(top: list[Congested], plans: dict[str, list[tuple[str, str]]], lang: str) -> list:
    """The most congested segments (speed against free flow), then how many junctions run each signal plan."""
    rows = [html.Div(className="congested-row", children=[
        html.Span(f"{i}.", className="rank"), _link(c.id, c.name),
        html.Div(html.Div(className="ratio-fill", style={"width": f"{round(c.ratio * 100)}%"}), className="ratio-bar"),
        html.Span(w("of_free", lang, s=round(c.speed), f=round(c.free_flow)), className="fault-age")])
        for i, c in enumerate(top, 1)]
    plan_rows = [html.Div([html.Span(plan, className="plan-name"), html.Span(str(len(js)), className="fault-count")],
                          className="plan-row" + ("" if plan == "normal" else " abnormal")) for plan, js in sorted(plans.items())]
    return [html.H2(w("congested", lang), className="panel-title"),
            html.Div(rows or [html.Div(w("none", lang), className="details-none")], className="congested", id="congested-top"),
            html.H2(w("junctions", lang), className="panel-title"),
            html.Div(plan_rows or [html.Div(w("none", lang), className="details-none")], className="plans")]


def lists_panel(domain: str, children: list) -> html.Section:
    """The container the live refresh rewrites."""
    return html.Section([dcc.Store(id=bump_id(domain), data=0), html.Div(children, id=lists_id(domain))],
                        className=f"domain-panel {domain}-panel")
