"""The asset detail page (level 3) from plain data: identity, relations, latest values, 24 h charts, histories."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import quote, urlencode

from dash import dcc, html

from . import asset_ids as aid
from . import ids
from .alarms_i18n import at as alarm_word
from .asset_i18n import at
from .details import CONDITION_CODES, format_reading, format_time
from .palette import CONDITION_STYLE, PRIORITY_STYLE, THEMES, css_variables
from .shell import banner, header, href
from .water_isolation import affected_sensors
from .words import PERCENT_FIELDS, alarm_text, relation_label

CHART_HEIGHT = 180


@dataclass(frozen=True, slots=True)
class AssetPageData:
    """What the asset page needs besides the AssetDetail (language, theme, the live module's config)."""

    lang: str
    default_lang: str
    theme: str
    territory_name: str
    config: dict  # the live module's page config (clock, badges, push)
    tz: object
    command_section: list  # the command panel's list of this asset's commands (layouts/commands_list.py)
    can_command: bool = False  # the user's role allows commands in the asset's domain
    names: dict = field(default_factory=dict)  # relation ids -> names (assets' own, places' from the territory)
    alarm_labels: dict = field(default_factory=dict)  # alarm code -> its type's name (master alarm database)
    water: dict | None = None  # a pipe's isolation answer: the sensors it affects (layouts/water_isolation.py)


def asset_href(asset_id: str, lang: str, theme: str, default_lang: str) -> str:
    """The link that keeps an asset's page (language and theme kept)."""
    return href("/asset/" + quote(asset_id, safe=""), lang, theme, default_lang)


def commands_href(domain: str, asset_id: str, d: AssetPageData) -> str:
    """The command panel opened on this asset."""
    query = {"domain": domain, "target": asset_id}
    if d.lang != d.default_lang:
        query["lang"] = d.lang
    if d.theme != "light":
        query["theme"] = d.theme
    return "/commands?" + urlencode(query)


def _row(label: str, value: object, cls: str = "") -> html.Div:
    return html.Div([html.Span(label, className="dt"), html.Span(value, className="dd " + cls)], className="details-row")


def condition_badge(asset: dict, lang: str) -> html.Span:
    """Shape and word of the asset's condition (no colour when ok)."""
    cond = str(asset.get("condition", "unknown"))
    code = CONDITION_CODES.get(cond, 1)
    return html.Span([html.Span(CONDITION_STYLE[code]["shape"], className=f"vm-shape vm-c{code}"),
                      html.Span(at(f"condition.{cond}", lang))], className=f"details-condition cond-{cond}")


def value_rows(asset: dict | None, lang: str, tz) -> list:
    """The latest values as label/value rows (text only; instants in the territory's time)."""
    values = (asset or {}).get("values") or {}
    return [_row(at(f"value.{k}", lang), format_reading(k, v, lang, tz)) for k, v in values.items()] or [html.Div(at("asset.none", lang))]


def local(epoch: float, tz) -> str:
    """An epoch as the territory's wall-clock time, the way plotly reads dates."""
    return datetime.fromtimestamp(epoch, timezone.utc).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def chart_figure(key: str, xs: list[float], ys: list[float], lang: str, theme: str, window: tuple[float, float] = (0, 0),
                 tz=timezone.utc) -> dict:
    """A plotly line of one reading over the day in the territory's time, neutral grey (colour is for abnormal only)."""
    neutral = THEMES.get(theme, THEMES["light"])
    span = [local(min(window[0], xs[0]), tz), local(max(window[1], xs[-1]), tz)] if xs and window[1] else None
    pct = key in PERCENT_FIELDS  # read as the value rows and the commands say it: 50 %, not 0.5
    ys = [y * 100 for y in ys] if pct else ys
    return {
        "data": [{"type": "scatter", "mode": "lines+markers", "x": [local(x, tz) for x in xs], "y": ys,
                  "name": at(f"value.{key}", lang), "marker": {"size": 5, "color": neutral["ink"]},
                  "line": {"color": neutral["ink"], "width": 2, "shape": "hv"}}],
        "layout": {
            "title": {"text": at(f"value.{key}", lang), "font": {"size": 15, "color": neutral["ink"]}, "x": 0.01},
            "height": CHART_HEIGHT, "margin": {"l": 48, "r": 12, "t": 30, "b": 28}, "showlegend": False,
            "xaxis": {"type": "date", "gridcolor": neutral["line"], "color": neutral["muted"], "tickformat": "%H:%M\n%d/%m",
                      "tickfont": {"size": 13}, **({"range": span} if span else {})},
            "yaxis": {"gridcolor": neutral["line"], "color": neutral["muted"], "zeroline": False, "tickfont": {"size": 13},
                      **({"ticksuffix": " %"} if pct else {})},
            "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
        },
    }


def charts(detail, lang: str, theme: str, tz=timezone.utc) -> list:
    """One chart per numeric reading recorded over the day."""
    if detail.history_missing:
        return [html.Div(at("asset.no_journal", lang), className="details-none")]
    if not detail.series:
        return [html.Div(at("asset.no_history", lang), className="details-none")]
    return [dcc.Graph(id=aid.chart(k), figure=chart_figure(k, xs, ys, lang, theme, detail.window, tz), className="asset-chart",
                      config={"displayModeBar": False, "responsive": True})
            for k, (xs, ys) in sorted(detail.series.items())]


def journal_words(entry: dict, lang: str) -> str:
    """What happened to an alarm, in words: `Acquittée : Non acquittée → Acquittée`."""
    action = str(entry.get("action") or "")
    word = at(f"journal.{action}", lang)
    states = [alarm_word(f"state.{s}", lang) for s in (entry.get("before"), entry.get("after")) if s]
    text = (word if not word.startswith("journal.") else action) + (" : " if lang == "fr" else ": ") * bool(states) + " → ".join(states)
    return text + (f" ({entry['why']})" if entry.get("why") else "")


def alarm_rows(alarms: list[dict], lang: str, tz, labels: dict[str, str] | None = None) -> list:
    """Held alarms (their type's name from `labels`, then the supervisor's text), then journal entries (when, priority,
    what happened, who), newest first."""
    if not alarms:
        return [html.Div(at("asset.none", lang), className="details-none")]
    rows = []
    for a in alarms:
        p = a.get("priority") or "low"
        held = "at" not in a
        when = a.get("raised_at") if held else a.get("at")
        what = alarm_text(a, labels) if held else journal_words(a, lang)
        rows.append(html.Div(className=f"alarm-row asset-alarm prio-{p}" + (" held" if held else ""), children=[
            html.Span(PRIORITY_STYLE.get(p, PRIORITY_STYLE["low"])["shape"], className="prio-shape"),
            html.Span(at(f"priority.{p}", lang), className="prio-label"),
            html.Span(format_time(when, tz, lang), className="alarm-age"),
            html.Span(what, className="alarm-msg"),
            html.Span(at("asset.held", lang) if held else (a.get("who") or ""), className="alarm-who"),
        ]))
    return rows


def relation_rows(detail, d: AssetPageData) -> list:
    """The relation chain, each a link to its own page when it is an asset."""
    if not detail.relations:
        return [html.Div(at("asset.none", d.lang), className="details-none")]
    return [_row(relation_label(kind, d.lang),
                 dcc.Link(d.names.get(ref) or ref, href=asset_href(ref, d.lang, d.theme, d.default_lang), className="asset-link", title=ref)
                 if linked else d.names.get(ref) or ref)
            for kind, ref, linked in detail.relations]


def asset_page(detail, d: AssetPageData) -> html.Div:
    """The whole page for one asset (unknown asset: says so)."""
    a = detail.asset
    domain = (a or {}).get("domain", "")
    scope = {"key": "asset", "domains": [domain] if domain else [], "layers": [], "kpis": [], "alarm_rows": 0, "trends": []}
    head = [dcc.Store(id=ids.CONFIG, data=d.config), dcc.Store(id=ids.PAGE, data=scope),
            dcc.Store(id=aid.ASSET, data={"id": detail.asset_id, "domain": domain}), dcc.Store(id=aid.BUMP, data=0),
            header(d.lang, d.theme, "asset", d.territory_name, d.default_lang), banner(d.lang)]
    if a is None:
        body = [html.H2(at("details.unknown", d.lang, id=detail.asset_id), className="asset-name")]
    else:
        links = [dcc.Link(at("asset.map", d.lang), href=href(f"/{domain}", d.lang, d.theme, d.default_lang), className="tool-link"),
                 *([dcc.Link(at("asset.command", d.lang), href=commands_href(domain, detail.asset_id, d), className="tool-link",
                             id="asset-command-link")] if d.can_command else [])]
        identity = html.Section(className="asset-card asset-identity", children=[
            html.H2(a.get("name") or a["id"], className="asset-name"),
            html.Div(condition_badge(a, d.lang), id=aid.CONDITION),
            _row(at("details.type", d.lang), at(f"type.{a.get('type')}", d.lang)),
            _row(at("details.id", d.lang), a["id"]),
            _row(at("details.supervisor", d.lang), str(a.get("supervisor", ""))),
            *([_row(at("details.origin", d.lang), at("details.synthetic", d.lang))] if (a.get("props") or {}).get("synthetic") else []),
            html.Div([html.Span(at("details.updated", d.lang), className="dt"),
                      html.Span(format_time(a.get("updated"), d.tz, d.lang), id=aid.UPDATED, className="dd")], className="details-row"),
            html.Div(links, className="asset-links"),
            html.H3(at("asset.relations", d.lang), className="details-section"),
            html.Div(relation_rows(detail, d), id=aid.RELATIONS),
            html.H3(at("details.values", d.lang), className="details-section"),
            html.Div(value_rows(a, d.lang, d.tz), id=aid.VALUES),
            affected_sensors(d.water, d.lang, lambda i: asset_href(i, d.lang, d.theme, d.default_lang),
                             commands_href(domain, detail.asset_id, d) if d.can_command else None),
        ])
        body = [
            identity,
            html.Section(className="asset-card asset-history", children=[
                html.H3(at("asset.history", d.lang), className="details-section"),
                html.Div(charts(detail, d.lang, d.theme, d.tz), id=aid.CHARTS, className="asset-charts"),
            ]),
            html.Section(className="asset-card asset-logs", children=[
                html.H3(at("asset.alarm_history", d.lang), className="details-section"),
                html.Div(alarm_rows(detail.alarms, d.lang, d.tz, d.alarm_labels), id=aid.ALARMS),
                html.H3(at("asset.command_history", d.lang), className="details-section"),
                html.Div(d.command_section or [html.Div(at("asset.none", d.lang), className="details-none")], id=aid.COMMANDS),
            ]),
        ]
    return html.Div(id=aid.ROOT, className=f"vigie-page page-asset theme-{d.theme}", style=css_variables(d.theme),
                    children=[*head, html.Main(body, className="asset-main")])
