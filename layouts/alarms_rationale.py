"""`/alarms/rationalisation`: the master alarm database for engineers (records, codes to rationalise, the edit form).

Pure: built from the listing `AlarmActions.rationale()` gives (plain dicts) and whether the viewer may edit.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import dash_mantine_components as dmc
from dash import dcc, html

from . import alarms_ids as aids
from . import ids
from .alarms_i18n import at
from .i18n import t
from .page import PageData, page_config, page_scope
from .palette import css_variables
from .shell import banner, header, summary_strip

CLASSES = ("operator", "maintenance", "event")
PRIORITIES = ("urgent", "high", "low", "diagnostic", "supervisor")
DOMAINS = ("lighting", "water", "traffic", "vigie")


@dataclass(frozen=True, slots=True)
class RationaleData:
    """The listing and who may edit what."""

    records: list[dict] = field(default_factory=list)
    to_rationalise: list[dict] = field(default_factory=list)
    default: dict = field(default_factory=dict)
    editable: dict[str, bool] = field(default_factory=dict)  # domain -> may the viewer edit its types
    error: str = ""


def _words(r: dict, name: str, lang: str) -> str:
    w = r.get(name) or {}
    return str(w.get(lang) or w.get("fr") or "")


def _priority(p: str, lang: str) -> str:
    return at("rat.priority.supervisor", lang) if p == "supervisor" else t(f"priority.{p}", lang)


def _domain(d: str, lang: str) -> str:
    return t(f"nav.{d}", lang) if d in ("lighting", "water", "traffic") else "Vigie" if d in ("", "vigie") else d


def records_table(data: RationaleData, lang: str) -> html.Table:
    """Every alarm type: code, name, domain, class, priority, delays, chattering rule, time to respond."""
    head = html.Tr([html.Th(at(k, lang), title=at(tip, lang)) for k, tip in (
        ("rat.code", "rat.code"), ("rat.label", "rat.label_fr"), ("rat.domain", "rat.domain"), ("rat.class", "rat.class"),
        ("rat.priority", "rat.priority"), ("rat.on_short", "rat.on_delay"), ("rat.off_short", "rat.off_delay"),
        ("rat.chatter_short", "rat.chatter_toggles"), ("rat.respond_short", "rat.respond"))])
    rows = []
    for r in data.records:
        chatter = r.get("chatter") or {}
        rows.append(html.Tr(className=f"rat-row class-{r['class']}", children=[
            html.Td(r["code"], className="rat-code"), html.Td(_words(r, "label", lang)), html.Td(_domain(r.get("domain", ""), lang)),
            html.Td(at(f"class.{r['class']}", lang)), html.Td(_priority(r["priority"], lang)),
            html.Td(f"{r['on_delay_s']:g} s", className="num"), html.Td(f"{r['off_delay_s']:g} s", className="num"),
            html.Td(f"{chatter['toggles']} / {chatter['window_s']:g} s" if chatter else "—", className="num"),
            html.Td(f"{r['respond_min']:g} min" if r.get("respond_min") is not None else "—", className="num"),
        ]))
    return html.Table([html.Thead(head), html.Tbody(rows)], className="rat-table", id=aids.RAT_GRID)


def unknown_table(data: RationaleData, lang: str) -> html.Div:
    """Codes heard without a record, most frequent first."""
    if not data.to_rationalise:
        return html.Div(at("rat.none", lang), className="details-hint", id=aids.RAT_UNKNOWN)
    head = html.Tr([html.Th(at(k, lang)) for k in ("rat.code", "rat.domain", "rat.supervisor", "rat.count", "rat.example")])
    rows = [html.Tr([html.Td(u["code"], className="rat-code"), html.Td(_domain(u.get("domain", ""), lang)), html.Td(u["supervisor"]),
                     html.Td(str(u["count"]), className="num"), html.Td(u.get("example", ""), className="rat-example")])
            for u in data.to_rationalise]
    return html.Div(html.Table([html.Thead(head), html.Tbody(rows)], className="rat-table"), id=aids.RAT_UNKNOWN)


def code_options(data: RationaleData, lang: str) -> list[dict]:
    """The codes to pick from: the records, then the codes to rationalise."""
    out = [{"value": r["code"], "label": f"{r['code']} — {_words(r, 'label', lang)}"} for r in data.records]
    out += [{"value": u["code"], "label": f"{u['code']} — {at('rat.to_rationalise', lang).split(' (')[0]}"}
            for u in data.to_rationalise if u["code"] not in {r["code"] for r in data.records}]
    return out


def form_values(record: dict, lang: str) -> dict[str, object]:
    """The form's field values for one record (the default record for a code to rationalise)."""
    chatter = record.get("chatter") or {}
    words = {f"{k}_{lg}": (record.get(k) or {}).get(lg, "") for k in ("label", "consequence", "action") for lg in ("fr", "en")}
    return {"domain": record.get("domain") or "", "class": record.get("class", "operator"), "priority": record.get("priority", "supervisor"),
            "on_delay_s": record.get("on_delay_s", 0.0), "off_delay_s": record.get("off_delay_s", 0.0),
            "deadband": record.get("deadband"), "deadband_unit": record.get("deadband_unit", ""),
            "chatter_toggles": chatter.get("toggles"), "chatter_window_s": chatter.get("window_s"),
            "respond_min": record.get("respond_min"), **words}


def record_from_form(code: str, values: dict[str, object]) -> dict:
    """The record an engineer typed (validated by the core's parser, which says what is wrong)."""
    def num(name: str) -> object:
        v = values.get(name)
        return None if v in (None, "") else v

    chatter = None
    if num("chatter_toggles") is not None or num("chatter_window_s") is not None:
        chatter = {"toggles": num("chatter_toggles"), "window_s": num("chatter_window_s")}
    words = {k: {lg: str(values.get(f"{k}_{lg}") or "") for lg in ("fr", "en") if str(values.get(f"{k}_{lg}") or "").strip()}
             for k in ("label", "consequence", "action")}
    domain = str(values.get("domain") or "")
    return {"code": code, "domain": "" if domain == "vigie" else domain, "class": values.get("class"),
            "priority": values.get("priority"), "on_delay_s": num("on_delay_s") or 0, "off_delay_s": num("off_delay_s") or 0,
            "deadband": num("deadband"), "deadband_unit": str(values.get("deadband_unit") or ""), "chatter": chatter,
            "respond_min": num("respond_min"), **words,
            "source": "vigie" if domain == "vigie" else "supervisor"}


def edit_form(data: RationaleData, lang: str) -> html.Section:
    """Pick a code, change its record, save (or go back to the shipped record)."""
    def field_(name: str, comp) -> html.Div:
        return html.Div(comp, className=f"rat-field rat-field-{name}")

    def number(name: str, key: str, **kw) -> html.Div:
        return field_(name, dmc.NumberInput(id=aids.rat_field(name), label=at(key, lang), size="xs", min=0, hideControls=True, **kw))

    def text(name: str, key: str, area: bool = False) -> html.Div:
        comp = dmc.Textarea if area else dmc.TextInput
        extra = {"autosize": True, "minRows": 2} if area else {}
        return field_(name, comp(id=aids.rat_field(name), label=at(key, lang), size="xs", **extra))

    return html.Section(className="rat-form", id=aids.RAT_FORM, children=[
        html.H2(at("rat.edit", lang), className="panel-title"),
        dmc.Select(id=aids.RAT_CODE, data=code_options(data, lang), searchable=True, size="sm", placeholder=at("rat.pick", lang),
                   **{"aria-label": at("rat.code", lang)}),
        html.Div(className="rat-grid-fields", children=[
            field_("domain", dmc.Select(id=aids.rat_field("domain"), label=at("rat.domain", lang), size="xs", allowDeselect=False,
                                        data=[{"value": d, "label": _domain(d, lang)} for d in DOMAINS])),
            field_("class", dmc.Select(id=aids.rat_field("class"), label=at("rat.class", lang), size="xs", allowDeselect=False,
                                       data=[{"value": c, "label": at(f"class.{c}", lang)} for c in CLASSES])),
            field_("priority", dmc.Select(id=aids.rat_field("priority"), label=at("rat.priority", lang), size="xs", allowDeselect=False,
                                          data=[{"value": p, "label": _priority(p, lang)} for p in PRIORITIES])),
            number("respond_min", "rat.respond"),
            number("on_delay_s", "rat.on_delay"), number("off_delay_s", "rat.off_delay"),
            number("chatter_toggles", "rat.chatter_toggles", allowDecimal=False), number("chatter_window_s", "rat.chatter_window"),
            number("deadband", "rat.deadband"), text("deadband_unit", "rat.deadband_unit"),
        ]),
        html.Div(className="rat-grid-words", children=[
            text("label_fr", "rat.label_fr"), text("label_en", "rat.label_en"),
            text("consequence_fr", "rat.consequence_fr", True), text("consequence_en", "rat.consequence_en", True),
            text("action_fr", "rat.action_fr", True), text("action_en", "rat.action_en", True),
        ]),
        html.Div(className="modal-buttons", children=[
            html.Div(id=aids.RAT_FEEDBACK, className="alarm-feedback", role="status", **{"aria-live": "polite"}),
            html.Button(at("rat.revert", lang), id=aids.RAT_REVERT, n_clicks=0, className="alarm-action quiet", disabled=True),
            html.Button(at("rat.save", lang), id=aids.RAT_SAVE, n_clicks=0, className="alarm-action primary", disabled=True),
        ]),
    ])


def lists(data: RationaleData, lang: str) -> list:
    """The two lists (re-rendered after a save)."""
    if data.error:
        return [html.Div(data.error, className="details-hint")]
    return [
        html.H2(at("rat.to_rationalise", lang), className="panel-title"), unknown_table(data, lang),
        html.H2(at("rat.records", lang) + f" ({len(data.records)})", className="panel-title"), records_table(data, lang),
    ]


def rationale_page(d: PageData, data: RationaleData) -> html.Div:
    """The engineers' page."""
    lang = d.lang
    return html.Div(className=f"vigie-page page-rationale theme-{d.theme}", style=css_variables(d.theme), children=[
        dcc.Store(id=ids.CONFIG, data=page_config(d)),
        dcc.Store(id=ids.PAGE, data=page_scope(d)),
        dcc.Store(id=aids.RAT_REV, data=0),
        header(lang, d.theme, "alarms", d.territory_name, d.default_lang),
        banner(lang),
        summary_strip(lang),
        html.Main(className="rat-main", children=[
            html.H1(at("rat.title", lang), className="rat-title"),
            html.Div(className="rat-columns", children=[
                html.Section(lists(data, lang), className="rat-lists", id="rat-lists"),
                edit_form(data, lang),
            ]),
        ]),
    ])
