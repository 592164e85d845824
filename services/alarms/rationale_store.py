"""The master alarm database on disk and in Redis: the shipped records (YAML in the repository) and engineers' edits.

The shipped file is `services/alarms/rationalisation.yaml` (schema: rationalisation.schema.json next to it). An
engineer's edit replaces one record and is kept in Redis (hash `vigie:alarms:rationale`, code -> JSON record) so it
survives restarts and stays over a newer shipped file; reverting an edit deletes it there. The book the core uses is
the shipped records with the edits over them (`build_book`).
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from services.core.alarm_rationale import RationaleBook, RationaleError, parse_rationale

log = logging.getLogger(__name__)

SHIPPED = Path(__file__).with_name("rationalisation.yaml")
SCHEMA = Path(__file__).with_name("rationalisation.schema.json")
RATIONALE_KEY = "vigie:alarms:rationale"


def load_shipped(path: Path = SHIPPED) -> list[dict]:
    """The shipped records (raises RationaleError when the file does not read as a list of records)."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise RationaleError(f"{path.name}: {err}") from err
    if not isinstance(doc, dict) or doc.get("version") != 1 or not isinstance(doc.get("records"), list):
        raise RationaleError(f"{path.name}: 'version: 1' and a list of 'records' expected")
    return doc["records"]


def build_book(shipped: Iterable[dict], edits: Iterable[Any] = ()) -> RationaleBook:
    """The shipped records with the engineers' edits over them (an edit that no longer reads is logged and skipped)."""
    book = RationaleBook.from_dicts(shipped)
    for raw in edits:
        try:
            book.put(parse_rationale(raw))
        except RationaleError as err:
            log.warning("alarm rationalisation edit skipped (%s): %r", err, str(raw)[:200])
    return book


def shipped_book() -> RationaleBook:
    """The book as shipped (no edits)."""
    return build_book(load_shipped())
