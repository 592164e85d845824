"""The wall's playlist file: what it accepts, and the reason it gives for what it refuses."""
from __future__ import annotations

import pytest

from services.playlist import PlaylistError, load_playlist, parse_playlist


def test_the_shipped_playlist_starts_with_the_overview_then_each_domain():
    p = load_playlist()
    assert [i.path for i in p.items] == ["/wall", "/lighting", "/water", "/traffic"]
    assert p.to_dict()["domains"]["water"] == "/water"


def test_a_file_elsewhere_is_read(tmp_path):
    f = tmp_path / "wall.yaml"
    f.write_text("items: [{path: /traffic, seconds: 5}]\nstale_after_s: 12\n")
    assert load_playlist(f).to_dict()["items"] == [{"path": "/traffic", "seconds": 5}]


@pytest.mark.parametrize("raw, reason", [
    ({"items": []}, "no item"),
    ({"items": [{"path": "/nowhere", "seconds": 5}]}, "unknown page"),
    ({"items": [{"path": "/water", "seconds": 0}]}, "between 1 and 3600"),
    ({"items": [{"path": "/water"}]}, "seconds"),
    ({"items": [{"path": "/water", "seconds": 5, "colour": "red"}]}, "colour"),
    ({"items": [{"path": "/water", "seconds": 5}], "stale_after_s": -1}, "positive"),
    ("not a mapping", "Expected"),
])
def test_a_bad_playlist_is_refused_with_its_reason(raw, reason):
    with pytest.raises(PlaylistError, match=reason):
        parse_playlist(raw)


def test_a_missing_file_is_a_playlist_error(tmp_path):
    with pytest.raises(PlaylistError):
        load_playlist(tmp_path / "none.yaml")
