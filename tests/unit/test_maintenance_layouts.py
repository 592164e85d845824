"""The maintenance page's pure layout functions: words not codes, both languages, nothing from a feed as HTML."""
from __future__ import annotations

import json

import pytest

from layouts import maintenance as lm

ORDER = {"id": "wo-1", "domain": "lighting", "asset": "lamp-1", "asset_name": "Lanterne <b>1</b>", "fault": "columnIssue",
         "priority": "high", "status": "open", "fault_active": True, "street": "street-9", "street_name": "Rue de la Loge",
         "cabinet": "cab-1", "opened_at": 1_765_000_000.0, "source": "telemetry", "assignee": "", "external_ref": "", "lon": 3.87,
         "lat": 43.61, "history": [{"at": 1_765_000_000.0, "who": "vigie", "action": "open", "before": "", "after": "open", "note": ""},
                                   {"at": 1_765_000_100.0, "who": "olga", "action": "status", "before": "open", "after": "planned",
                                    "note": "nacelle"}]}


@pytest.mark.parametrize(("lang", "words"), [("fr", ("Haute", "Problème de mât", "ouvert", "Ouvert → Planifié")),
                                             ("en", ("High", "Column issue", "opened", "Open → Planned"))])
def test_the_detail_speaks_words_in_both_languages(lang, words):
    text = json.dumps([c.to_plotly_json() if hasattr(c, "to_plotly_json") else c for c in lm.detail_panel(ORDER, lang, "Europe/Paris", True)],
                      default=lambda c: c.to_plotly_json(), ensure_ascii=False)
    for w in words:
        assert w in text
    assert "columnIssue" not in text.replace('"columnIssue"', "")


def test_a_reader_gets_no_buttons():
    text = json.dumps(lm.detail_panel(ORDER, "en", "UTC", False), default=lambda c: c.to_plotly_json())
    assert "Your role may read" in text and "mnt-set-status" not in text


def test_rows_map_and_rounds():
    (row,) = lm.order_rows([ORDER], "fr", "Europe/Paris")
    assert (row["priority"], row["fault"], row["street"], row["priority_key"]) == ("Haute", "Problème de mât", "Rue de la Loge", "high")
    (point,) = lm.orders_geojson([ORDER, {**ORDER, "id": "wo-2", "lon": None}], "en")["features"]
    assert point["properties"]["tooltip"] == "Column issue · Lanterne <b>1</b>"  # shown as text by assets/maintenance.js
    plan = {"id": "r-1", "depot": [3.87, 43.6], "km": 12.5, "served": 1, "unserved": [], "compute_s": 0.4,
            "baselines": {"by_date": {"km": 18.0, "served": 1}, "nearest": {"km": 12.2, "served": 1}},
            "shorter_than": {"by_date": 0.31, "nearest": -0.02}, "rounds": [
                {"crew": 1, "km": 12.5, "total_min": 95.0, "path": [[3.87, 43.6], [3.88, 43.61]],
                 "stops": [{"id": "wo-1", "lon": 3.88, "lat": 43.61, "fault": "columnIssue", "label": "L1", "arrival_min": 20.0}]}]}
    kinds = [f["geometry"]["type"] for f in lm.rounds_geojson(plan)["features"]]
    assert kinds == ["Point", "LineString", "Point"]
    text = json.dumps(lm.rounds_summary(plan, "fr"), default=lambda c: c.to_plotly_json(), ensure_ascii=False)
    assert "31 % plus court que par date d'ouverture" in text and "2 % plus long que « au plus proche »" in text
    assert "format=gpx" in text and "1 h 35" in text
    plan["baselines"]["by_date"] = {"km": 30.0, "served": 4}
    text = json.dumps(lm.rounds_summary(plan, "en"), default=lambda c: c.to_plotly_json(), ensure_ascii=False)
    assert "In the same shifts, by date opened: 4 fault(s), 30.0 km" in text and "shorter than by date" not in text
    assert "Tournées non calculées" in json.dumps(lm.rounds_summary(None, "fr", "no"), default=lambda c: c.to_plotly_json(), ensure_ascii=False)


def test_the_page_builds_in_both_languages():
    from layouts.page import PageData

    d = PageData(key="maintenance", domains=(), lang="en", default_lang="fr", theme="light", territory_name="T", center=(43.6, 3.87),
                 zoom=12, bounds=((43.5, 3.7), (43.7, 4.0)), attribution="", kpis={}, history={}, geo_urls={}, base_url="/vigie/base",
                 live_url="/vigie/live", replay_url="/vigie/replay", geo_rev={}, tile_url="", late_after_s=60, stale_after_s=300,
                 window_ms=100, timezone="Europe/Paris")
    assert "Maintenance rounds" in json.dumps(lm.maintenance_page(d), default=lambda c: c.to_plotly_json())
