"""Words, not codes: every enum value the contract allows, every relation and every step Vigie writes in a command's
timeline has a label in French and in English, and the catalogs have the same keys (English never falls back to
French in silence). The browser side (no raw code on the pages) is tests/browser/test_ui_words.py."""
from __future__ import annotations

import re
import typing

import pytest

from layouts import asset_i18n, commands_i18n, domain_lists, domain_panels, i18n
from layouts.asset_page import journal_words
from layouts.commands_i18n import step_detail
from layouts.details import format_reading
from layouts.words import ENUM_FIELDS, alarm_text, enum_label, relation_label
from services.contract import messages
from services.core.alarm_states import Trigger
from services.history.asset_detail import RELATION_ORDER

READINGS = (messages.LightingReading, messages.WaterReading, messages.TrafficReading)
NOT_SHOWN = {"asset", "observedAt"}


def enum_values() -> dict[str, set[str]]:
    """Each enum reading field with every value the contract allows for it (from the reading types' annotations)."""
    out: dict[str, set[str]] = {}
    for cls in READINGS:
        for field, hint in typing.get_type_hints(cls).items():
            for arg in typing.get_args(hint):
                if typing.get_origin(arg) is typing.Literal:
                    out.setdefault(field, set()).update(typing.get_args(arg))
    return out


def test_the_contracts_enums_are_the_ones_labelled() -> None:
    assert set(enum_values()) == set(ENUM_FIELDS)


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_enum_value_has_a_label(lang: str) -> None:
    own = i18n._FR if lang == "fr" else i18n._EN
    for field, values in enum_values().items():
        for value in values:
            assert f"enum.{field}.{value}" in own, f"{lang}: no word for {field} = {value}"
            assert re.fullmatch(r"[a-z]+[A-Z]\w*", enum_label(field, value, lang)) is None  # never a camelCase code


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_reading_has_a_label(lang: str) -> None:
    own = i18n._FR if lang == "fr" else i18n._EN
    for cls in READINGS:
        for field in typing.get_type_hints(cls):
            if field not in NOT_SHOWN:
                assert f"value.{field}" in own, f"{lang}: no label for the reading {field}"


@pytest.mark.parametrize(("fr", "en", "what"), [
    (i18n._FR, i18n._EN, "layouts/i18n.py"),
    (asset_i18n._WORDS["fr"], asset_i18n._WORDS["en"], "layouts/asset_i18n.py"),
    (commands_i18n._FR, {**commands_i18n._EN}, "layouts/commands_i18n.py"),
    (domain_lists._WORDS["fr"], domain_lists._WORDS["en"], "layouts/domain_lists.py"),
    (domain_panels._WORDS["fr"], domain_panels._WORDS["en"], "layouts/domain_panels.py"),
    (domain_panels._MODES["fr"], domain_panels._MODES["en"], "layouts/domain_panels.py modes"),
])
def test_french_and_english_catalogs_have_the_same_keys(fr: dict, en: dict, what: str) -> None:
    assert set(fr) - set(en) == set(), f"{what}: missing in English"
    assert set(en) - set(fr) == set(), f"{what}: missing in French"


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
@pytest.mark.parametrize("kind", [*RELATION_ORDER, "reservoir", "upstream", "seg1", "seg12"])
def test_every_relation_has_a_label(kind: str, lang: str) -> None:
    label = relation_label(kind, lang)
    assert not label.startswith("ref.") and label != kind


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_alarm_journal_action_has_words(lang: str) -> None:
    for trigger in [*Trigger, "assign", "comment", "update"]:
        shown = journal_words({"action": str(trigger), "before": "active_unack", "after": "active_ack"}, lang)
        assert "_" not in shown and "state." not in shown and "journal." not in shown, shown
        assert lang != "fr" or not shown.lower().startswith(str(trigger) + " "), shown


ENGLISH = re.compile(r"\b(override over|back to automatic|drift observed|reports|commanded|no answer from|not delivered|"
                     r"accepted the command)\b")


@pytest.mark.parametrize("detail", [
    "override over: back to automatic control",
    "back in the commanded state",
    "drift observed: sig-1 reports signalPlan 'normal', commanded 'peak'",
    "drift observed: lamp-2 reports illuminanceLevel 1.0, commanded 0.5",
    "not delivered: no supervisor listens on cmd.water.eau-mtp",
    "no answer from lum-mtp within 30 s: the supervisor may be down or silent",
    "lum-mtp accepted the command but reported no result within 45 s",
])
def test_vigies_own_timeline_words_are_said_in_french(detail: str) -> None:
    shown = step_detail(detail, "fr", {"sig-1": "Carrefour Foch"})
    assert not ENGLISH.search(shown), shown
    assert "signalPlan" not in shown and "illuminanceLevel" not in shown and "'normal'" not in shown


def test_a_drift_names_the_asset_and_says_the_values_in_words() -> None:
    shown = step_detail("drift observed: sig-1 reports signalPlan 'normal', commanded 'peak'", "fr", {"sig-1": "Carrefour Foch"})
    assert shown == "Carrefour Foch montre Plan de feux = normal, commandé heure de pointe"


@pytest.mark.parametrize(("key", "value", "fr", "en"), [
    ("status", "defectiveLamp", "lampe défectueuse", "defective lamp"),
    ("controlMode", "schedule", "programme horaire", "schedule"),
    ("powerState", "off", "éteint", "off"),
    ("signalPlan", "flashingAmber", "orange clignotant", "flashing amber"),
    ("signalPlan", "peak", "heure de pointe", "peak hours"),
    ("illuminanceLevel", 0.5, "50\u202f%", "50\u202f%"),
    ("position", 0.25, "25\u202f%", "25\u202f%"),
])
def test_readings_are_shown_in_words(key: str, value: object, fr: str, en: str) -> None:
    assert format_reading(key, value, "fr", None) == fr
    assert format_reading(key, value, "en", None) == en


def test_a_value_vigie_has_no_word_for_is_shown_as_sent() -> None:
    assert enum_label("signalPlan", "festival", "fr") == "festival"


def test_an_alarm_reads_by_its_types_name_then_the_supervisors_text() -> None:
    labels = {"lamp_fault": "Lampe en panne"}
    assert alarm_text({"code": "lamp_fault", "message": "Defective lamp: Lanterne 1"}, labels) == "Lampe en panne — Defective lamp: Lanterne 1"
    assert alarm_text({"code": "unknown_code", "message": "Something"}, labels) == "Something"
    assert alarm_text({"code": "lamp_fault"}, {}) == "lamp_fault"
