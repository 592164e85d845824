"""FIWARE endpoints as a Flask Blueprint factory: NGSI notifications in, a read-only NGSI-LD API out.

* `POST /ngsi/v2/notify` and `POST /ngsi-ld/v1/notify`: the target of an Orion or NGSI-LD broker
  subscription. Entities are mapped at once (the answer says which were refused and why), then
  forwarded on `sup.<domain>.ngsi-<source>-<domain>.ngsi`, where the NGSI relay turns them into
  contract messages for the engine.
* `GET /ngsi-ld/v1/entities`, `GET /ngsi-ld/v1/entities/<id>`: Vigie's assets as Smart Data Models
  entities and its active alarms as `Alert`s.

Authorisation goes through the `authorize(action, domain)` seam (see `token_gate`, `security_gate`).
"""
from __future__ import annotations

import logging
import secrets
import time
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Protocol

import msgspec
from flask import Blueprint, Response, request, url_for
from prometheus_client import CollectorRegistry, Counter

from services.metrics import Metrics
from services.ngsi import alerts, outbound
from services.ngsi.entities import NotificationError
from services.ngsi.geometry import outside
from services.ngsi.inbound import Mapped
from services.ngsi.intake import (DOMAINS, MAX_PAYLOAD_BYTES, SOURCE, Intake, decode_json, forward_body, map_notification, ngsi_channel,
                                  source_supervisor)
from services.ngsi.relay import NotTaken
from services.ngsi.query import QueryError, matches_geo, paging, parse_geo, parse_q
from services.ngsi.vocabulary import CORE_CONTEXT_URL, SDM_CONTEXT_URL, extension_terms, short_name
from services.feed.reader import Reader, ReaderUnavailable

log = logging.getLogger(__name__)

NOTIFY, READ = "ngsi.notify", "api.read"
ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
JSON_TYPES = ("application/json", "application/ld+json", "application/geo+json")
LINK_REL = 'rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
_encode = msgspec.json.Encoder().encode


class Verdict(Protocol):
    """What an authorisation seam answers (services.accounts.roles.Decision has this shape)."""

    allowed: bool
    http_status: int
    message: str


Authorize = Callable[[str, "str | None"], Verdict]
Extent = tuple[float, float, float, float]  # min lon, min lat, max lon, max lat
Forward = Callable[[str, bytes], None]  # hand a `.ngsi` payload to the relay, or raise NotTaken (see redis_forwarder)


class _Allowed:
    def __init__(self, allowed: bool, status: int = 200, message: str = "") -> None:
        self.allowed, self.http_status, self.message = allowed, status, message


def token_gate(tokens: Iterable[str]) -> Authorize:
    """Allow requests whose `Authorization: Bearer <token>` is one of `tokens` (a stand-in for the account store)."""
    known = [t for t in tokens if t]

    def authorize(action: str, domain: str | None) -> Verdict:
        header = request.headers.get("Authorization", "")
        sent = header[7:].strip() if header[:7].lower() == "bearer " else ""
        if not sent:
            return _Allowed(False, 401, "Send the token in an 'Authorization: Bearer ...' header.")
        ok = any(secrets.compare_digest(sent.encode(), t.encode()) for t in known)
        return _Allowed(ok, 200 if ok else 403, "" if ok else "Refused: unknown token.")
    return authorize


def security_gate() -> Authorize:
    """Authorise through Vigie's account store (services.web.auth): the token's role and domain scope decide.

    `domain=None` asks "in at least one domain" (a notification is checked again per domain once mapped).
    """
    from services.web import auth as web_auth
    def authorize(action: str, domain: str | None) -> Verdict:
        if domain is None:
            security, principal = web_auth.security_of(), web_auth.current_principal()
            if security.allowed(principal, action, None) or any(security.allowed(principal, action, d) for d in DOMAINS):
                return _Allowed(True)
        return web_auth.authorize(action, domain, target=request.path)
    return authorize


class NgsiMetrics:
    """Counters of the NGSI endpoints, in Vigie's metrics registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.notifications = Counter("vigie_ngsi_notifications", "NGSI notifications received, by API and outcome",
                                     ["api", "outcome"], registry=registry)
        self.refused = Counter("vigie_ngsi_refused", "NGSI entities (or whole notifications) refused, by reason",
                               ["reason"], registry=registry)
        self.outside = Counter("vigie_ngsi_outside_extent", "NGSI entities taken although located outside the territory's extent",
                               ["domain"], registry=registry)


UNSERVED_PARTS = frozenset({"subscriptions", "csourceRegistrations", "csourceSubscriptions",
                            "entityOperations", "temporal", "jsonldContexts", "info"})


def problem(status: int, kind: str, title: str, detail: str = "", **extra: Any) -> Response:
    """An NGSI-LD error body (ProblemDetails: type, title, detail)."""
    body = {"type": ERRORS + kind, "title": title, "status": status, "detail": detail, **extra}
    return Response(_encode(body), status=status, mimetype="application/json")


def create_ngsi_blueprint(reader: Reader, forward: Forward, *, authorize: Authorize, metrics: Metrics | None = None,
                          area: outbound.AreaLookup | None = None, extent: Extent | None = None,
                          max_body_bytes: int = MAX_PAYLOAD_BYTES, clock: Callable[[], float] = time.time) -> Blueprint:
    """Build the NGSI blueprint: `forward(channel, payload)` hands entities to the relay, `area(id)` places groups.

    `extent` (min lon, min lat, max lon, max lat; services.territory.geo.extent): entities located wholly outside
    it are taken, with a warning in the answer, and counted in vigie_ngsi_outside_extent_total{domain}."""
    bp = Blueprint("vigie_ngsi", __name__)
    counters = NgsiMetrics((metrics or Metrics()).registry)
    log_budget = {"start": 0.0, "n": 0}

    def note(line: str) -> None:
        now = time.monotonic()
        if now - log_budget["start"] > 60.0:
            log_budget.update(start=now, n=0)
        log_budget["n"] += 1
        if log_budget["n"] <= 20:
            log.warning("NGSI notification: %s", line[:400])

    def refuse(api: str, status: int, reason: str, detail: str, *, counted: bool = False, **extra: Any) -> Response:
        counters.notifications.labels(api, "refused").inc()
        if not counted:  # entities refused one by one were counted (and logged) already
            counters.refused.labels(reason).inc()
            note(f"{api} refused ({reason}): {detail}")
        kind = {400: "InvalidRequest", 413: "InvalidRequest", 415: "InvalidRequest", 503: "InternalError"}.get(status, "BadRequestData")
        return problem(status, kind, "Notification refused", detail, reason=reason, **extra)

    def lookup(asset_id: str) -> str | None:
        try:
            found = reader.asset(asset_id)
        except ReaderUnavailable:
            return None
        return found.get("domain") if found else None

    def owner_elsewhere(m: Mapped, supervisor: str) -> str | None:
        """The other supervisor an entity's asset already belongs to (the same id from another tenant), if any."""
        aid = _asset_of(m)
        try:
            found = reader.asset(aid) if aid else None
        except ReaderUnavailable:
            return None  # the engine refuses it then (counted in its rejections)
        owner = found.get("supervisor") if found else None
        return owner if owner and owner != supervisor else None

    def hand_over(intake: Intake, source: str, context: Any, fmt: str | None, errors: list[dict]) -> tuple[list[str], dict]:
        """Forward each domain's entities the token may feed; return (ids taken, warnings by id)."""
        success: list[str] = []
        warnings: dict[str, list[str]] = {}
        for domain, mapped in intake.mapped.items():
            allowed = authorize(NOTIFY, domain)
            if not allowed.allowed:
                errors += [_entity_error(m.entity_id, "forbidden_domain", allowed.message, m.entity_type, "Forbidden") for m in mapped]
                continue
            supervisor = source_supervisor(source, domain)
            owners = [owner_elsewhere(m, supervisor) for m in mapped]
            errors += [_entity_error(m.entity_id, "other_source", f"asset {_asset_of(m)} belongs to {owner}: the same id from another "
                                     "source or tenant (Fiware-Service, NGSILD-Tenant) is refused, never merged", m.entity_type, "AlreadyExists")
                       for m, owner in zip(mapped, owners) if owner]
            raw = [e for e, owner in zip(intake.raw[domain], owners) if not owner]
            mapped = [m for m, owner in zip(mapped, owners) if not owner]
            if not mapped:
                continue
            forward(ngsi_channel(domain, supervisor), forward_body(raw, context, fmt))
            success += [m.entity_id for m in mapped]
            warnings.update({m.entity_id: list(m.warnings) for m in mapped if m.warnings})
            for m in mapped:
                if extent is not None and m.asset is not None and (far := outside(m.asset.geometry, extent)) is not None:
                    counters.outside.labels(domain).inc()
                    warnings.setdefault(m.entity_id, []).append(
                        f"located at {far[0]:.5f}, {far[1]:.5f} (lon, lat), outside the territory's extent: check its coordinates")
                    note(f"source {source}: entity {m.entity_id!r} located outside the territory's extent ({far[0]:.3f}, {far[1]:.3f})")
        return success, warnings

    def notify(api: str) -> Response:
        verdict = authorize(NOTIFY, None)
        if not verdict.allowed:
            return _not_allowed(verdict)
        source = request.args.get("source") or request.headers.get("Fiware-Service") or request.headers.get("NGSILD-Tenant") or "default"
        if not SOURCE.match(source):
            return refuse(api, 400, "bad_source", "source must be 1 to 40 of A-Z a-z 0-9 _ - (?source=... or Fiware-Service)")
        hint = request.args.get("domain") or None
        if hint is not None and hint not in DOMAINS:
            return refuse(api, 400, "bad_domain", f"domain must be one of {', '.join(DOMAINS)}")
        if (request.content_length or 0) > max_body_bytes:
            return refuse(api, 413, "too_large", f"the body is over {max_body_bytes} bytes")
        if request.mimetype not in JSON_TYPES:
            return refuse(api, 415, "bad_json", f"Content-Type must be one of {', '.join(JSON_TYPES)}")
        payload = request.stream.read(max_body_bytes + 1)
        try:
            body = decode_json(payload, max_body_bytes)
            context = _link_context(request.headers.get("Link")) if request.mimetype == "application/json" else None
            fmt = request.headers.get("Ngsiv2-AttrsFormat")
            intake = map_notification(body, now=datetime.fromtimestamp(clock(), timezone.utc), hint=hint, lookup=lookup,
                                      context=context, attrs_format=fmt)
        except NotificationError as err:
            status = {"too_large": 413, "bad_json": 400, "bad_encoding": 400}.get(err.reason, 422)
            return refuse(api, status, err.reason, str(err))
        errors = [_entity_error(r.entity_id, r.reason, r.detail, r.entity_type) for r in intake.refused]
        try:
            success, warnings = hand_over(intake, source, context, fmt, errors)
        except NotTaken as err:
            return refuse(api, 503, err.reason, str(err))
        for e in errors:
            counters.refused.labels(e["reason"]).inc()
            note(f"{api} source {source}: entity {e['entityId']!r} refused: {e['reason']} ({e['error']['detail'][:200]})")
        if not success and errors:
            return refuse(api, 422, errors[0]["reason"], "no entity of this notification could be taken", counted=True, errors=errors)
        if not success:
            return refuse(api, 422, "not_a_notification", "the notification carries no entity")
        outcome = "partial" if errors else "accepted"
        counters.notifications.labels(api, outcome).inc()
        body_out = {"success": success, "errors": errors, "warnings": warnings}
        return Response(_encode(body_out), status=207 if errors else 200, mimetype="application/json")

    @bp.post("/ngsi/v2/notify")
    def notify_v2() -> Response:
        return notify("v2")

    @bp.post("/ngsi-ld/v1/notify")
    def notify_ld() -> Response:
        return notify("ld")

    @bp.route("/ngsi-ld/<path:rest>", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
    def not_served(rest: str) -> Response:
        """Never the Dash page under /ngsi-ld/: a ProblemDetails body (501 for the API's parts Vigie does not serve)."""
        part = rest.split("/")[1] if rest.startswith("v1/") and rest.count("/") >= 1 else ""
        if part in UNSERVED_PARTS or request.method not in ("GET", "HEAD"):
            return problem(501, "OperationNotSupported", "Not implemented",
                           f"Vigie's NGSI-LD API is read-only and serves /ngsi-ld/v1/entities; {request.method} /ngsi-ld/{rest} is not served")
        return problem(404, "ResourceNotFound", "Not found", f"no NGSI-LD resource /ngsi-ld/{rest}")

    # --- the read-only NGSI-LD API ------------------------------------------------------------

    def guard_read() -> Response | None:
        verdict = authorize(READ, None)
        if not verdict.allowed:
            return _not_allowed(verdict)
        if request.headers.get("Accept") and request.accept_mimetypes.best_match(JSON_TYPES) is None:  # none: JSON
            return problem(406, "NotAcceptable", "Not acceptable",
                           f"Vigie's NGSI-LD API answers {', '.join(JSON_TYPES)}; Accept: {request.headers.get('Accept', '')[:100]}")
        return None

    @bp.get("/ngsi-ld/v1/entities")
    def entities() -> Response:
        if (refused := guard_read()) is not None:
            return refused
        try:
            args = request.args
            if args.get("idPattern"):
                raise QueryError("idPattern is not supported; list the ids with id=", "OperationNotSupported")
            if not any(args.get(k) for k in ("type", "id", "q", "georel", "attrs", "pick")):
                raise QueryError("a query needs a selector: type, id, q, attrs or a geo-query (georel); "
                                 "GET /ngsi-ld/v1/types lists the types")
            limit, offset = paging(args.get("limit"), args.get("offset"))
            types = {short_name(t.strip()) for t in args["type"].split(",") if t.strip()} if args.get("type") else None
            ids = [i.strip() for i in args["id"].split(",") if i.strip()] if args.get("id") else None
            q = parse_q(args["q"]) if args.get("q") else None
            geo = parse_geo(args.get("georel"), args.get("geometry"), args.get("coordinates"), args.get("geoproperty"))
            total, page = _select(reader, types, ids, q, geo, area, offset, limit)
        except QueryError as err:
            return problem({"OperationNotSupported": 422, "TooManyResults": 403}.get(err.kind, 400), err.kind, "Bad query", str(err))
        except ReaderUnavailable:
            return problem(503, "InternalError", "Unavailable", "the live state cannot be read right now")
        response = _respond(page, args)
        if args.get("count") == "true":
            response.headers["NGSILD-Results-Count"] = str(total)
        return response

    @bp.get("/ngsi-ld/v1/entities/<path:entity_id>")
    def entity(entity_id: str) -> Response:
        if (refused := guard_read()) is not None:
            return refused
        try:
            out = _one(reader, entity_id, area)
        except ReaderUnavailable:
            return problem(503, "InternalError", "Unavailable", "the live state cannot be read right now")
        if out is None:
            return problem(404, "ResourceNotFound", "Entity not found", f"no entity {entity_id[:200]!r}")
        return _respond(out, request.args)

    def _served() -> dict[str, tuple[int, set[str]]]:
        """Every type served: (how many entities, their attribute names); maps every entity (a second or two)."""
        found: dict[str, tuple[int, set[str]]] = {}
        for a in reader.assets(offset=0, limit=10_000_000)[1]:
            for out in outbound.asset_entities(a, area=area):
                n, names = found.get(out.type, (0, set()))
                found[out.type] = (n + 1, names | (out.entity.keys() - {"id", "type"}))
        for al in reader.alarms(active_only=True):
            n, names = found.get("Alert", (0, set()))
            found["Alert"] = (n + 1, names | (alerts.alarm_entity(al).entity.keys() - {"id", "type"}))
        return found

    def _served_or_refusal() -> dict | Response:
        """What is served by type, for a reader allowed to read it; else the refusal or the 503 to answer."""
        if (refused := guard_read()) is not None:
            return refused
        try:
            return _served()
        except ReaderUnavailable:
            return problem(503, "InternalError", "Unavailable", "the live state cannot be read right now")

    def _listing(body: Any) -> Response:
        response = Response(_encode(body), mimetype="application/json")
        response.headers["Link"] = f'<{url_for(".context", _external=True)}>; {LINK_REL}'
        return response

    @bp.get("/ngsi-ld/v1/types")
    def types() -> Response:
        served = _served_or_refusal()
        if isinstance(served, Response):
            return served
        if request.args.get("details") == "true":
            return _listing([{"id": t, "type": "EntityType", "typeName": t, "attributeNames": sorted(names)}
                             for t, (_, names) in sorted(served.items())])
        return _listing({"id": "urn:ngsi-ld:EntityTypeList:vigie", "type": "EntityTypeList", "typeList": sorted(served)})

    @bp.get("/ngsi-ld/v1/types/<name>")
    def one_type(name: str) -> Response:
        served = _served_or_refusal()
        if isinstance(served, Response):
            return served
        wanted = short_name(name)
        if wanted not in served:
            return problem(404, "ResourceNotFound", "Type not found", f"Vigie serves no entity of type {name[:100]!r}")
        count, names = served[wanted]
        return _listing({"id": wanted, "type": "EntityTypeInfo", "typeName": wanted, "entityCount": count,
                         "attributeDetails": [{"id": a, "type": "Attribute", "attributeName": a, "typeNames": [wanted]}
                                              for a in sorted(names)]})

    @bp.get("/ngsi-ld/v1/attributes")
    def attributes() -> Response:
        served = _served_or_refusal()
        if isinstance(served, Response):
            return served
        names = sorted(set().union(*(n for _, n in served.values())) if served else set())
        if request.args.get("details") == "true":
            return _listing([{"id": a, "type": "Attribute", "attributeName": a,
                              "typeNames": sorted(t for t, (_, n) in served.items() if a in n)} for a in names])
        return _listing({"id": "urn:ngsi-ld:AttributeList:vigie", "type": "AttributeList", "attributeList": names})

    @bp.get("/ngsi-ld/v1/jsonldContexts/vigie.jsonld")
    def context() -> Response:
        subjects = sorted(set(outbound.SUBJECT.values()))
        doc = {"@context": [*(SDM_CONTEXT_URL.format(subject=s) for s in subjects),
                            {"vigie": "urn:vigie:", **extension_terms(subjects, outbound.EXTENSIONS)}, CORE_CONTEXT_URL]}
        return Response(_encode(doc), mimetype="application/ld+json")

    return bp


def _not_allowed(verdict: Verdict) -> Response:
    return problem(verdict.http_status, "Unauthorized" if verdict.http_status == 401 else "Forbidden", "Not allowed", verdict.message)


def _entity_error(entity_id: str, reason: str, detail: str, entity_type: str = "", kind: str = "BadRequestData") -> dict:
    """One refused entity in a notification's answer."""
    return {"entityId": entity_id, "type": entity_type, "reason": reason,
            "error": {"type": ERRORS + kind, "title": reason, "detail": detail}}


def _asset_of(m: Mapped) -> str | None:
    """The asset an entity defines or gives a reading of (None for an alert: its alarm is its source's own)."""
    if m.asset is not None:
        return m.asset.id
    return getattr(m.reading, "asset", None)


def _link_context(header: str | None) -> list[str] | None:
    """The context URL of a `Link: <url>; rel="http://www.w3.org/ns/json-ld#context"` header."""
    if not header:
        return None
    for part in header.split(",")[:8]:
        url, _, params = part.partition(";")
        if "json-ld#context" in params and url.strip().startswith("<") and url.strip().endswith(">"):
            return [url.strip()[1:-1]]
    return None


def _vigie_types(types: set[str] | None) -> list[str | None]:
    """The Vigie asset types to read for these Smart Data Models types ([None]: all)."""
    if types is None:
        return [None]
    wanted = {vt for vt, sdm in outbound.SDM_TYPE.items() if {sdm, *outbound.ALSO.get(sdm, ())} & types}
    if "WaterQualityObserved" in types:
        wanted.add("Device")
    return sorted(wanted)


def _select(reader: Reader, types: set[str] | None, ids: list[str] | None, q, geo, area,
            offset: int, limit: int) -> tuple[int, list[outbound.Out]]:
    """(how many entities match, the asked page of them), ordered by id; only the page is mapped unless `q` needs all."""
    if ids is not None:
        outs = [o for o in (_one(reader, i, area) for i in dict.fromkeys(ids[:1000])) if o is not None]
        outs = [o for o in outs if (types is None or o.type in types) and (q is None or q(o.entity))
                and (geo is None or matches_geo(o.entity, geo))]
        outs.sort(key=lambda o: o.entity["id"])
        return len(outs), outs[offset : offset + limit]
    bbox = geo.bbox if geo is not None else None
    rows: list[tuple[str, Callable[[], outbound.Out]]] = []
    assets: dict[str, dict] = {}
    if types is None or types - {"Alert"}:
        for vt in _vigie_types(types):
            for a in reader.assets(type=vt, bbox=bbox, offset=0, limit=10_000_000)[1]:
                assets[a["id"]] = a
                if geo is not None and not matches_geo({"location": a.get("geometry")}, geo):
                    continue
                for sdm in outbound.sdm_types_of(a):
                    if types is None or sdm in types:
                        rows.append((outbound.entity_id(a["id"], sdm), lambda a=a, sdm=sdm: outbound.asset_entity(a, area=area, sdm=sdm)))
    if types is None or "Alert" in types:
        for al in reader.alarms(active_only=True):
            subject = assets.get(al["asset"]) if al["asset"] in assets else reader.asset(al["asset"])
            if geo is None or (subject is not None and matches_geo({"location": subject.get("geometry")}, geo)):
                rows.append((outbound.ngsi_id(al["id"], "Alert"), lambda al=al, s=subject: alerts.alarm_entity(al, s)))
    rows.sort(key=lambda r: r[0])
    if q is None:
        return len(rows), [make() for _, make in rows[offset : offset + limit]]
    outs = [o for o in (make() for _, make in rows) if q(o.entity)]
    return len(outs), outs[offset : offset + limit]


def _one(reader: Reader, entity_id: str, area) -> outbound.Out | None:
    """The entity with this NGSI-LD id: an asset, or an active alarm's Alert."""
    if entity_id.startswith("urn:ngsi-ld:Alert:"):
        for alarm in reader.alarms(active_only=True):
            if outbound.ngsi_id(alarm["id"], "Alert") == entity_id:
                return alerts.alarm_entity(alarm, reader.asset(alarm["asset"]))
    for candidate in outbound.local_candidates(entity_id):
        asset = reader.asset(candidate)
        if asset is not None:
            for sdm in outbound.sdm_types_of(asset):
                if outbound.entity_id(asset["id"], sdm) == entity_id:
                    return outbound.asset_entity(asset, area=area, sdm=sdm)
    return None


def _respond(found: outbound.Out | list[outbound.Out], args) -> Response:
    """Render in the asked representation: normalized or keyValues, JSON-LD or JSON with a Link header, or GeoJSON."""
    options = {o.strip() for o in (args.get("options") or "").split(",")}
    key_values = "keyValues" in options or args.get("format") in ("keyValues", "simplified") or "simplified" in options
    attrs = {a.strip() for a in (args.get("attrs") or args.get("pick") or "").split(",") if a.strip()}
    accept = request.accept_mimetypes
    ld = accept.best_match(["application/json", "application/ld+json", "application/geo+json"]) == "application/ld+json"
    geojson = accept.best_match(["application/json", "application/ld+json", "application/geo+json"]) == "application/geo+json"
    items = found if isinstance(found, list) else [found]
    docs = [_pick(outbound.render(o, key_values=key_values, with_context=ld), attrs) for o in items]
    if geojson:
        features = [{"id": d["id"], "type": "Feature", "geometry": o.entity.get("location"),
                     "properties": {k: v for k, v in d.items() if k != "id"}} for o, d in zip(items, docs)]
        body: Any = {"type": "FeatureCollection", "features": features} if isinstance(found, list) else features[0]
        return Response(_encode(body), mimetype="application/geo+json")
    body = docs if isinstance(found, list) else docs[0]
    response = Response(_encode(body), mimetype="application/ld+json" if ld else "application/json")
    if not ld:
        response.headers["Link"] = f'<{url_for(".context", _external=True)}>; {LINK_REL}'
    return response


def _pick(doc: dict, attrs: set[str]) -> dict:
    if not attrs:
        return doc
    return {k: v for k, v in doc.items() if k in ("id", "type", "@context") or k in attrs}
