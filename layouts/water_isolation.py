"""Isolating a water pipe, from plain data: the valves that cut it off (nearest first) and what each cuts off with it.

Shown in the command panel when the selection is a pipe (instead of refusing a valve command on a
pipe), and the sensors a pipe affects on its asset page. Words in French and English here.
"""
from __future__ import annotations

from typing import Any

from dash import dcc, html

from .commands_i18n import number
from .i18n import language

PANEL = "wiso-panel"  # the command panel's isolation section
SENSORS = "wiso-sensors"  # the asset page's list of the sensors a pipe affects
SHOWN_SENSORS = 4  # named in an option before "and N more" (the asset page lists them all)


def pick(valve: str) -> dict[str, str]:
    """The id of an option's button."""
    return {"type": "wiso-pick", "valve": valve}


WORDS = {
    "fr": {
        "title": "Isoler {pipe}",
        "intro": "Une vanne n'agit que sur des vannes. Pour couper l'eau de cette conduite, fermez l'une de ces vannes "
                 "(la plus proche coupe le moins) :",
        "none": "Aucune vanne en amont de cette conduite : seul l'arrêt du surpresseur de sa zone la coupe.",
        "here": "sur cette conduite", "up": "{n} conduite(s) en amont",
        "cuts": "coupe {pipes} conduite(s) ({km} km), {junctions} nœud(s)",
        "sensors": "{n} capteur(s) privé(s) d'eau : {names}", "no_sensor": "aucun capteur privé d'eau",
        "more": "et {n} autres", "open": "ouverte à {pct} %", "main": "vanne principale",
        "choose": "Choisir cette vanne (fermeture)",
        "hint.pipe": "{pipe} est une conduite : choisissez ci-dessous la vanne qui l'isole.",
        "hint.position": "Indiquez l'ouverture voulue : le champ vide laisse la vanne inchangée (ouverte à {pct} %).",
        "hint.position_unknown": "Indiquez l'ouverture voulue : le champ vide laisse la vanne inchangée.",
        "position.placeholder": "inchangée",
        "page.title": "Capteurs concernés",
        "page.here": "Sur la conduite", "page.down": "En aval (alimentés par elle)", "page.none": "Aucun capteur sur cette conduite ni en aval.",
        "page.isolate": "Isoler cette conduite",
    },
    "en": {
        "title": "Isolate {pipe}",
        "intro": "A valve command acts on valves only. To cut this pipe's water off, close one of these valves "
                 "(the nearest cuts the least):",
        "none": "No valve upstream of this pipe: only stopping its zone's booster pump cuts it off.",
        "here": "on this pipe", "up": "{n} pipe(s) upstream",
        "cuts": "cuts off {pipes} pipe(s) ({km} km), {junctions} junction(s)",
        "sensors": "{n} sensor(s) left without water: {names}", "no_sensor": "no sensor left without water",
        "more": "and {n} more", "open": "{pct} % open", "main": "main valve",
        "choose": "Choose this valve (close)",
        "hint.pipe": "{pipe} is a pipe: choose below the valve that isolates it.",
        "hint.position": "Give the opening wanted: an empty field leaves the valve unchanged ({pct} % open).",
        "hint.position_unknown": "Give the opening wanted: an empty field leaves the valve unchanged.",
        "position.placeholder": "unchanged",
        "page.title": "Sensors affected",
        "page.here": "On the pipe", "page.down": "Downstream (fed by it)", "page.none": "No sensor on this pipe or downstream.",
        "page.isolate": "Isolate this pipe",
    },
}


def wt(key: str, lang: str, **fmt: object) -> str:
    """A word of the isolation panel in `lang`."""
    text = WORDS[language(lang)][key]
    return text.format(**fmt) if fmt else text


def _names(sensors: list, lang: str) -> str:
    names = [name for _, name in sensors[:SHOWN_SENSORS]]
    more = len(sensors) - len(names)
    return ", ".join(names) + (" " + wt("more", lang, n=more) if more > 0 else "")


def option_row(o: dict[str, Any], lang: str) -> html.Li:
    """One valve: where it is, what closing it cuts off, its opening now, and a button to choose it."""
    where = wt("here", lang) if o["hops"] == 0 else wt("up", lang, n=o["hops"])
    facts = [where, wt("cuts", lang, pipes=o["pipes"], km=number(o["km"], lang, 2), junctions=o["junctions"])]
    if o.get("position") is not None:
        facts.append(wt("open", lang, pct=number(o["position"] * 100, lang, 0)))
    if o.get("main"):
        facts.append(wt("main", lang))
    sensors = o["sensors"]
    return html.Li(className="wiso-option", children=[
        html.Div(o["name"], className="wiso-valve"),
        html.Div(" · ".join(facts), className="wiso-facts"),
        html.Div(wt("sensors", lang, n=len(sensors), names=_names(sensors, lang)) if sensors else wt("no_sensor", lang),
                 className="wiso-sensors"),
        html.Button(wt("choose", lang), id=pick(o["valve"]), n_clicks=0, className="cmd-secondary wiso-choose"),
    ])


def isolation_panel(doc: dict[str, Any] | None, lang: str) -> list:
    """The panel's content for a pipe's isolation answer (nothing when the selection is not one pipe)."""
    if not doc:
        return []
    options = doc.get("options") or []
    body: list = [html.H3(wt("title", lang, pipe=doc["name"]), className="wiso-title")]
    if options:
        body += [html.P(wt("intro", lang), className="wiso-intro"), html.Ol([option_row(o, lang) for o in options], className="wiso-list")]
    else:
        body.append(html.P(wt("none", lang), className="wiso-intro"))
    return body


def affected_sensors(doc: dict[str, Any] | None, lang: str, link, isolate_href: str | None) -> html.Section | None:
    """The asset page's list of the sensors a pipe affects (its own, those downstream), each a link; None for other assets.

    `link(asset_id)` gives the href of an asset's page.
    """
    if doc is None:
        return None
    rows: list = []
    for key, sensors in (("page.here", doc["sensors_here"]), ("page.down", doc["sensors_down"])):
        if sensors:
            rows += [html.H4(f"{wt(key, lang)} ({len(sensors)})", className="wiso-sub"),
                     html.Ul([html.Li(dcc.Link(name, href=link(sid), className="asset-link")) for sid, name in sensors],
                             className="wiso-sensor-list")]
    if not rows:
        rows = [html.Div(wt("page.none", lang), className="details-none")]
    if isolate_href:
        rows.append(dcc.Link(wt("page.isolate", lang), href=isolate_href, className="tool-link", id="wiso-isolate-link"))
    return html.Section(id=SENSORS, className="wiso-affected", children=[html.H3(wt("page.title", lang), className="details-section"), *rows])
