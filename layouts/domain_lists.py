"""The water and traffic pages' lists beside the map: reservoir gauges with autonomy, pumps, traffic incidents, the
slowest segments, junctions by signal plan. Neutral unless abnormal (ISA-101): a low autonomy gets the orange frame
and ◆, an incident its alarm priority's shape and colour."""
from __future__ import annotations

from datetime import datetime, tzinfo
from urllib.parse import quote

from dash import dcc, html

from services.core.bands import SLOWED_BELOW
from services.history.domain_views import Congested, Incident, Reservoir

from .palette import PRIORITY_STYLE
from .words import enum_label


def lists_id(domain: str) -> str:
    """Id of a domain's lists container."""
    return f"{domain}-lists"


def bump_id(domain: str) -> str:
    """Id of the store the browser bumps when the domain's assets changed."""
    return f"{domain}-lists-bump"


_WORDS = {
    "fr": {"reservoirs": "Réservoirs", "autonomy": "{h} h d'autonomie", "no_autonomy": "autonomie inconnue",
           "pumps": "Pompes", "running": "en marche", "stopped": "arrêtée", "unknown": "inconnu",
           "congested": "Tronçons ralentis (les 10 plus lents)", "junctions": "Carrefours par plan de feux",
           "none": "aucun", "of_free": "{s} km/h / {f} libre", "leaks": "Fuites suspectées",
           "no_congestion": "Aucune congestion : tout tronçon ouvert roule à plus de {pct} % de sa vitesse libre",
           "incidents": "Incidents", "no_incident": "Aucun incident en cours", "since": "depuis {hm}",
           "kind.incident": "Incident, voie bloquée", "kind.signal_fault": "Panne de feux, orange clignotant",
           "affected": "{n} voisin(s) ralenti(s) ou fermé(s) : {names}", "no_affected": "voisins fluides",
           "priority.urgent": "Urgente", "priority.high": "Haute", "priority.low": "Basse", "priority.diagnostic": "Diagnostic"},
    "en": {"reservoirs": "Reservoirs", "autonomy": "{h} h autonomy", "no_autonomy": "autonomy unknown",
           "pumps": "Pumps", "running": "running", "stopped": "stopped", "unknown": "unknown",
           "congested": "Slowed segments (the 10 slowest)", "junctions": "Junctions by signal plan",
           "none": "none", "of_free": "{s} km/h / {f} free", "leaks": "Suspected leaks",
           "no_congestion": "No congestion: every open segment runs above {pct} % of its free-flow speed",
           "incidents": "Incidents", "no_incident": "No incident under way", "since": "since {hm}",
           "kind.incident": "Incident, road blocked", "kind.signal_fault": "Signal fault, flashing amber",
           "affected": "{n} neighbour(s) slowed or closed: {names}", "no_affected": "neighbours flowing",
           "priority.urgent": "Urgent", "priority.high": "High", "priority.low": "Low", "priority.diagnostic": "Diagnostic"},
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
        html.Div(("◆ " if r.low else "") + (w("autonomy", lang, h=f"{r.autonomy_h:g}".replace(".", "," if lang == "fr" else ".")) if r.autonomy_h is not None else w("no_autonomy", lang)),
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


def incident_row(i: Incident, lang: str, tz: tzinfo | None) -> html.Div:
    """One incident: priority (shape, colour, word), kind, where (the asset's page), since when, what it slows."""
    shape = PRIORITY_STYLE.get(i.priority, PRIORITY_STYLE["low"])["shape"]
    hm = datetime.fromtimestamp(i.raised_at, tz).strftime("%H:%M")
    streets = list(dict.fromkeys(name for _id, name in i.affected))  # a street cut into segments is named once
    names = ", ".join(streets[:3]) + (" …" if len(streets) > 3 else "")
    around = w("affected", lang, n=len(i.affected), names=names) if i.affected else w("no_affected", lang)
    return html.Div(className=f"incident-row prio-{i.priority}" + ("" if i.acknowledged else " unack"), id=f"incident-{i.alarm_id}",
                    **{"data-asset": i.asset, "data-kind": i.kind}, children=[
        html.Span(shape, className="prio-shape"), html.Span(w(f"priority.{i.priority}", lang), className="incident-prio"),
        html.Div([html.Div([html.Span(w(f"kind.{i.kind}", lang) if i.kind in ("incident", "signal_fault") else i.kind,
                                      className="incident-kind"), _link(i.asset, i.name)], className="incident-what"),
                  html.Div(around, className="incident-around")], className="incident-body"),
        html.Div([html.Span(w("since", lang, hm=hm), className="incident-since"),
                  html.Span("", className="incident-age", **{"data-vigie-since": i.raised_at})], className="incident-when"),
    ])


def traffic_lists(top: list[Congested], plans: dict[str, list[tuple[str, str]]], lang: str,
                  incidents: list[Incident] | None = None, tz: tzinfo | None = None) -> list:
    """Incidents under way (newest first), the slowest segments (only those actually slowed, speed against free flow),
    then how many junctions run each signal plan."""
    inc = incidents or []
    rows = [html.Div(className="congested-row", children=[
        html.Span(f"{i}.", className="rank"), _link(c.id, c.name),
        html.Div(html.Div(className="ratio-fill", style={"width": f"{round(c.ratio * 100)}%"}), className="ratio-bar"),
        html.Span(w("of_free", lang, s=round(c.speed), f=round(c.free_flow)), className="fault-age")])
        for i, c in enumerate(top, 1)]
    plan_rows = [html.Div([html.Span(enum_label("signalPlan", plan, lang), className="plan-name", title=plan), html.Span(str(len(js)), className="fault-count")],
                          className="plan-row" + ("" if plan == "normal" else " abnormal")) for plan, js in sorted(plans.items())]
    quiet = w("no_congestion", lang, pct=round(SLOWED_BELOW * 100))
    return [html.H2(f"{w('incidents', lang)} ({len(inc)})", className="panel-title"),
            html.Div([incident_row(i, lang, tz) for i in inc] or [html.Div(w("no_incident", lang), className="details-none")],
                     className="incidents", id="traffic-incidents"),
            html.H2(w("congested", lang), className="panel-title"),
            html.Div(rows or [html.Div(quiet, className="details-none")], className="congested", id="congested-top"),
            html.H2(w("junctions", lang), className="panel-title"),
            html.Div(plan_rows or [html.Div(w("none", lang), className="details-none")], className="plans")]


def lists_panel(domain: str, children: list) -> html.Section:
    """The container the live refresh rewrites."""
    return html.Section([dcc.Store(id=bump_id(domain), data=0), html.Div(children, id=lists_id(domain))],
                        className=f"domain-panel {domain}-panel")
