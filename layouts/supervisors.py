"""The engineers' supervisors page: two publishers, quarantine, approved and rejected supervisors, with their decisions.

Pure: rows come from the registry's view (services/core/registry.py `Registry.view`), permissions and the site's
policy from the dashboard module. Colour only for what is abnormal: two publishers (the alarm's orange) and what a
quarantined supervisor says about other supervisors' assets.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import dash_mantine_components as dmc
from dash import dcc, html

from . import ids
from . import supervisors_ids as sids
from .i18n import t
from .page import PageData, page_config, page_scope
from .palette import css_variables
from .shell import banner, header, summary_strip
from .supervisors_i18n import st

SECTIONS = ("flagged", "quarantined", "approved", "rejected")
COLUMNS = (("supervisor", "13%"), ("domain", "7%"), ("origin", "15%"), ("assets", "9%"), ("feed", "12%"), ("sent", "28%"),
           ("actions", "16%"))  # the same widths in every section, so that the sections line up


@dataclass(frozen=True, slots=True)
class RegistryData:
    """What the page shows besides the frame: the registry, who may decide where, the site's policy, the time."""

    rows: list[dict] | None  # None: the registry could not be read
    allowed: dict[str, bool]  # domain -> may the viewer decide about its supervisors
    approval: str
    now: float
    timezone: str


def section_of(row: dict) -> str:
    """Which section a supervisor is listed in."""
    return "flagged" if row.get("flagged") else str(row.get("standing"))


def _when(ts: float | None, d: RegistryData, lang: str) -> str:
    if not ts:
        return t("age.never", lang)
    at = datetime.fromtimestamp(ts, ZoneInfo(d.timezone))
    return at.strftime("%d/%m %H:%M") if lang == "fr" else at.strftime("%d %b %H:%M")


def _age(seconds: float, lang: str) -> str:
    s = max(0, int(seconds))
    if s < 60:
        return t("age.s", lang, n=s)
    if s < 3600:
        return t("age.min", lang, n=s // 60)
    if s < 86400:
        return t("age.h", lang, n=s // 3600)
    return t("age.d", lang, n=s // 86400)


def _count(n: int, lang: str) -> str:
    return f"{n:,}".replace(",", "\u202f" if lang == "fr" else ",")


def _origin(row: dict, d: RegistryData, lang: str) -> str:
    origin = row.get("origin")
    if origin == "declared":
        return st("origin.declared", lang)
    if origin == "engineer":
        return st(f"origin.engineer.{row.get('standing')}", lang, who=row.get("decided_by") or "?", when=_when(row.get("decided_at"), d, lang))
    return st(f"origin.{origin}", lang, when=_when(row.get("first_seen"), d, lang))


def _feed(row: dict, lang: str) -> list:
    h = row.get("health")
    if not h:
        return [st("feed.never", lang)]
    out: list = [st("feed.status", lang, status=t(f"liveness.{h['status']}", lang), age=_age(h.get("age_s", 0), lang))]
    if h.get("gaps") or h.get("restarts"):
        out += [html.Br(), html.Span(st("feed.counters", lang, gaps=h.get("gaps", 0), restarts=h.get("restarts", 0)), className="sup-muted")]
    if h.get("clock_drift"):  # its clock is not Vigie's (services/core/health.py): said in words, in the site's language
        text = h.get("clock_drift_text") or {}
        out += [html.Br(), html.Span(text.get(lang) or text.get("en", ""), className="sup-abnormal sup-clock-drift")]
    return out


def _sent(row: dict, d: RegistryData, lang: str) -> list:
    out: list = []
    if row.get("flagged"):
        out.append(html.Div(st("flagged.since", lang, when=_when(row.get("flagged_since"), d, lang)), className="sup-abnormal"))
    held = row.get("held")
    if row.get("standing") != "quarantined":
        return out
    if not held:
        return out + [html.Span(st("held.none", lang), className="sup-muted")]
    out.append(html.Div(st("held.summary", lang, messages=held["held"], assets=held["assets"], alarms=held["alarms"])))
    if held.get("foreign_assets"):
        sample = ", ".join(f"{x['asset']} ({x['owner']})" for x in held["foreign_sample"][:3])
        out.append(html.Div(st("held.foreign_assets", lang, n=held["foreign_assets"], sample=sample), className="sup-abnormal"))
    if held.get("foreign_alarms"):
        out.append(html.Div(st("held.foreign_alarms", lang, n=held["foreign_alarms"]), className="sup-abnormal"))
    for a in held.get("alarm_sample", [])[:3]:
        sev = st(f"severity.{a['severity']}", lang)
        key = "held.alarm_owner" if a.get("owner") and a["owner"] != row["id"] else "held.alarm"
        out.append(html.Div(st(key, lang, severity=sev, asset=a["asset"], owner=a.get("owner"), message=a["message"]), className="sup-alarm"))
    if held.get("truncated"):
        out.append(html.Div(st("held.truncated", lang), className="sup-muted"))
    return out


def decisions(row: dict) -> tuple[str, ...]:
    """The decisions offered for a supervisor (a declared one is changed in the file)."""
    if row.get("origin") == "declared":
        return ()
    return {"quarantined": ("approve", "reject"), "approved": ("reject", "remove"),
            "rejected": ("approve", "remove")}.get(str(row.get("standing")), ())


def _actions(row: dict, d: RegistryData, lang: str) -> list:
    offered = decisions(row)
    if not offered:
        return [html.Span(st("act.declared", lang), className="sup-muted")]
    allowed = d.allowed.get(row["domain"], False)
    why = "" if allowed else st("act.not_allowed", lang, domain=t(f"nav.{row['domain']}", lang))
    return [html.Button(st(f"act.{dec}", lang), id=sids.action(dec, row["id"]), n_clicks=0, disabled=not allowed, title=why,
                        className="sup-action" + (" primary" if dec == "approve" else ""))
            for dec in offered]


def _row(row: dict, d: RegistryData, lang: str) -> html.Tr:
    name = row.get("name") or ""
    return html.Tr(id=f"sup-row-{row['id']}", className=f"sup-row sup-{section_of(row)}", children=[
        html.Td([html.Div(row["id"], className="sup-id"), html.Div(name, className="sup-muted") if name else None]),
        html.Td(t(f"nav.{row['domain']}", lang) if row.get("domain") in ("lighting", "water", "traffic") else row.get("domain")),
        html.Td(_origin(row, d, lang)),
        html.Td([html.Div(_count(row.get("assets", 0), lang)),
                 html.Div(st("assets.max", lang, max=_count(row.get("limit", 0), lang)), className="sup-muted")], className="num"),
        html.Td(_feed(row, lang)),
        html.Td(_sent(row, d, lang), className="sup-sent"),
        html.Td(_actions(row, d, lang), className="sup-actions"),
    ])


def registry_sections(d: RegistryData, lang: str) -> list:
    """The four sections, most urgent first; each says "none" when empty."""
    if d.rows is None:
        return [html.Div(st("unavailable", lang), className="details-hint")]
    cols = html.Colgroup([html.Col(style={"width": w}) for _c, w in COLUMNS])
    head = html.Thead(html.Tr([html.Th(st(f"col.{c}", lang), className="num" if c == "assets" else None) for c, _w in COLUMNS]))
    out: list = []
    for section in SECTIONS:
        rows = [r for r in d.rows if section_of(r) == section]
        body = html.Table([cols, head, html.Tbody([_row(r, d, lang) for r in rows])], className="sup-table") if rows \
            else html.Div(st("section.empty", lang), className="sup-muted")
        out.append(html.Section(id=f"sup-section-{section}", className=f"sup-panel sup-section-{section}" + (" has-rows" if rows else ""),
                                children=[html.H2(f"{st(f'section.{section}', lang)} ({len(rows)})"), body]))
    return out


def feedback(outcome: dict, decision: str, lang: str) -> str:
    """An outcome of `decide()` in words."""
    sid, result = outcome.get("supervisor", ""), outcome.get("result")
    if result == "done":
        return st(f"fb.done.{decision}", lang, id=sid)
    if result in ("already", "refused"):
        return st(f"fb.{result}", lang, id=sid, why=st(f"why.{outcome.get('why') or 'declared'}", lang))
    if result == "forbidden":
        domain = outcome.get("domain")
        return st("fb.forbidden", lang, id=sid, domain=t(f"nav.{domain}", lang) if domain else "?")
    return st("fb.not_found", lang, id=sid)


def confirm_modal(lang: str) -> dmc.Modal:
    """The decision, said in full, before it is made."""
    return dmc.Modal(id=sids.CONFIRM_MODAL, opened=False, title=st("confirm.title", lang), centered=True, children=[
        html.P(id=sids.CONFIRM_TEXT),
        html.Div(className="modal-buttons", children=[
            html.Button(st("act.cancel", lang), id=sids.CONFIRM_CANCEL, n_clicks=0, className="sup-action"),
            html.Button(st("act.confirm", lang), id=sids.CONFIRM_OK, n_clicks=0, className="sup-action primary"),
        ]),
    ])


def supervisors_page(p: PageData, d: RegistryData) -> html.Div:
    """The page: the control room's frame around the registry; it re-renders when the browser sees the registry move."""
    lang = p.lang
    return html.Div(className=f"vigie-page page-supervisors theme-{p.theme}", style=css_variables(p.theme), children=[
        dcc.Store(id=ids.CONFIG, data=page_config(p)),
        dcc.Store(id=ids.PAGE, data=page_scope(p)),
        dcc.Store(id=sids.REV, data=0),
        dcc.Store(id=sids.PENDING, data=None),
        header(lang, p.theme, "supervisors", p.territory_name, p.default_lang),
        banner(lang),
        summary_strip(lang),
        html.Div(className="sup-head", children=[
            html.H1(st("page.title", lang), className="sup-title"),
            html.P(st("page.intro", lang), className="sup-intro"),
            html.P(st(f"policy.{d.approval}", lang), className="sup-policy"),
            html.Div(id=sids.FEEDBACK, className="sup-feedback", role="status"),
        ]),
        html.Main(registry_sections(d, lang), id=sids.BODY, className="sup-body"),
        confirm_modal(lang),
    ])
