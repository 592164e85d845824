"""The commands page from plain data, the form's parameters, the selection, and how a command reads."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from dash import html

from callbacks.commands_form import drawn_ring, form_params, next_selection
from layouts import commands_ids as cid
from layouts.commands import commands_page
from layouts.commands_i18n import command_words, where
from layouts.commands_list import cancellable, command_detail, command_row, progress
from layouts.commands_panel import confirmation
from layouts.page import PageData
from services.core.command_effects import CommandRequest, Selection, plan_command
from services.core.command_specs import LargeRules
from tests.command_world import world

TZ = ZoneInfo("Europe/Paris")


def text(component) -> str:
    """Every string in a component tree."""
    if isinstance(component, str):
        return component
    if isinstance(component, (list, tuple)):
        return " ".join(text(c) for c in component)
    children = getattr(component, "children", None)
    return text(children) if children is not None else ""


def ids_in(component) -> set:
    out = set()
    stack = [component]
    while stack:
        c = stack.pop()
        if isinstance(c, (list, tuple)):
            stack.extend(c)
            continue
        if getattr(c, "id", None) is not None:
            out.add(c.id if isinstance(c.id, str) else str(c.id))
        for attr in ("children", "title"):
            v = getattr(c, attr, None)
            if v is not None and not isinstance(v, str):
                stack.append(v)
    return out


def page_data() -> PageData:
    return PageData(key="commands", domains=("lighting", "water", "traffic"), lang="fr", default_lang="fr", theme="light",
                    territory_name="Montpellier", center=(43.61, 3.87), zoom=12, bounds=((43.5, 3.7), (43.7, 4.0)), attribution="",
                    kpis={}, history={}, geo_urls={"lighting": "/vigie/geo/lighting"}, base_url="/vigie/base", live_url="/vigie/live")


def test_the_page_has_its_map_form_dialog_log_and_drawer() -> None:
    page = commands_page(page_data(), "water", {"domain": "water", "ids": ["valve-1"], "polygon": None, "origin": "url"}, bbox=(3.9, 43.6, 3.91, 43.61))
    found = ids_in(page)
    for wanted in (cid.MAP, cid.DRAW, cid.SELECTED_LAYER, cid.SELECTION, cid.DOMAIN, cid.ACTION, cid.REVIEW, cid.MODAL, cid.SEND,
                   cid.REASON, cid.SECOND, cid.LIST, cid.DRAWER, cid.PUSHED, *cid.LAYER.values()):
        assert wanted in found, wanted


PARAMS = [  # action, form values -> parameters sent
    ("set_dimming", {cid.LEVEL: 30, cid.OVERRIDE: "7200"}, {"level": 30, "override_s": 7200}),
    ("set_dimming", {cid.LEVEL: 30, cid.OVERRIDE: "0"}, {"level": 30}),
    ("switch", {cid.ON: "false", cid.OVERRIDE: "900"}, {"on": False, "override_s": 900}),
    ("release", {cid.LEVEL: 30}, {}),
    ("valve", {cid.POSITION: 0}, {"position": 0}),
    ("pump", {cid.RUNNING: "auto", cid.OVERRIDE: "900"}, {"auto": True}),
    ("pump", {cid.RUNNING: "stop", cid.OVERRIDE: "0"}, {"running": False}),
    ("signal_plan", {cid.SIGNAL_PLAN: "greenWave", cid.OVERRIDE: "3600"}, {"plan": "greenWave", "override_s": 3600}),
    ("signal_plan", {cid.SIGNAL_PLAN: "auto", cid.OVERRIDE: "3600"}, {"plan": "auto"}),
    ("set_schedule", {cid.DIM_LEVEL: 40, cid.DIM_FROM: "22:00", cid.DIM_TO: ""}, {"dim_level": 40, "dim_from": "22:00", "dim_to": None}),
]


@pytest.mark.parametrize("action, values, params", PARAMS)
def test_the_form_gives_each_action_its_parameters(action, values, params) -> None:
    assert form_params(action, values) == params


def test_clicks_toggle_a_pick_replaces_a_drawing_adds_clear_empties() -> None:
    click = lambda i: {"properties": {"id": i}}  # noqa: E731
    sel = next_selection(cid.LAYER["lighting"], click("lamp-1"), None, "lighting")
    sel = next_selection(cid.LAYER["lighting"], click("lamp-2"), sel, "lighting")
    assert sel["ids"] == ["lamp-1", "lamp-2"]
    sel = next_selection(cid.LAYER["lighting"], click("lamp-1"), sel, "lighting")
    assert sel["ids"] == ["lamp-2"]
    assert next_selection(cid.LAYER["lighting"], {"properties": {"cluster": True}}, sel, "lighting")["ids"] == ["lamp-2"]
    square = {"features": [{"geometry": {"type": "Polygon", "coordinates": [[[3.8, 43.6], [3.9, 43.6], [3.9, 43.7], [3.8, 43.6]]]}}]}
    sel = next_selection(cid.DRAW, square, sel, "lighting")
    assert sel["polygon"] == drawn_ring(square) and sel["origin"] == "draw"
    sel = next_selection(cid.PICK, "d1", sel, "lighting")
    assert (sel["ids"], sel["polygon"], sel["origin"]) == (["d1"], None, "pick")
    assert next_selection(cid.CLEAR, 1, sel, "lighting")["ids"] == []
    assert next_selection(cid.DOMAIN, "water", sel, "water") == {"domain": "water", "ids": [], "polygon": None, "origin": "map"}


def test_a_large_commands_dialog_shows_targets_state_effect_and_the_rule_in_french() -> None:
    plan = plan_command(CommandRequest("lighting", "switch", {"on": False}, Selection(("c2",))), world(), names={"c2": "Lattes"},
                        rules=LargeRules(commune_min_lamps=5))
    doc = plan.to_dict()
    body = text(confirmation(doc, command_words(doc, "fr"), "fr"))
    assert "Éteindre — commune Lattes" in body
    assert "Allumage : 10 allumé" in body and "Puissance 1,0 kW → 0,0 kW" in body
    assert "Effet important" in body and "Lattes serait plongée dans le noir : 10 de ses 10 points lumineux" in body


def doc(status: str, **extra) -> dict:
    base = {"id": "c-1", "status": status, "action": "set_dimming", "params": {"level": 30, "override_s": 7200}, "label": "district d1",
            "user": "claire", "supervisor": "lum-t", "requested_at": 1_800_000_000.0, "assets_count": 500, "targets": ["d1"],
            "reason": "", "message": "", "late": False, "history": [{"status": "requested", "at": 1_800_000_000.0, "detail": ""}],
            "feedback": {"applied": 480, "failed": 20, "missing": 0, "applied_ids": [], "failed_ids": [f"lamp-{i}" for i in range(20)],
                         "missing_ids": []},
            "actual": {"verification": "confirmed", "confirmed": 480, "checked": 480, "expect": {"field": "illuminanceLevel", "value": 0.3},
                       "unconfirmed_ids": []},
            "override": {"seconds": 7200, "until": 1_800_007_210.0, "state": "active", "returned": 0, "revert": "release"}}
    return {**base, **extra}


def test_a_partial_outcome_lists_who_did_not_obey_and_counts_down() -> None:
    d = doc("partial")
    assert progress(d, "fr") == "480 / 500 · 20 en échec"
    row = command_row(d, command_words(d, "fr"), "fr", TZ)
    assert "Gradation 30 %, 2 h" in text(row) and "quartier d1" in text(row) and cancellable(d)
    detail = text(command_detail(d, command_words(d, "fr"), "fr", TZ))
    assert "N'ont pas obéi (20)" in detail and "lamp-0 ,  lamp-1" in detail and "480 / 480 montrent la valeur commandée" in detail
    named = text(command_detail(d, command_words(d, "fr"), "fr", TZ, {"lamp-0": "Lanterne 1, Rue Foch"}))
    assert "Lanterne 1, Rue Foch ,  lamp-1" in named  # the lamps that did not obey, by their names (linked to their pages)
    assert "Niveau d'éclairement = 30\u202f%" in detail


@pytest.mark.parametrize("status, shape", [("applied", "✓"), ("rejected", "⊘"), ("timed_out", "◌"), ("failed", "✕")])
def test_every_status_has_a_shape_and_a_word(status, shape) -> None:
    row = command_row(doc(status, override=None), "x", "en", TZ)
    assert shape in text(row) and row.__dict__["data-status"] == status


def test_selection_labels_speak_the_pages_language() -> None:
    assert (where("district Centre", "fr"), where("drawn area (40)", "fr"), where("Armoire 12", "fr")) == \
        ("quartier Centre", "zone dessinée (40)", "Armoire 12")
    assert isinstance(html.Div(where("street x", "en")), html.Div)
