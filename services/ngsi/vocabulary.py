"""Attribute names: from the IRIs and compact IRIs an NGSI-LD broker may send back to Smart Data Models terms."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping

CONTEXT_DIR = Path(__file__).resolve().parent / "contexts"
SDM_CONTEXT_URL = "https://raw.githubusercontent.com/smart-data-models/{subject}/master/context.jsonld"
CORE_CONTEXT_URL = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"
NGSI_LD_PREFIX = "https://uri.etsi.org/ngsi-ld/"
SDM_PREFIX = "https://smartdatamodels.org/"
VIGIE_PREFIX = "urn:vigie:"


@lru_cache(maxsize=1)
def sdm_terms() -> Mapping[str, str]:
    """Every term of the vendored Smart Data Models contexts -> its IRI (read once, read-only)."""
    terms: dict[str, str] = {}
    for path in sorted(CONTEXT_DIR.glob("dataModel.*.jsonld")):
        ctx = json.loads(path.read_text(encoding="utf-8")).get("@context", {})
        for term, target in ctx.items():
            iri = target if isinstance(target, str) else target.get("@id") if isinstance(target, dict) else None
            if isinstance(iri, str):
                terms.setdefault(term, iri)
    return MappingProxyType(terms)


@lru_cache(maxsize=1)
def _reverse() -> Mapping[str, str]:
    out: dict[str, str] = {}
    for term, iri in sdm_terms().items():
        out.setdefault(_expand_prefixed(iri, {}), term)
    return MappingProxyType(out)


def _expand_prefixed(name: str, prefixes: Mapping[str, str]) -> str:
    prefix, sep, rest = name.partition(":")
    if not sep or rest.startswith("//"):
        return name
    if prefix in prefixes:
        return prefixes[prefix] + rest
    if prefix == "ngsi-ld":
        return NGSI_LD_PREFIX + rest
    return name


def inline_terms(context: Any) -> dict[str, str]:
    """Terms an inline `@context` defines (URLs are not fetched: only the objects in it count)."""
    out: dict[str, str] = {}
    items = context if isinstance(context, list) else [context]
    for item in items[:16]:
        if not isinstance(item, dict):
            continue
        for term, target in list(item.items())[:1000]:
            iri = target if isinstance(target, str) else target.get("@id") if isinstance(target, dict) else None
            if isinstance(term, str) and isinstance(iri, str) and not term.startswith("@"):
                out[term] = iri
    return out


def short_name(name: str, inline: Mapping[str, str] | None = None) -> str:
    """Return the Smart Data Models term for an attribute or type name given as a term, a compact IRI or an IRI."""
    inline = inline or {}
    iri = inline.get(name, name)
    iri = _expand_prefixed(iri, inline)
    if "://" not in iri and not iri.startswith("urn:"):
        return iri
    known = _reverse().get(iri)
    if known is not None:
        return known
    for prefix in (SDM_PREFIX, NGSI_LD_PREFIX, VIGIE_PREFIX):
        if iri.startswith(prefix):
            return iri.rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1].rsplit(":", 1)[-1]
    return name


@lru_cache(maxsize=None)
def subject_terms(subject: str) -> frozenset[str]:
    """The terms one vendored Smart Data Models context defines."""
    path = CONTEXT_DIR / f"{subject}.jsonld"
    if not path.exists():
        return frozenset()
    return frozenset(json.loads(path.read_text(encoding="utf-8")).get("@context", {}))


def extension_terms(subjects: Iterable[str], terms: Iterable[str]) -> dict[str, str]:
    """Vigie's own term definitions for an entity of these subjects: never one of a Smart Data Models term.

    A term the entity's own contexts define is left to them; a Smart Data Models term of another subject
    (a Device's `pressure`) points to that model's IRI; only Vigie's own words get `urn:vigie:<term>`.
    """
    defined = frozenset().union(*(subject_terms(s) for s in subjects))
    out: dict[str, str] = {}
    for term in sorted(terms):
        if term in defined:
            continue
        out[term] = sdm_terms().get(term, f"vigie:{term}")
    return out


def context_for(subjects: Iterable[str], vigie_terms: Iterable[str]) -> list:
    """The `@context` of an outbound entity: its Smart Data Models subjects, Vigie's own terms, the core context."""
    subjects = list(subjects)
    out: list = [SDM_CONTEXT_URL.format(subject=s) for s in subjects]
    own = extension_terms(subjects, vigie_terms)
    if own:
        out.append({"vigie": VIGIE_PREFIX, **own})
    out.append(CORE_CONTEXT_URL)
    return out
