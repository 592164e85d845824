"""Every catalog (layouts/*_i18n.py and layouts/i18n.py) says everything in both languages: no English page falls back to French."""
from __future__ import annotations

import importlib
from pathlib import Path

import pytest

LAYOUTS = Path(__file__).resolve().parents[2] / "layouts"
MODULES = sorted(f"layouts.{p.stem}" for p in LAYOUTS.glob("*i18n.py"))


def languages(module) -> dict[str, set[str]]:
    """The keys of each language of a catalog module (its `_FR`/`_EN`, or `_WORDS` by language)."""
    if hasattr(module, "_WORDS"):
        return {lang: set(words) for lang, words in module._WORDS.items()}
    return {"fr": set(module._FR), "en": set(module._EN)}


def test_every_catalog_module_is_found() -> None:
    assert {"layouts.i18n", "layouts.alarms_i18n", "layouts.commands_i18n"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_french_and_english_have_the_same_keys(name: str) -> None:
    keys = languages(importlib.import_module(name))
    assert set(keys) == {"fr", "en"}
    assert sorted(keys["fr"] - keys["en"]) == [], "missing in English"
    assert sorted(keys["en"] - keys["fr"]) == [], "missing in French"
