"""Panels the domain pages (level 2) add to the control-room page: the lighting faults list, the operator actions."""
from __future__ import annotations

from itertools import groupby
from urllib.parse import quote, urlencode

from dash import dcc, html

from .asset_i18n import at
from .palette import CONDITION_STYLE
from .words import enum_label

FAULTS = "lighting-faults"
FAULTS_BUMP = "lighting-faults-bump"
FAULT_ROWS = 150
_SHAPE = {s["name"]: s["shape"] for s in CONDITION_STYLE.values()}

_WORDS = {
    "fr": {"faults": "Pannes à traiter", "csv": "Export CSV (GMAO)", "cabinet": "Armoire", "none": "Aucune panne.",
           "more": "+ {n} autres dans l'export", "actions": "Actions", "command": "Commander l'éclairage",
           "age": "depuis {h}", "no_cabinet": "sans armoire",
           "defectiveLamp": "Lampe défectueuse", "brokenLantern": "Lanterne cassée", "columnIssue": "Problème de mât"},
    "en": {"faults": "Faults to fix", "csv": "CSV export (CMMS)", "cabinet": "Cabinet", "none": "No fault.",
           "more": "+ {n} more in the export", "actions": "Actions", "command": "Command the lighting",
           "age": "for {h}", "no_cabinet": "no cabinet",
           "defectiveLamp": "Defective lamp", "brokenLantern": "Broken lantern", "columnIssue": "Column issue"},
}


def w(key: str, lang: str, **fmt: object) -> str:
    """A word of these panels."""
    text = _WORDS.get(lang, _WORDS["fr"])[key]
    return text.format(**fmt) if fmt else text


def age_text(hours: float) -> str:
    """An age as an operator reads it: 45 min, 5 h, 3 d."""
    if hours < 1:
        return f"{int(hours * 60)} min"
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} j"


def faults_rows(rows: list, now: float, lang: str) -> list:
    """The faults grouped by cabinet (count in the heading), each lamp with its street, state and age."""
    if not rows:
        return [html.Div(w("none", lang), className="details-none")]
    out: list = []
    shown = rows[:FAULT_ROWS]
    for cabinet, group in groupby(shown, key=lambda r: r.cabinet):
        lamps = list(group)
        title = lamps[0].cabinet_name or f"{w('cabinet', lang)} {cabinet or w('no_cabinet', lang)}"  # its name says where it is
        out.append(html.Div([html.Span(title, className="fault-cabinet-name", title=cabinet),
                             html.Span(str(len(lamps)), className="fault-count")], className="fault-cabinet"))
        for r in lamps:
            out.append(html.Div(className=f"fault-row cond-{r.condition}", children=[
                html.Span(_SHAPE.get(r.condition, "?"), className="prio-shape"),
                dcc.Link(r.name or r.lamp, href="/asset/" + quote(r.lamp, safe=""), className="fault-lamp"),
                html.Span(_WORDS.get(lang, _WORDS["fr"]).get(r.status, r.status), className="fault-status", title=r.street),
                html.Span(age_text(r.age_h(now)), className="fault-age"),
            ]))
    if len(rows) > len(shown):
        out.append(html.Div(w("more", lang, n=len(rows) - len(shown)), className="alarm-more"))
    return out


def faults_panel(rows: list, now: float, lang: str) -> html.Section:
    """The maintenance team's list, with its CSV export."""
    return html.Section(className="domain-panel faults-panel", children=[
        html.Div([html.H2(w("faults", lang), className="panel-title"),
                  html.A(w("csv", lang), href="/vigie/lighting/faults.csv", className="tool-link", id="faults-csv", download="")],
                 className="panel-head"),
        dcc.Store(id=FAULTS_BUMP, data=0),
        html.Div(faults_rows(rows, now, lang), id=FAULTS, className="faults-list"),
    ])


def actions_panel(domain: str, lang: str, theme: str, default_lang: str) -> html.Section:
    """The domain's operator actions: the command panel opened on the domain (shown only when the role allows)."""
    query = {"domain": domain, **({"lang": lang} if lang != default_lang else {}), **({"theme": theme} if theme != "light" else {})}
    return html.Section(className="domain-panel actions-panel", children=[
        html.H2(w("actions", lang), className="panel-title"),
        dcc.Link(w("command", lang) if domain == "lighting" else at("asset.command", lang) + " · " + at(f"nav.{domain}", lang),
                 href="/commands?" + urlencode(query), className="domain-action", id=f"{domain}-command-link"),
    ])


_MODES = {"fr": {"title": "Modes de commande en vigueur", "overrides": "Forçages en cours", "until": "jusqu'à {t}"},
          "en": {"title": "Control modes in force", "overrides": "Overrides running", "until": "until {t}"}}


def modes_panel(counts: dict[str, int], overrides: list, lang: str, limit: int = 20) -> html.Section:
    """How many lamps run each control mode (schedules in force), and the overrides running with their end."""
    words = _MODES.get(lang, _MODES["fr"])
    rows = [html.Div([html.Span(enum_label("controlMode", mode, lang), className="plan-name", title=mode), html.Span(f"{n:,}".replace(",", "\u202f"), className="fault-count")],
                     className="plan-row" + (" abnormal" if mode == "override" else "")) for mode, n in sorted(counts.items())]
    over = [html.Div([dcc.Link(name, href="/asset/" + quote(aid, safe=""), className="fault-lamp"),
                      html.Span(words["until"].format(t=str(until)[11:16] if until else "?"), className="fault-age")],
                     className="pump-row") for aid, name, until in overrides[:limit]]
    if len(overrides) > limit:
        over.append(html.Div(f"+ {len(overrides) - limit}", className="alarm-more"))
    return html.Section(className="domain-panel modes-panel", id="lighting-modes", children=[
        html.H2(words["title"], className="panel-title"), html.Div(rows, className="plans"),
        html.H2(f"{words['overrides']} ({len(overrides)})", className="panel-title"), html.Div(over, className="pumps")])
