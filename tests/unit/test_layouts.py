"""Layouts are pure: plain data in, components out. Labels from the catalog, text never markup, one palette."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from dash import dcc, html

from layouts import ids
from layouts.details import details_panel, format_value
from layouts.i18n import LANGUAGES, catalog, language, t
from layouts.kpis import kpi_panel, sparkline
from layouts.page import PageData, control_room, page_config, page_scope
from layouts.palette import CONDITION_STYLE, PRIORITY_STYLE, THEMES, css_variables
from layouts.shell import href, summary_strip

HOSTILE = "<img src=x onerror=alert(1)>"
PARIS = ZoneInfo("Europe/Paris")
KPI_KEYS = {
    "lighting": ("lamps_in_service_pct", "lamps_faulty", "lamps_on", "power_kw", "energy_today_kwh", "dimming_savings_pct"),
    "water": ("pressure_compliance_pct", "reservoir_autonomy_h", "quality_compliance_pct", "pumps_running", "suspected_leaks"),
    "traffic": ("mean_speed_kmh", "congestion_index_pct", "incidents", "segments_closed"),
}


def walk(component):
    """Every component and string in a tree."""
    yield component
    children = getattr(component, "children", None)
    if isinstance(component, (list, tuple)):
        children = component
    if children is None or isinstance(children, (str, int, float)):
        if isinstance(children, (str, int, float)):
            yield children
        return
    for child in children if isinstance(children, (list, tuple)) else [children]:
        yield from walk(child)


def texts(component) -> list[str]:
    return [c for c in walk(component) if isinstance(c, str)]


def find(component, cid):
    return next((c for c in walk(component) if getattr(c, "id", None) == cid), None)


def page_data(**over) -> PageData:
    kpis = {d: [{"key": k, "domain": d, "value": 1.0, "unit": "%", "abnormal": False} for k in keys] for d, keys in KPI_KEYS.items()}
    base = dict(
        key="overview", domains=("lighting", "water", "traffic"), lang="fr", default_lang="fr", theme="light",
        territory_name="Montpellier", center=(43.61, 3.87), zoom=13, bounds=((43.5, 3.7), (43.7, 4.0)), attribution="x",
        kpis=kpis, history={d: {} for d in KPI_KEYS}, geo_urls={d: f"/vigie/geo/{d}" for d in KPI_KEYS},
        base_url="/vigie/base", live_url="/vigie/live",
    )
    base.update(over)
    return PageData(**base)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("domain, key", [(d, k) for d, keys in KPI_KEYS.items() for k in keys])
def test_every_kpi_of_the_engine_has_a_label_in_every_language(lang, domain, key):
    assert t(f"kpi.{key}", lang) != f"kpi.{key}"


def test_english_covers_every_french_label():
    fr, en = catalog("fr"), catalog("en")
    assert fr.keys() == en.keys()
    untranslated = [k for k in fr if fr[k] == en[k] and any(ch in fr[k] for ch in "éèàùçô")]
    assert untranslated == []


@pytest.mark.parametrize("asked, default, expected", [("en", "fr", "en"), ("de", "fr", "fr"), (None, "en", "en"), (None, "xx", "fr")])
def test_an_unknown_language_falls_back_to_the_default(asked, default, expected):
    assert language(asked, default) == expected


def test_priorities_differ_by_shape_and_colour_and_conditions_have_shape_but_no_colour():
    assert len({s["shape"] for s in PRIORITY_STYLE.values()}) == 4
    assert len({s["color"] for s in PRIORITY_STYLE.values()}) == 4
    # colour on the map is an alarm's priority: a condition without an alarm is a neutral shape of its own
    assert all(s["color"] == "" for s in CONDITION_STYLE.values())
    conditions = {s["shape"] for code, s in CONDITION_STYLE.items() if code}
    assert len(conditions) == 4 and not conditions & {s["shape"] for s in PRIORITY_STYLE.values()}


@pytest.mark.parametrize("theme", THEMES)
def test_themes_are_neutral_greys(theme):
    for value in THEMES[theme].values():
        r, g, b = (int(value[i : i + 2], 16) for i in (1, 3, 5))
        assert max(r, g, b) - min(r, g, b) <= 0x1c, value  # saturation stays low: colour means abnormal
    assert css_variables(theme)["--v-urgent"] == PRIORITY_STYLE["urgent"]["color"]


def test_the_page_holds_map_layers_summary_alarms_and_a_tile_per_kpi():
    page = control_room(page_data())
    for cid in (ids.MAP, *ids.LAYER.values(), ids.ALARM_LIST, ids.SUPERVISORS, ids.BANNER, ids.DETAILS,
                ids.summary_count("urgent"), ids.summary_count("unack"), ids.summary_count("stale")):
        assert find(page, cid) is not None, cid
    for domain, keys in KPI_KEYS.items():
        for key in keys:
            assert find(page, ids.kpi_value(domain, key)) is not None
            assert find(page, ids.kpi_trend_slot(domain, key)) is not None
    trends = page_scope(page_data())["trends"]
    assert len(trends) == sum(len(k) for k in KPI_KEYS.values())
    assert trends[0]["graph"]["type"] == "Graph" and trends[0]["graph"]["props"]["config"]["staticPlot"] is True


def test_on_a_page_with_lamps_the_other_layers_load_after_them():
    page = control_room(page_data())
    water = find(page, ids.LAYER["water"])
    assert getattr(water, "url", None) is None and water.hideout["deferred_url"] == "/vigie/geo/water?rev=0"


def test_a_domain_page_shows_only_its_domain_but_keeps_every_layer_id():
    page = control_room(page_data(key="water", domains=("water",)))
    assert find(page, ids.kpi_value("water", "suspected_leaks")) is not None
    assert find(page, ids.kpi_value("lighting", "lamps_faulty")) is None
    assert getattr(find(page, ids.LAYER["traffic"]), "url", None) is None
    assert find(page, ids.LAYER["water"]).url == "/vigie/geo/water?rev=0"
    assert page_scope(page_data(key="water", domains=("water",)))["layers"] == ["water"]


def test_the_lamp_layer_is_clustered_and_styled_by_functions_not_by_children():
    lamps = find(control_room(page_data()), ids.LAYER["lighting"])
    assert lamps.cluster is True and not getattr(lamps, "data", None)  # the browser hands it the data once
    assert lamps.clusterToLayer == {"variable": "vigie.map.lampCluster"}
    assert lamps.hideout["domain"] == "lighting"


@pytest.mark.parametrize("lang, label", [("fr", "Lampes en défaut"), ("en", "Faulty lamps")])
def test_labels_follow_the_page_language(lang, label):
    page = control_room(page_data(lang=lang))
    assert label in texts(page)
    assert page_config(page_data(lang=lang))["catalog"]["kpi.lamps_faulty"] == label


def test_the_summary_strip_backs_each_colour_with_a_shape_and_a_word():
    strip = summary_strip("fr")
    for p, style in PRIORITY_STYLE.items():
        item = find(strip, f"summary-item-{p}")
        assert style["shape"] in texts(item) and t(f"priority.{p}", "fr") in texts(item)


def test_feed_text_in_the_details_is_plain_text():
    asset = {"id": "lamp-1", "name": HOSTILE, "type": "Streetlight", "supervisor": "lum", "condition": "fault",
             "refs": {"street": HOSTILE}, "values": {"status": "defectiveLamp", "powerConsumption": 12.5}, "updated": 1.7e9}
    alarms = [{"priority": "urgent", "message": HOSTILE, "code": "lamp_off", "acknowledged": False, "raised_at": 1.7e9}]
    panel = html.Div(details_panel(asset, alarms, "fr", PARIS))
    assert texts(panel).count(HOSTILE) == 3  # shown literally, as strings React escapes
    assert not any(isinstance(c, dcc.Markdown) or "dangerously_allow_html" in getattr(c, "__dict__", {}) for c in walk(panel))


def test_details_of_an_unknown_asset_say_so():
    assert t("details.unknown", "fr", id="lamp-9") in texts(html.Div(details_panel(None, [], "fr", PARIS, "lamp-9")))


@pytest.mark.parametrize("value, lang, shown", [(True, "fr", "oui"), (False, "en", "no"), (12.5, "fr", "12,5"), (12.5, "en", "12.5"),
                                                (3.0, "fr", "3"), ("on", "fr", "on"), (7, "en", "7")])
def test_values_read_as_the_operator_reads_them(value, lang, shown):
    assert format_value(value, lang) == shown


@pytest.mark.parametrize("path, lang, theme, expected", [("/water", "fr", "light", "/water"), ("/", "en", "light", "/?lang=en"),
                                                           ("/traffic", "fr", "dark", "/traffic?theme=dark")])
def test_links_keep_the_chosen_language_and_theme(path, lang, theme, expected):
    assert href(path, lang, theme, "fr") == expected


def test_a_trend_skips_missing_values_and_uses_milliseconds():
    fig = sparkline([[10.0, 1.0], [20.0, None], [30.0, 3.0]], "dark")
    assert fig["data"][0]["x"] == [10000.0, 30000.0] and fig["data"][0]["y"] == [1.0, 3.0]


def test_an_abnormal_kpi_says_so_in_words():
    panel = kpi_panel("water", [{"key": "suspected_leaks", "value": 2, "unit": "", "abnormal": True}], {}, "fr", "light")
    tile = find(panel, ids.kpi_tile("water", "suspected_leaks"))
    assert "abnormal" in tile.className and t("kpi.abnormal", "fr") in texts(tile)
