"""Words instead of codes: a reading's enum value, a relation's kind, a place or asset id, as the operator says them.

Every value the contract allows for an enum reading (services/contract/messages.py) has a label in both catalogs
(`enum.<field>.<value>` in layouts/i18n.py; tests/unit/test_words.py walks the contract's Literals); a value Vigie
has no word for is shown as the supervisor sent it, never dropped.
"""
from __future__ import annotations

import re

from .i18n import catalog, t

ENUM_FIELDS = ("powerState", "status", "controlMode", "signalPlan")
PERCENT_FIELDS = frozenset({"illuminanceLevel", "position", "occupancy"})  # 0..1 on the wire, read as a percentage
_SEG = re.compile(r"^seg(\d+)$")


def enum_label(field: str, value: object, lang: str) -> str:
    """The label of an enum reading (`signalPlan` `flashingAmber` -> `orange clignotant`)."""
    text = str(value)
    words = catalog(lang)
    return words.get(f"enum.{field}.{text}") or next(
        (words[f"enum.{f}.{text}"] for f in ENUM_FIELDS if f"enum.{f}.{text}" in words), text)


def relation_label(kind: str, lang: str) -> str:
    """The label of a relation (`district` -> `Quartier`, `seg2` -> `Tronçon 2`, `upstream` -> `Canalisation amont`)."""
    m = _SEG.match(kind)
    if m:
        return t("ref.seg", lang, n=m.group(1))
    key = f"ref.{kind}"
    text = t(key, lang)
    return text if text != key else kind.capitalize()


def percent(value: float, lang: str) -> str:
    """A fraction 0..1 as a percentage (`0.5` -> `50 %`), as commands are given."""
    pct = value * 100
    text = f"{pct:.0f}" if abs(pct - round(pct)) < 0.05 else f"{pct:.1f}"
    return (text.replace(".", ",") if lang == "fr" else text) + "\u202f%"


def alarm_text(alarm: dict, labels: dict[str, str] | None) -> str:
    """An alarm as the console says it: its type's name (master alarm database), then the supervisor's own text."""
    label, message = (labels or {}).get(str(alarm.get("code") or "")), alarm.get("message") or ""
    if label:
        return f"{label} — {message}" if message and message != label else label
    return message or str(alarm.get("code") or "")
