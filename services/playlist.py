"""The wall's rotation playlist: pages in order, each with its own duration, read from a YAML settings file.

The rotation itself runs in the wall's browser (assets/wall.js); this validates the file into plain data.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import msgspec
import yaml

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "wall.yaml"
PAGES = ("/wall", "/", "/lighting", "/water", "/traffic", "/alarms")
DOMAIN_PAGES = {"lighting": "/lighting", "water": "/water", "traffic": "/traffic"}


class PlaylistError(ValueError):
    """The playlist file cannot be used (the reason says why)."""


class Item(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One page of the rotation and how long it stays."""

    path: str
    seconds: float


class Playlist(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The rotation, and when the wall calls itself stale."""

    items: list[Item]
    stale_after_s: float = 30.0

    def to_dict(self) -> dict:
        """What the wall's browser gets."""
        return {"items": [{"path": i.path, "seconds": i.seconds} for i in self.items],
                "stale_after_s": self.stale_after_s, "domains": DOMAIN_PAGES}


def parse_playlist(raw: object) -> Playlist:
    """Validate a decoded YAML document into a Playlist."""
    try:
        playlist = msgspec.convert(raw, Playlist)
    except msgspec.ValidationError as err:
        raise PlaylistError(str(err)) from err
    if not playlist.items:
        raise PlaylistError("the playlist has no item")
    for item in playlist.items:
        if item.path not in PAGES:
            raise PlaylistError(f"unknown page {item.path!r} (one of {', '.join(PAGES)})")
        if not 1 <= item.seconds <= 3600:
            raise PlaylistError(f"{item.path}: seconds must be between 1 and 3600, not {item.seconds}")
    if playlist.stale_after_s <= 0:
        raise PlaylistError("stale_after_s must be positive")
    return playlist


def load_playlist(path: Path | None = None) -> Playlist:
    """Read and validate the playlist file (the default one when `path` is None)."""
    path = path or DEFAULT_PATH
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise PlaylistError(f"{path}: {err}") from err
    return parse_playlist(raw)
