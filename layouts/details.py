"""The asset details panel and the alarm list's frame: text only (feeds never inject markup)."""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import quote

from dash import dcc, html

from . import ids
from .i18n import t
from .palette import CONDITION_STYLE, PRIORITY_STYLE
from .words import (
    ENUM_FIELDS,
    PERCENT_FIELDS,
    alarm_text,
    enum_label,
    percent,
    relation_label,
)

CONDITION_CODES = {s["name"]: code for code, s in CONDITION_STYLE.items()}
TIME_VALUES = frozenset({"overrideUntil"})  # readings that are instants (ISO 8601 on the wire)


def format_value(value: object, lang: str) -> str:
    """A reading as the operator reads it (booleans in words, decimals in the language's style)."""
    if isinstance(value, bool):
        return t(f"bool.{str(value).lower()}", lang)
    if isinstance(value, float):
        text = f"{value:.3f}".rstrip("0").rstrip(".")
        return text.replace(".", ",") if lang == "fr" else text
    return str(value)


def format_time(epoch: float | None, tz, lang: str) -> str:
    """Local wall-clock time of an epoch (the territory's timezone)."""
    if epoch is None:
        return t("age.never", lang)
    return datetime.fromtimestamp(epoch, timezone.utc).astimezone(tz).strftime("%d/%m %H:%M:%S" if lang == "fr" else "%Y-%m-%d %H:%M:%S")


def format_reading(key: str, value: object, lang: str, tz) -> str:
    """A reading as the operator reads it: enum values in words, fractions as percentages, an instant (an override's
    end) in the territory's local time."""
    if key in ENUM_FIELDS and isinstance(value, str):
        return enum_label(key, value, lang)
    if key in PERCENT_FIELDS and isinstance(value, (int, float)) and not isinstance(value, bool):
        return percent(float(value), lang)
    if key in TIME_VALUES and isinstance(value, str):
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:
            return value
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=timezone.utc)
        return format_time(instant.timestamp(), tz, lang)
    return format_value(value, lang)


def _row(label: str, value: str, cls: str = "") -> html.Div:
    return html.Div([html.Span(label, className="dt"), html.Span(value, className="dd " + cls)], className="details-row")


def ref_value(ref: str, names: dict[str, str] | None, linked: bool) -> object:
    """A relation's target by its name; a link to its page when it is an asset."""
    name = (names or {}).get(ref) or ref
    return dcc.Link(name, href="/asset/" + quote(ref, safe=""), className="asset-link", title=ref) if linked else name


def details_panel(asset: dict | None, alarms: list[dict], lang: str, tz, asset_id: str | None = None,
                  names: dict[str, str] | None = None, assets: frozenset[str] = frozenset(),
                  labels: dict[str, str] | None = None) -> list:
    """Identity, latest values and active alarms of one asset, as plain text; relations by their names (`names`),
    those in `assets` linked to their page; alarms by their type's name (`labels`) then the supervisor's text."""
    if asset is None:
        hint = t("details.unknown", lang, id=asset_id) if asset_id else t("details.hint", lang)
        return [html.Div(hint, className="details-hint")]
    cond = str(asset.get("condition", "unknown"))
    code = CONDITION_CODES.get(cond, 1)
    shape = CONDITION_STYLE[code]["shape"]
    rows = [
        html.H3(asset.get("name") or asset["id"], className="details-name"),
        dcc.Link(t("details.open", lang) + " →", href="/asset/" + quote(asset["id"], safe=""), className="details-open", id="details-open"),
        html.Div([html.Span(shape, className=f"vm-shape vm-c{code}"), html.Span(t(f"condition.{cond}", lang))],
                 className=f"details-condition cond-{cond}"),
        _row(t("details.type", lang), t(f"type.{asset.get('type')}", lang)),
        _row(t("details.id", lang), asset["id"]),
        _row(t("details.supervisor", lang), str(asset.get("supervisor", ""))),
        _row(t("details.updated", lang), format_time(asset.get("updated"), tz, lang)),
    ]
    if (asset.get("props") or {}).get("synthetic"):
        rows.append(_row(t("details.origin", lang), t("details.synthetic", lang), "details-synthetic"))
    refs = asset.get("refs") or {}
    if refs:
        rows.append(html.H4(t("details.refs", lang), className="details-section"))
        rows += [_row(relation_label(k, lang), ref_value(str(v), names, str(v) in assets)) for k, v in sorted(refs.items())]
    values = asset.get("values") or {}
    rows.append(html.H4(t("details.values", lang), className="details-section"))
    rows += [_row(t(f"value.{k}", lang), format_reading(k, v, lang, tz)) for k, v in values.items()] or [html.Div(t("details.none", lang))]
    rows.append(html.H4(t("details.alarms", lang), className="details-section"))
    if not alarms:
        rows.append(html.Div(t("details.none", lang), className="details-none"))
    for a in alarms:
        p = a.get("priority", "low")
        rows.append(html.Div(className=f"alarm-row prio-{p}" + ("" if a.get("acknowledged") else " unack"), children=[
            html.Span(PRIORITY_STYLE.get(p, PRIORITY_STYLE["low"])["shape"], className="prio-shape"),
            html.Span(t(f"priority.{p}", lang), className="prio-label"),
            html.Span(alarm_text(a, labels), className="alarm-msg"),
            html.Span(format_time(a.get("raised_at"), tz, lang), className="alarm-age"),
            *([html.Button("✓ " + t("alarms.ack", lang), className="alarm-ack-btn", **{"data-alarm-ack": a["id"]})]
              if not a.get("acknowledged") and a.get("id") else []),
        ]))
    return rows


def details_frame(lang: str) -> html.Div:
    """The (initially closed) panel the map's clicks open."""
    return html.Div(id="details-frame", className="details-frame", children=[
        html.Div([html.Span(t("details.title", lang), className="panel-title"),
                  html.Button("×", id="details-close", className="details-close", n_clicks=0, title="×")],
                 className="details-head"),
        html.Div(details_panel(None, [], lang, timezone.utc), id=ids.DETAILS, className="details-body"),
    ])


def alarm_panel(lang: str) -> html.Section:
    """The compact live list of the newest alarms (filled by the browser)."""
    return html.Section(className="alarm-panel", children=[
        html.H2(t("alarms.title", lang), className="panel-title"),
        html.Div(id=ids.ALARM_LIST, className="alarm-list", **{"aria-live": "polite"}),  # rows written by the browser
    ])
