"""The "over the day" panels from plain data: greys for the days, red dashed only for limits, simulated days said."""
from __future__ import annotations

import pytest

from layouts.day_charts import _WORDS, CHARTS, LIMIT_COLOR, day_panels, figures, savings_lines
from layouts.palette import THEMES
from services.core.day_series import Bucket
from services.core.day_view import day_view


def view(domain: str, day: str, values: dict[str, float], source: str = "live", kwh: float = 0.0, rated: float = 0.0) -> dict:
    buckets = {slot: Bucket(1, {k: [v, 1] for k, v in values.items()}, kwh, rated, source) for slot in (200, 201, 202)}
    return day_view(domain, day, buckets)


def days(domain: str, values: dict[str, float], past_source: str = "live", today: bool = True, **energy: float) -> dict:
    return {"today": view(domain, "2026-11-25", values if today else {}, **energy) if today else day_view(domain, "2026-11-25", {}),
            "yesterday": view(domain, "2026-11-24", values, past_source, **energy),
            "last_week": view(domain, "2026-11-18", values, past_source, **energy), "now_slot": 202}


LIGHTING = {"power_kw": 1500.0, "rated_on_kw": 2000.0, "lamps_on": 29000.0}
WATER = {"chlorine_min": 0.2, "chlorine_mean": 0.35, "chlorine_max": 0.5, "turbidity_mean": 0.3, "turbidity_max": 0.6}
TRAFFIC = {"mean_speed_kmh": 42.0, "congestion_index_pct": 3.0}


def test_lighting_draws_power_lines_and_energy_bars_for_the_three_days():
    fig = figures("lighting", days("lighting", LIGHTING, kwh=125.0, rated=160.0), "fr", "light")[0]
    lines = [t for t in fig["data"] if t["type"] == "scatter"]
    bars = [t for t in fig["data"] if t["type"] == "bar"]
    assert [t["name"] for t in lines] == ["J-7", "Hier", "Aujourd'hui"] and len(bars) == 3
    assert lines[-1]["line"]["color"] == THEMES["light"]["ink"] and lines[0]["line"]["dash"] == "dash"
    assert lines[-1]["x"][0] == "2026-11-25 16:40" and bars[-1]["y"] == [375.0]  # 3 buckets of 125 kWh in hour 16


@pytest.mark.parametrize("domain, values, limits", [
    ("lighting", LIGHTING, []),
    ("water", WATER, [[0.1, 1.0], [1.0]]),
    ("traffic", TRAFFIC, [[], [15.0]]),
])
def test_only_the_limits_are_red_dashed_lines(domain, values, limits):
    figs = figures(domain, days(domain, values), "fr", "light")
    got = [[t["y"][0] for t in f["data"] if t.get("line", {}).get("color") == LIMIT_COLOR] for f in figs]
    assert got == (limits or [[]])
    assert all(t["line"]["dash"] == "dash" for f in figs for t in f["data"] if t.get("line", {}).get("color") == LIMIT_COLOR)


def test_the_limit_stays_in_view_when_values_are_far_below():
    fig = figures("water", days("water", WATER), "fr", "light")[0]
    assert fig["layout"]["yaxis"]["range"][1] > 1.0


def test_a_day_made_by_the_backfill_says_it_is_simulated():
    d = days("traffic", TRAFFIC, past_source="backfill")
    fig = figures("traffic", d, "fr", "light")[0]
    assert [t["name"] for t in fig["data"]] == ["J-7", "Hier", "Aujourd'hui"]
    assert fig["layout"]["annotations"][-1]["text"] == "Simulé : J-7, hier"
    d["today"] = {**d["today"], "source": "mixed", "live_from_slot": 282}
    assert figures("traffic", d, "en", "light")[1]["layout"]["annotations"][-1]["text"] == "Simulated: D-7, yesterday, today < 23:30"
    assert "annotations" not in figures("traffic", days("traffic", TRAFFIC), "fr", "light")[0]["layout"]


def test_an_empty_today_says_there_is_no_reading_yet_in_the_language():
    fig = figures("water", days("water", WATER, today=False), "en", "dark")[1]
    assert fig["layout"]["annotations"][-1]["text"] == "No reading yet today."


def test_savings_say_kwh_today_and_against_yesterday():
    d = days("lighting", LIGHTING, kwh=125.0, rated=160.0)
    d["yesterday_same_time"] = {"saved_kwh": 90.0, "saved_pct": 20.0, "rated_kwh": 450.0}
    text = [str(c.children) for c in savings_lines(d, "fr")]
    assert "105 kWh économisés" in text[0] and "22 % sous la pleine puissance" in text[0]
    assert text[1].startswith("Hier à la même heure : 90 kWh") and text[2].startswith("Hier, journée entière : 105 kWh")


@pytest.mark.parametrize("domain", list(CHARTS))
def test_each_page_gets_its_panels_and_bump_store(domain):
    panels = day_panels(domain, days(domain, {**LIGHTING, **WATER, **TRAFFIC}), "fr", "light")
    assert panels[0].id == f"day-bump-{domain}" and len(panels) == 1 + len(CHARTS[domain]) + (domain == "lighting")


def test_every_french_word_has_its_english():
    assert set(_WORDS["fr"]) == set(_WORDS["en"])
