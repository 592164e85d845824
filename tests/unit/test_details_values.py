"""Readings in the details panel and on the asset page: an override's end in the territory's time, never raw ISO."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from layouts.asset_page import value_rows
from layouts.details import details_panel, format_reading

PARIS = ZoneInfo("Europe/Paris")


def text(component) -> str:
    """All the text of a component tree."""
    if isinstance(component, (list, tuple)):
        return " ".join(text(c) for c in component)
    if isinstance(component, str):
        return component
    return text(getattr(component, "children", None) or [])


@pytest.mark.parametrize(("raw", "lang", "shown"), [
    ("2026-06-21T18:30:00Z", "fr", "21/06 20:30:00"),  # summer: UTC+2
    ("2026-12-21T18:30:00+00:00", "fr", "21/12 19:30:00"),  # winter: UTC+1
    ("2026-06-21T18:30:00Z", "en", "2026-06-21 20:30:00"),
    ("2026-06-21T18:30:00", "fr", "21/06 20:30:00"),  # no offset: UTC, as the contract writes them
    ("soon", "fr", "soon"),  # not an instant: shown as sent
])
def test_an_override_end_is_shown_in_local_time(raw: str, lang: str, shown: str) -> None:
    assert format_reading("overrideUntil", raw, lang, PARIS) == shown


def test_other_readings_keep_their_format() -> None:
    assert format_reading("illuminanceLevel", 0.5, "fr", PARIS) == "50\u202f%"  # a fraction reads as the command gave it
    assert format_reading("pressure", 3.25, "fr", PARIS) == "3,25"
    assert format_reading("status", "2026-06-21T18:30:00Z", "fr", PARIS) == "2026-06-21T18:30:00Z"


def test_the_map_details_and_the_asset_page_show_no_iso() -> None:
    asset = {"id": "lamp-1", "type": "Streetlight", "name": "Lanterne 1", "supervisor": "lum", "condition": "ok",
             "updated": 1_782_066_600.0, "values": {"controlMode": "manual", "overrideUntil": "2026-06-21T18:30:00Z"}}
    for shown in (text(details_panel(asset, [], "fr", PARIS)), text(value_rows(asset, "fr", PARIS))):
        assert "21/06 20:30:00" in shown and "T18:30" not in shown
