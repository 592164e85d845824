"""The maintenance team's faults list: rows by cabinet with the cabinet's own name, the age from the alarm."""
from __future__ import annotations

from services.history.lighting_faults import fault_rows


def lamp(i: int, condition: str, cabinet: str = "cab-1") -> dict:
    return {"id": f"lamp-{i}", "type": "Streetlight", "name": f"Lanterne {i}, Rue de la Loge", "condition": condition,
            "refs": {"cabinet": cabinet, "street": "street-7"}, "values": {"status": "defectiveLamp"}, "updated": 100.0 + i}


def test_a_faulty_lamp_is_listed_under_its_cabinets_name_and_dated_by_its_alarm():
    alarms = [{"domain": "lighting", "active": True, "asset": "lamp-1", "raised_at": 50.0}]
    rows = fault_rows([lamp(1, "fault"), lamp(2, "normal")], alarms, {"cab-1": "Armoire 001, Rue de la Loge"})
    assert [(r.lamp, r.cabinet_name, r.since) for r in rows] == [("lamp-1", "Armoire 001, Rue de la Loge", 50.0)]


def test_a_cabinet_without_a_name_keeps_its_id_and_an_unalarmed_fault_its_reading_time():
    rows = fault_rows([lamp(3, "warning", "cab-9")], [])
    assert (rows[0].cabinet, rows[0].cabinet_name, rows[0].since) == ("cab-9", "", 103.0)
