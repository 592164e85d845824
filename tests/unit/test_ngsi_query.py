"""NGSI-LD query language on keyValues entities: q, geo-queries, paging (the table is the spec)."""
from __future__ import annotations

import pytest

from services.ngsi.query import QueryError, matches_geo, paging, parse_geo, parse_q

LAMP = {"id": "urn:ngsi-ld:Streetlight:l1", "type": "Streetlight", "status": "ok", "powerState": "low", "illuminanceLevel": 0.5,
        "name": "Rue \"Foch\"", "congested": False, "refs": ["a", "b"], "pressure": {"value": 4.2},
        "location": {"type": "Point", "coordinates": [3.8767, 43.6108]}}


@pytest.mark.parametrize(("q", "matches"), [
    ('status=="ok"', True),
    ("status==ok", True),
    ('status!="ok"', False),
    ("powerState==on,low", True),
    ("powerState!=on,off", True),
    ("illuminanceLevel>0.4", True),
    ("illuminanceLevel>=0.5;illuminanceLevel<=0.5", True),
    ("illuminanceLevel<0.5", False),
    ("illuminanceLevel==0.4..0.6", True),
    ("illuminanceLevel!=0.4..0.6", False),
    ("congested==false", True),
    ('name=="Rue \\"Foch\\""', True),
    ("refs==b", True),
    ("pressure>4", True),
    ("status==broken|illuminanceLevel>0.4", True),
    ("(status==broken|powerState==low);illuminanceLevel<0.1", False),
    ("missing==1", False),
    ("missing!=1", False),
    ("status", True),
    ("!missing", True),
    ("status>5", False),
])
def test_q(q: str, matches: bool) -> None:
    assert parse_q(q)(LAMP) is matches


@pytest.mark.parametrize(("q", "kind"), [
    ("status==", "BadRequestData"), ("==ok", "BadRequestData"), ("(status==ok", "BadRequestData"), ("status==ok;", "BadRequestData"),
    ("a.b==1", "BadRequestData"), ("name~=Fo.*", "OperationNotSupported"), ("x" * 1001, "BadRequestData"),
])
def test_q_refusals(q: str, kind: str) -> None:
    with pytest.raises(QueryError) as err:
        parse_q(q)
    assert err.value.kind == kind


@pytest.mark.parametrize(("georel", "geometry", "coordinates", "matches"), [
    ("near;maxDistance==100", "Point", "[3.8767,43.6108]", True),
    ("near;maxDistance==100", "Point", "[3.8800,43.6108]", False),  # 266 m east
    ("near;minDistance==100", "Point", "[3.8800,43.6108]", True),
    ("within", "Polygon", "[[[3.87,43.60],[3.88,43.60],[3.88,43.62],[3.87,43.62],[3.87,43.60]]]", True),
    ("within", "Polygon", "[[[3.88,43.60],[3.89,43.60],[3.89,43.62],[3.88,43.62],[3.88,43.60]]]", False),
    ("intersects", "Polygon", "[[[3.87,43.60],[3.88,43.60],[3.88,43.62],[3.87,43.62],[3.87,43.60]]]", True),
    ("disjoint", "Polygon", "[[[3.87,43.60],[3.88,43.60],[3.88,43.62],[3.87,43.62],[3.87,43.60]]]", False),
])
def test_geo_queries(georel: str, geometry: str, coordinates: str, matches: bool) -> None:
    geo = parse_geo(georel, geometry, coordinates, None)
    assert matches_geo(LAMP, geo) is matches
    if geo.bbox is not None and matches:
        x0, y0, x1, y1 = geo.bbox
        assert x0 <= 3.8767 <= x1 and y0 <= 43.6108 <= y1


def test_a_line_is_placed_at_its_middle_vertex() -> None:
    road = {"location": {"type": "LineString", "coordinates": [[3.0, 43.0], [3.8767, 43.6108], [4.0, 44.0]]}}
    assert matches_geo(road, parse_geo("near;maxDistance==10", "Point", "[3.8767,43.6108]", None))
    assert not matches_geo({"type": "StreetlightGroup"}, parse_geo("near;maxDistance==10", "Point", "[3.8767,43.6108]", None))


@pytest.mark.parametrize(("georel", "geometry", "coordinates", "geoproperty", "kind"), [
    ("near;maxDistance==100", "Point", None, None, "BadRequestData"),
    ("near;maxDistance==100", "Point", "3.87,43.61", None, "BadRequestData"),
    ("near;maxDistance==100", "Point", "[200,43]", None, "BadRequestData"),
    ("near", "Point", "[3.87,43.61]", None, "BadRequestData"),
    ("near;maxDistance==100", "Polygon", "[3.87,43.61]", None, "BadRequestData"),
    ("within", "Polygon", "[[[3.87,43.60],[3.88,43.60],[3.88,43.62]]]", None, "BadRequestData"),
    ("within", "Point", "[3.87,43.61]", None, "BadRequestData"),
    ("equals", "Point", "[3.87,43.61]", None, "OperationNotSupported"),
    ("near;maxDistance==100", "Point", "[3.87,43.61]", "observationSpace", "OperationNotSupported"),
])
def test_geo_refusals(georel, geometry, coordinates, geoproperty, kind) -> None:
    with pytest.raises(QueryError) as err:
        parse_geo(georel, geometry, coordinates, geoproperty)
    assert err.value.kind == kind


@pytest.mark.parametrize(("limit", "offset", "expected"), [(None, None, (20, 0)), ("0", "5", (0, 5)), ("1000", "0", (1000, 0))])
def test_paging(limit, offset, expected) -> None:
    assert paging(limit, offset) == expected


@pytest.mark.parametrize(("limit", "offset"), [("1001", None), ("-1", None), ("x", None), (None, "-3")])
def test_paging_refusals(limit, offset) -> None:
    with pytest.raises(QueryError):
        paging(limit, offset)
