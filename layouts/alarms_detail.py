"""One alarm, the alarms grouped under it, and its history: who, when, why (text only)."""
from __future__ import annotations

from urllib.parse import quote

from dash import dcc, html

from . import alarms_ids as aids
from .alarms_i18n import at
from .details import format_time
from .i18n import t
from .palette import PRIORITY_STYLE

UNACKED = ("active_unack", "rtn_unack")


def _who(who: str, lang: str) -> str:
    return at(f"who.{who}", lang) if who in ("vigie", "supervisor") else who


def _row(label: str, value: str) -> html.Div:
    return html.Div([html.Span(label, className="dt"), html.Span(value, className="dd")], className="details-row")


def history_table(history: list[dict], lang: str, tz) -> html.Table:
    """Newest first: time, what happened, who, why, and the state it led to."""
    rows = [
        html.Tr([
            html.Td(format_time(h.get("at"), tz, lang), className="num"),
            html.Td(at(f"trigger.{h.get('action', '')}", lang)),
            html.Td(_who(str(h.get("who", "")), lang), className="hist-who"),
            html.Td(str(h.get("why", "")), className="hist-why"),
            html.Td(at(f"state.{h['after']}", lang) if h.get("after") else "", className="hist-after"),
        ])
        for h in reversed(history)
    ]
    return html.Table([html.Tbody(rows)], className="alarm-history")


def _words(record: dict, name: str, lang: str) -> str:
    words = record.get(name) or {}
    return str(words.get(lang) or words.get("fr") or words.get("en") or "")


def procedure(record: dict | None, lang: str) -> html.Section | None:
    """The alarm response procedure from the master alarm database: class, consequence, action, time to respond."""
    if not record:
        return None
    rows = [html.P([html.Span(at("procedure.class", lang), className="dt"), at(f"class.{record.get('class', 'operator')}", lang)])]
    for key in ("consequence", "action"):
        text = _words(record, key, lang)
        if text:
            rows.append(html.P([html.Span(at(f"procedure.{key}", lang), className="dt"), text]))
    if record.get("respond_min") is not None:
        rows.append(html.P([html.Span(at("procedure.respond", lang), className="dt"),
                            at("procedure.respond_min", lang, n=f"{record['respond_min']:g}")]))
    if record.get("default"):
        rows.append(html.P(at("procedure.default", lang), className="detail-note"))
    return html.Section([html.H4(at("procedure.title", lang)), *rows], className="alarm-procedure")


def alarm_detail(found: dict | None, lang: str, tz, alarm_id: str | None = None) -> list:
    """The panel's content for `found` (from AlarmActions.detail), or a hint."""
    if found is None:
        return [html.Div(at("detail.hint", lang) if not alarm_id else f"{alarm_id}", className="details-hint")]
    a, history = found.get("alarm"), found.get("history", [])
    if a is None:
        return [html.Div(at("detail.gone", lang), className="details-hint"), html.Div(alarm_id or "", className="detail-id"),
                history_table(history, lang, tz)]
    p = a["priority"]
    state = at(f"state.{a['state']}", lang)
    parts: list = [
        html.Div(className=f"alarm-detail-head prio-{p}" + (" unack" if a["state"] in UNACKED else ""), children=[
            html.Span(PRIORITY_STYLE.get(p, PRIORITY_STYLE["low"])["shape"], className="prio-shape"),
            html.Span(t(f"priority.{p}", lang), className="prio-label"),
            html.Span(state, className="detail-state"),
        ]),
        html.H3(_words(found.get("procedure") or {}, "label", lang) if (found.get("procedure") or {}).get("label")
                and not (found.get("procedure") or {}).get("default") else a.get("message") or a.get("code", ""), className="details-name"),
        html.Div(a.get("message") or "", className="detail-message"),
        _row(at("col.asset", lang), dcc.Link(str(a.get("asset", "")), href="/asset/" + quote(str(a.get("asset", "")), safe=""),
                                             className="asset-link") if a.get("asset") else ""),
        _row(at("detail.raised", lang), format_time(a.get("raised_at"), tz, lang)),
        _row(at("detail.supervisor", lang), str(a.get("supervisor", ""))),
        _row(at("detail.code", lang), str(a.get("code", ""))),
        _row(at("detail.count", lang), str(a.get("raise_count", 1))),
    ]
    if a.get("acked_by"):
        parts.append(html.Div(at("detail.acked", lang, who=a["acked_by"], t=format_time(a.get("acked_at"), tz, lang))
                              + (f" — {a['ack_comment']}" if a.get("ack_comment") else ""), className="detail-note"))
    if a.get("assignee"):
        parts.append(html.Div(at("detail.assignee", lang, who=a["assignee"]), className="detail-note assignee"))
    if a.get("shelved_until"):
        parts.append(html.Div(at("detail.shelved_until", lang, t=format_time(a["shelved_until"], tz, lang), why=a.get("shelve_reason", "")),
                              className="detail-note"))
    if a.get("parent"):
        parts.append(html.Div(at("group.cause", lang, id=a["parent"]), className="detail-note"))
    if a.get("chatter_held"):
        parts.append(html.Div(at("flag.chatter_held_hint", lang), className="detail-note"))
    proc = procedure(found.get("procedure"), lang)
    if proc is not None:
        parts.append(proc)
    parts.append(html.Div(className="detail-actions", children=[
        dcc.Input(id=aids.DETAIL_NOTE, type="text", maxLength=500, placeholder=at("ack.comment", lang), className="detail-note-input",
                  debounce=False),
        html.Button(at("act.ack", lang), id=aids.DETAIL_ACK, n_clicks=0, className="alarm-action primary",
                    disabled=a["state"] not in UNACKED),
        html.Button(at("trigger.comment", lang), id=aids.DETAIL_COMMENT, n_clicks=0, className="alarm-action"),
        html.Button(at("flag.chatter_held", lang), id=aids.DETAIL_RELEASE, n_clicks=0, className="alarm-action",
                    hidden=not a.get("chatter_held")),
    ]))
    children = found.get("children", [])
    if children:
        parts.append(html.H4(at("detail.children", lang) + f" ({len(children)})", className="details-section"))
        parts.append(html.Ul([html.Li(f"{c.get('asset', '')} — {c.get('message', '')}") for c in children[:200]], className="detail-children"))
    parts.append(html.H4(at("detail.history", lang), className="details-section"))
    parts.append(history_table(history, lang, tz))
    return parts
