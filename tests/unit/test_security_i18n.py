"""The sign-in and admin pages' catalog says everything in French and English, and every word the pages ask for exists."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from services.accounts import Refusal, Role, SecurityOptions
from services.audit import Outcome
from services.settings import DOMAINS, Settings
from services.web import i18n

WEB = Path(__file__).resolve().parents[2] / "services" / "web"
TEMPLATES = sorted((WEB / "templates" / "security").glob("*.html"))
CATALOG_KEYS = set(i18n._FR)


def template_keys(path: Path) -> set[str]:
    """The keys a template passes to `t(...)` as a literal."""
    return set(re.findall(r"""\bt\(\s*'([^']+)'""", path.read_text(encoding="utf-8")))


def python_keys(path: Path) -> set[str]:
    """The literal keys a module passes to `words`/`_say` (first argument) and to the admin's `done` (fourth)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        position = {"words": 0, "_say": 0, "done": 3}.get(node.func.id)
        if position is not None and len(node.args) > position:
            arg = node.args[position]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.add(arg.value)
    return found


def test_french_and_english_have_the_same_keys() -> None:
    assert sorted(set(i18n._FR) - set(i18n._EN)) == [], "missing in English"
    assert sorted(set(i18n._EN) - set(i18n._FR)) == [], "missing in French"


def test_both_languages_take_the_same_placeholders() -> None:
    fields = re.compile(r"\{(\w+)\}")
    differ = {k: (i18n._FR[k], i18n._EN[k]) for k in i18n._FR if set(fields.findall(i18n._FR[k])) != set(fields.findall(i18n._EN[k]))}
    assert differ == {}


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_every_key_a_template_uses_exists(template: Path) -> None:
    assert sorted(template_keys(template) - CATALOG_KEYS) == []


def test_every_template_speaks_through_the_catalog() -> None:
    assert all(template_keys(p) for p in TEMPLATES if p.name != "message.html")
    layout = (WEB / "templates" / "security" / "layout.html").read_text(encoding="utf-8")
    assert '<html lang="{{ lang }}">' in layout


@pytest.mark.parametrize("module", ["admin.py", "request.py"])
def test_every_key_the_python_side_uses_exists(module: str) -> None:
    keys = python_keys(WEB / module)
    assert keys and sorted(keys - CATALOG_KEYS) == []


def test_every_code_shown_to_people_has_words() -> None:
    wanted = {f"role.{r}" for r in Role} | {f"outcome.{o}" for o in Outcome} | {f"domain.{d}" for d in DOMAINS}
    wanted |= {f"error.{r}" for r in Refusal} | {f"refusal.{r}" for r in Refusal}
    wanted |= {"error.csrf", "refusal.csrf", "error.unavailable", "refusal.unavailable", "error.not_found"}
    wanted |= {"account.enabled", "account.disabled"}  # the admin's f"account.{change}d"
    assert sorted(wanted - CATALOG_KEYS) == []


@pytest.mark.parametrize("asked,site,expected", [
    (None, "fr", "fr"), (None, "en", "en"), ("en", "fr", "en"), ("fr", "en", "fr"), ("de", "en", "en"), (None, "de", "fr"),
])
def test_language_is_the_asked_one_else_the_site_one_else_french(asked, site, expected) -> None:
    assert i18n.language(asked, site) == expected


def test_words_format_and_fall_back_to_the_key() -> None:
    assert i18n.words("signin.throttled", "fr", wait=3) == "Trop de connexions échouées. Réessayez dans 3 s."
    assert i18n.words("signin.wrong", "en") == "Wrong name or password, or account disabled."
    assert i18n.words("no.such.key", "fr") == "no.such.key"
    assert i18n.label("role", "operator", "fr") == "opérateur" and i18n.label("role", "robot", "fr") == "robot"


def test_the_security_options_take_the_site_language() -> None:
    assert SecurityOptions.from_settings(Settings()).language == "fr"
    assert SecurityOptions.from_settings(Settings(language="en")).language == "en"
