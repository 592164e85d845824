"""The command log's rows, a command's detail (commanded vs feedback vs actual) and an asset's commands, as plain text."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urlencode

from dash import dcc, html

from . import commands_ids as cid
from .commands_i18n import ABNORMAL, STATUS_SHAPE, ct, number, step_detail, where
from .i18n import t

LIST_MAX = 200  # ids listed in the detail before "... and N more"
TIMELINE_WORDS = frozenset(STATUS_SHAPE) | {"drift", "drift_over", "not_sent", "timeout", "ended", "cancelled"}  # timeline steps said in words


def clock(epoch: float | None, tz: Any, with_date: bool = False) -> str:
    """Local time of an epoch, in the territory's timezone."""
    if epoch is None:
        return "—"
    return datetime.fromtimestamp(epoch, timezone.utc).astimezone(tz).strftime("%d/%m %H:%M:%S" if with_date else "%H:%M:%S")


def status_badge(doc: dict[str, Any], lang: str) -> html.Span:
    """Shape and word of a command's status (colour only when abnormal), plus the telemetry's verdict."""
    st, verif = doc["status"], doc["actual"]["verification"]
    word = ct(f"status.{st}", lang)
    extra = ct(f"verif.{verif}", lang) if verif in ("pending", "confirmed", "mismatch", "drift") and st in ("applied", "partial") else ""
    cls = f"cmd-badge st-{st}" + (f" ab-{ABNORMAL[st]}" if st in ABNORMAL else "") + (" ab-high" if verif in ("mismatch", "drift") else "")
    return html.Span([html.Span(STATUS_SHAPE.get(st, "?"), className="cmd-shape"), html.Span(word, className="cmd-status-word"),
                      html.Span(f" · {extra}" if extra else "", className="cmd-verif")], className=cls)


def progress(doc: dict[str, Any], lang: str) -> str:
    """`480 / 500 · 20 en échec · 0 sans réponse` once answered, else the count of targets."""
    fb, n = doc["feedback"], doc["assets_count"]
    if not (fb["applied"] or fb["failed"]):
        return ct("confirm.assets", lang, n=number(n, lang, 0))
    parts = [f"{number(fb['applied'], lang, 0)} / {number(n, lang, 0)}"]
    if fb["failed"]:
        parts.append(ct("detail.failed", lang, n=number(fb["failed"], lang, 0)))
    if fb["missing"]:
        parts.append(ct("detail.missing", lang, n=number(fb["missing"], lang, 0)))
    return " · ".join(parts)


def countdown(doc: dict[str, Any], lang: str, tz: Any) -> html.Span | None:
    """An active override's end, counted down in the browser (assets/commands.js)."""
    ov = doc.get("override") or {}
    if ov.get("state") == "active" and ov.get("until"):
        return html.Span(ct("override.active", lang, until=clock(ov["until"], tz)), className="cmd-countdown",
                         **{"data-until": str(ov["until"]), "data-left": ct("override.left", lang)})
    if ov.get("state") in ("ended", "cancelled"):
        return html.Span(ct(f"override.{ov['state']}", lang), className="cmd-override-over")
    return None


def cancellable(doc: dict[str, Any]) -> bool:
    """May this command be handed back to automatic control now?"""
    ov = doc.get("override") or {}
    return doc["status"] in ("applied", "partial") and bool(ov.get("revert")) and ov.get("state") in ("active", "none")


def command_row(doc: dict[str, Any], words: str, lang: str, tz: Any, focused: bool = False) -> html.Div:
    """One command in the log."""
    label = where(doc["label"], lang)
    cells = [
        html.Div([status_badge(doc, lang), html.Span(clock(doc["requested_at"], tz), className="cmd-time")], className="cmd-line cmd-line-head"),
        html.Div([html.Span(words, className="cmd-what"), html.Span(f" — {label}", className="cmd-where", title=label)], className="cmd-line"),
        html.Div([html.Span(progress(doc, lang), className="cmd-progress"), html.Span(f" · {doc['user']}", className="cmd-user")],
                 className="cmd-line"),
    ]
    tail = countdown(doc, lang, tz)
    button = None
    if cancellable(doc):
        text = ct("override.cancel", lang) if (doc.get("override") or {}).get("state") == "active" else ct("revert", lang)
        button = html.Button(text, id=cid.cancel(doc["id"]), n_clicks=0, className="cmd-cancel")
    if tail is not None or button is not None:
        cells.append(html.Div([x for x in (tail, button) if x is not None], className="cmd-line cmd-line-tail"))
    return html.Div(cells, id=cid.row(doc["id"]), n_clicks=0, role="button", tabIndex="0",
                    className="cmd-row" + (" focused" if focused else ""), **{"data-cmd": doc["id"], "data-status": doc["status"]})


def _reading(field: str, value: Any, lang: str) -> str:
    """A commanded reading as the telemetry shows it and the command was given (`illuminanceLevel` 0.5 -> `50 %`)."""
    from .details import format_reading
    from .words import ENUM_FIELDS, PERCENT_FIELDS

    return format_reading(field, value, lang, None) if field in ENUM_FIELDS or field in PERCENT_FIELDS else _value(value, lang)


def _value(value: Any, lang: str) -> str:
    if isinstance(value, float):
        return number(value, lang, 2)
    from .commands_i18n import value_word

    return value_word(value, lang)


def _ids(title: str, ids: list[str], total: int, lang: str, names: dict[str, str] | None = None) -> html.Section | None:
    """Targets by their names, each a link to its page (the first LIST_MAX, then how many more)."""
    if not total:
        return None
    shown = ids[:LIST_MAX]
    more = total - len(shown)
    links: list = []
    for i, aid in enumerate(shown):
        links += [", "] * bool(i) + [dcc.Link((names or {}).get(aid) or aid, href="/asset/" + quote(aid, safe=""), title=aid, className="asset-link")]
    return html.Section(className="cmd-idlist", children=[
        html.H4(f"{title} ({number(total, lang, 0)})"),
        html.Div(links + ([" " + ct("detail.more", lang, n=number(more, lang, 0))] if more > 0 else []), className="cmd-ids"),
    ])


def command_detail(doc: dict[str, Any] | None, words: str, lang: str, tz: Any, names: dict[str, str] | None = None) -> list:
    """A command's whole story: what was commanded, what the supervisor said, what the telemetry shows, when;
    targets named by `names` (asset id -> name)."""
    if doc is None:
        return [html.Div(ct("list.empty", lang), className="cmd-muted")]
    fb, actual = doc["feedback"], doc["actual"]
    expect = actual.get("expect")
    head = [
        html.Div([status_badge(doc, lang), html.Span(doc["id"], className="cmd-id")], className="cmd-detail-head"),
        html.H3(f"{words} — {where(doc['label'], lang)}", className="cmd-detail-what"),
        html.P(f"{ct('detail.by', lang, user=doc['user'])} · {clock(doc['requested_at'], tz, True)} · {doc['supervisor']}", className="cmd-muted"),
    ]
    if doc.get("message"):
        head.append(html.P([html.Strong(ct("detail.message", lang) + " : "), doc["message"]], className="cmd-message"))
    if doc.get("late"):
        head.append(html.P(ct("detail.late", lang), className="cmd-muted"))
    if doc.get("reason"):
        head.append(html.P([html.Strong(ct("detail.reason", lang) + " : "), doc["reason"]]))
    for key, other in (("cancels", doc.get("cancels")), ("cancelled_by", doc.get("cancelled_by"))):
        if other:
            head.append(html.P(ct(f"detail.{key}", lang, id=other), className="cmd-muted"))
    tail = countdown(doc, lang, tz)
    if tail is not None:
        head.append(html.Div(tail, className="cmd-detail-countdown"))
    if cancellable(doc):
        head.append(html.Button(ct("override.cancel", lang), id=cid.cancel(doc["id"]), n_clicks=0, className="cmd-cancel"))
    columns = html.Div(className="cmd-cva", children=[
        html.Section([html.H4(ct("detail.commanded", lang)), html.P(words),
                      html.P(ct("confirm.assets", lang, n=number(doc["assets_count"], lang, 0)))]),
        html.Section([html.H4(ct("detail.feedback", lang)), html.P(ct(f"status.{doc['status']}", lang)),
                      html.P(progress(doc, lang))]),
        html.Section([html.H4(ct("detail.actual", lang)), html.P(ct(f"verif.{actual['verification']}", lang) or "—"),
                      html.P(ct("detail.confirmed", lang, n=number(actual["confirmed"], lang, 0), m=number(actual["checked"], lang, 0))
                             if expect else "—"),
                      html.P(f"{t('value.' + expect['field'], lang)} = {_reading(expect['field'], expect['value'], lang)}", className="cmd-muted")
                      if expect else None]),
    ])
    timeline = html.Section(className="cmd-timeline", children=[
        html.H4(ct("detail.timeline", lang)),
        html.Ol([html.Li([html.Span(clock(h["at"], tz), className="cmd-time"), html.Span(ct(f"status.{h['status']}", lang)
                                                                                          if h["status"] in TIMELINE_WORDS else h["status"]),
                          html.Span(step_detail(h.get("detail") or "", lang, names), className="cmd-muted")]) for h in doc["history"]]),
    ])
    lists = [_ids(ct("detail.failed_list", lang), fb["failed_ids"], fb["failed"], lang, names),
             _ids(ct("detail.missing_list", lang), fb["missing_ids"], fb["missing"], lang, names),
             _ids(ct("detail.unconfirmed", lang), actual["unconfirmed_ids"], len(actual["unconfirmed_ids"]), lang, names),
             _ids(ct("detail.drifted", lang), actual.get("drifted_ids") or [], actual.get("drifted", 0), lang, names)]
    return [*head, columns, *[x for x in lists if x is not None], timeline]


def asset_commands(docs: list[dict[str, Any]], words: list[str], lang: str, tz: Any, asset_id: str, domain: str) -> list:
    """The pending and latest commands of one asset, for its details panel, with a link to command it."""
    rows = [html.Div([status_badge(d, lang), html.Span(clock(d["requested_at"], tz), className="cmd-time"), html.Span(w, className="cmd-what"),
                      countdown(d, lang, tz)], className="cmd-asset-row", **{"data-cmd": d["id"], "data-status": d["status"]})
            for d, w in zip(docs, words)]
    href = "/commands?" + urlencode({"domain": domain, "target": asset_id})
    return [html.H4(ct("asset.commands", lang), className="details-section"),
            *(rows or [html.Div(ct("asset.none", lang), className="details-none")]),
            html.A(ct("asset.act", lang), href=href, className="cmd-act-link")]
