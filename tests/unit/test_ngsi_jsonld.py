"""JSON-LD expansion of every served entity type with pyld, its contexts served from local copies only (no network):
standard terms expand to the Smart Data Models' IRIs, never to Vigie's `urn:vigie:` namespace."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pyld import jsonld

from services.contract import Codec, State, WaterReading
from services.core import Hypervisor
from services.ngsi import alerts, map_entity, outbound, read_notification
from services.ngsi.vocabulary import CONTEXT_DIR, CORE_CONTEXT_URL, SDM_CONTEXT_URL, VIGIE_PREFIX, sdm_terms
from services.simulators import build

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "smart-data-models"
CORE_COPY = Path(__file__).resolve().parents[1] / "data" / "jsonld" / "ngsi-ld-core-context-v1.8.jsonld"  # see SOURCES.md there
START = datetime(2026, 6, 21, 21, 0, tzinfo=timezone.utc)
SDM = "https://smartdatamodels.org/"
# Standard terms: each must expand to its Smart Data Models IRI (its entity's own model's, else the model that defines it).
STANDARD = ("pressure", "flow", "level", "turbidity", "powerState", "illuminanceLevel", "intensity", "averageVehicleSpeed",
            "occupancy", "alertSource", "severity", "category")


def _documents() -> dict[str, dict]:
    docs = {SDM_CONTEXT_URL.format(subject=p.stem): json.loads(p.read_text(encoding="utf-8")) for p in CONTEXT_DIR.glob("dataModel.*.jsonld")}
    core = json.loads(CORE_COPY.read_text(encoding="utf-8"))
    docs[CORE_CONTEXT_URL] = docs["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"] = core
    return docs


DOCUMENTS = _documents()


def local_loader(url: str, options: dict | None = None) -> dict:
    """pyld's document loader, from the local copies only: any other URL fails the test (no network at test time)."""
    if url not in DOCUMENTS:
        raise AssertionError(f"the expansion asked for a context Vigie has no local copy of: {url}")
    return {"contextUrl": None, "documentUrl": url, "document": DOCUMENTS[url]}


@pytest.fixture(scope="module")
def served() -> dict[str, outbound.Out]:
    """One entity of each served type (the one with the most attributes) from the three simulated supervisors."""
    core, codec = Hypervisor(), Codec()
    for domain in ("lighting", "water", "traffic"):
        sim = build(domain, seed=1, start=START)
        for ch, payload in sim.state():
            core.handle(codec.decode(ch, payload), START.timestamp())
        for _ in range(3):
            for ch, payload in sim.step():
                core.handle(codec.decode(ch, payload), START.timestamp())
    (tank,) = read_notification({"data": [json.loads((EXAMPLES / "Tank" / "example.json").read_text())]})  # none simulated: a broker's
    mapped = map_entity(tank, now=START)
    core.handle(State[WaterReading](v=1, kind="state", domain="water", supervisor="ngsi-orion-water", ts=START, seq=1, snapshot="t1",
                                    assets=[mapped.asset], readings=[r for r in (mapped.reading,) if r is not None]), START.timestamp())
    assets = {a.id: a.to_dict() for a in core.state.query()}
    outs = [o for a in assets.values() for o in outbound.asset_entities(a)]
    outs += [alerts.alarm_entity(al.to_dict(), assets.get(al.asset)) for al in core.alarms.all()]
    best: dict[str, outbound.Out] = {}
    for o in outs:
        if len(o.entity) > len(best.get(o.type, o).entity) or o.type not in best:
            best[o.type] = o
    return best


def expand(out: outbound.Out) -> dict:
    doc = outbound.render(out, key_values=False, with_context=True)
    (expanded,) = jsonld.expand(doc, {"documentLoader": local_loader})
    return expanded


def test_every_served_type_is_expanded(served) -> None:
    assert set(served) == set(outbound.SUBJECT)


@pytest.mark.parametrize("sdm_type", sorted(outbound.SUBJECT))
def test_standard_terms_expand_to_the_smart_data_models_iris_never_to_vigies(served, sdm_type: str) -> None:
    out = served[sdm_type]
    expanded = expand(out)
    subject = outbound.SUBJECT[sdm_type]
    model_terms = json.loads((CONTEXT_DIR / f"{subject}.jsonld").read_text(encoding="utf-8"))["@context"]
    core_terms = DOCUMENTS[CORE_CONTEXT_URL]["@context"]
    assert expanded["@type"] == [model_terms[sdm_type]]  # the type is the model's IRI
    names = set(out.entity) - {"id", "type"}
    iris = set(expanded) - {"@id", "@type"}
    assert len(iris) == len(names)  # every attribute expanded (none dropped as an undefined term)
    for name in names:
        if name in core_terms:
            continue  # the core context comes last and is protected (location, status, description...)
        want = model_terms.get(name) or sdm_terms().get(name)
        got = [iri for iri in iris if iri.rsplit("/", 1)[-1] == name or iri == f"{VIGIE_PREFIX}{name}"]
        if want is not None:
            assert want in iris, (sdm_type, name, got)  # a Smart Data Models term keeps its model's IRI
        else:
            assert f"{VIGIE_PREFIX}{name}" in iris, (sdm_type, name, got)  # only Vigie's own words are urn:vigie:
    for name in set(STANDARD) & names:
        iri = model_terms.get(name) or sdm_terms()[name]
        assert iri.startswith(SDM) and iri in iris, (sdm_type, name)
    assert not any(iri.startswith(VIGIE_PREFIX) and iri[len(VIGIE_PREFIX):] in sdm_terms() for iri in iris)


def test_the_standard_water_terms_are_served_and_checked(served) -> None:
    """pressure, flow, level and turbidity are among the attributes the test above expands."""
    carried = {name for o in served.values() for name in o.entity}
    assert {"pressure", "flow", "level", "turbidity", "powerState", "intensity"} <= carried
