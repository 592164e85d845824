"""The alarm pages' layouts are pure and complete: every label in both languages, feed text as text, one palette."""
from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from layouts import alarms_ids as aids
from layouts.alarm_kpis import alarm_kpi_page, duration
from layouts.alarms import ConsoleData, alarm_console, feedback
from layouts.alarms_detail import alarm_detail
from layouts.alarms_grid import column_defs
from layouts.alarms_i18n import _EN, _FR, alarm_catalog, at
from layouts.i18n import LANGUAGES
from layouts.palette import PRIORITY_STYLE
from services.alarms.sound import CHIMES, chime
from services.core.alarm_kpis import AlarmStats
from services.core.alarm_record import AlarmPolicy, Outcome
from services.core.alarm_states import AlarmState, Trigger

from layouts.page import PageData

PARIS = ZoneInfo("Europe/Paris")
ROOT = Path(__file__).resolve().parents[2]
HOSTILE = "<img src=x onerror=alert(1)>"


def walk(component):
    """Every component and string in a tree."""
    yield component
    children = component if isinstance(component, (list, tuple)) else getattr(component, "children", None)
    if isinstance(children, (str, int, float)):
        yield children
    elif children is not None:
        for child in children if isinstance(children, (list, tuple)) else [children]:
            yield from walk(child)


def texts(component) -> list[str]:
    return [c for c in walk(component) if isinstance(c, str)]


def find(component, cid):
    return next((c for c in walk(component) if getattr(c, "id", None) == cid), None)


def page_data(**over) -> PageData:
    base = dict(key="alarms", domains=("lighting", "water", "traffic"), lang="fr", default_lang="fr", theme="light",
                territory_name="Montpellier", center=(43.61, 3.87), zoom=13, bounds=((43.5, 3.7), (43.7, 4.0)), attribution="x",
                kpis={}, history={}, geo_urls={d: f"/vigie/geo/{d}" for d in ("lighting", "water", "traffic")},
                base_url="/vigie/base", live_url="/vigie/live")
    base.update(over)
    return PageData(**base)


def test_every_label_exists_in_both_languages_and_every_state_and_trigger_has_one():
    assert set(_EN) <= set(_FR)
    for lang in LANGUAGES:
        cat = alarm_catalog(lang)
        assert all(f"state.{s}" in cat for s in AlarmState)
        assert all(f"trigger.{t}" in cat for t in (*Trigger, "assign", "comment"))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_console_holds_grid_filters_actions_map_history_and_dialogs(lang):
    page = alarm_console(page_data(key="alarms", lang=lang), ConsoleData(areas={"district-1": "Centre"}, max_shelf_s=7200))
    for cid in (aids.GRID, aids.F_DOMAIN, aids.F_PRIORITY, aids.F_VIEW, aids.F_AREA, aids.F_TEXT, aids.ACK, aids.SHELVE,
                aids.UNSHELVE, aids.ASSIGN, aids.RELEASE, aids.COMMENT, aids.SILENCE, aids.DETAIL, aids.SHELVE_MODAL,
                aids.COMMENT_MODAL, aids.FOCUS, "territory-map", "asset-details", *(aids.sink(n) for n in aids.SINKS)):
        assert find(page, cid) is not None, cid
    durations = [o["value"] for o in find(page, aids.SHELVE_DURATION).data]
    assert durations == ["15", "30", "60", "120", "one_shot"]  # never longer than the engineer's maximum
    config = find(page, aids.CONFIG).data
    assert config["priorities"]["urgent"]["shape"] == PRIORITY_STYLE["urgent"]["shape"] and config["areas"] == {"district-1": "Centre"}


def test_grid_columns_use_functions_only_never_string_expressions():
    """Vigie's CSP forbids eval: every computed column goes through dash-ag-grid's own function parser."""
    for col in column_defs("fr"):
        for key in ("valueGetter", "valueFormatter", "comparator", "tooltipValueGetter"):
            if key in col:
                assert isinstance(col[key], dict) and "function" in col[key], (col["colId"], key)
    js = (ROOT / "assets" / "alarms_console.js").read_text(encoding="utf-8")
    for col in column_defs("fr"):
        for v in col.values():
            if isinstance(v, dict) and v.get("function", "").startswith("alarm"):
                assert f"F.{v['function'].split('(')[0]} =" in js, v


def test_the_history_panel_shows_who_when_why_as_text():
    found = {"alarm": {"id": "lum/a", "priority": "urgent", "state": "active_unack", "message": HOSTILE, "code": "lamp_off",
                       "asset": HOSTILE, "supervisor": "lum", "raised_at": 1.75e9, "raise_count": 2, "assignee": "alice"},
             "children": [{"asset": "lamp-1", "message": HOSTILE}],
             "history": [{"at": 1.75e9, "action": "raise", "who": "supervisor", "why": HOSTILE, "after": "active_unack"},
                         {"at": 1.75e9 + 60, "action": "comment", "who": "bob", "why": "crew called", "after": "active_unack"}]}
    panel = alarm_detail(found, "fr", PARIS)
    words = texts(panel)
    assert HOSTILE in words and "crew called" in words and "bob" in words and "Commentaire" in words
    assert "Pris en charge par alice" in words
    assert find(panel, aids.DETAIL_ACK).disabled is False
    assert words.index("crew called") < words.index(HOSTILE, words.index("Historique"))  # newest first


def test_feedback_says_what_happened_to_each_alarm():
    outcomes = [Outcome("a", "done"), Outcome("b", "done"), Outcome("c", "already", "already acknowledged by bob", "bob"),
                Outcome("d", "forbidden", "Refused: alice acts on lighting, not on water."), Outcome("e", "not_found")]
    assert feedback(outcomes, "ack", "fr") == ("2 acquittée(s) · 1 déjà traitée(s) (bob) · "
                                               "1 non autorisée(s) : Refused: alice acts on lighting, not on water. · 1 introuvable(s)")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_kpi_page_shows_tiles_distribution_rate_and_bad_actors(lang):
    stats = AlarmStats(AlarmPolicy(), started=1.75e9)
    report = stats.report(1.75e9 + 60, ["x"], 1)
    page = alarm_kpi_page(page_data(key="alarm_kpis", domains=(), lang=lang), report)
    for key in ("per_10min", "per_hour", "flood_share_pct", "chattering", "stale", "mtta_s"):
        assert find(page, f"akpi-{key}") is not None
    assert at("kpi.distribution", lang) in texts(page) and at("kpi.bad_actors", lang) in texts(page)
    assert duration(95, "fr") == "1 min 35 s" and duration(4000, "fr") == "1 h 06"


def test_the_chimes_in_assets_are_the_ones_this_code_makes():
    for name in CHIMES:
        assert (ROOT / "assets" / f"{name}.wav").read_bytes() == chime(name)
