"""The lighting faults list for the maintenance team: by cabinet and street, with age, exportable as CSV for a GMAO."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

FAULTY = ("fault", "warning")
CSV_COLUMNS = ("cabinet", "street", "district", "lamp", "name", "condition", "status", "since", "age_h")
MAX_ROWS = 100_000


@dataclass(frozen=True, slots=True)
class FaultRow:
    """One faulty lamp as the maintenance team reads it."""

    cabinet: str
    street: str
    district: str
    lamp: str
    name: str
    condition: str
    status: str
    since: float  # when the fault began: its alarm's raise time, else the reading that showed it
    cabinet_name: str = ""  # the cabinet's own name ("Armoire 012, Rue de la Loge"), when the supervisor gave one

    def age_h(self, now: float) -> float:
        """Hours since the fault began."""
        return max(0.0, now - self.since) / 3600


def fault_rows(assets: Iterable[dict], alarms: Iterable[dict], names: Mapping[str, str] | None = None) -> list[FaultRow]:
    """Faulty lamps sorted by cabinet, street, then oldest first (`names`: cabinet id -> its name)."""
    names = names or {}
    raised: dict[str, float] = {}
    for a in alarms:
        if a.get("domain") == "lighting" and a.get("active") and a.get("asset"):
            raised[a["asset"]] = min(raised.get(a["asset"], a.get("raised_at") or 0.0), a.get("raised_at") or 0.0)
    rows = []
    for a in assets:
        if a.get("condition") not in FAULTY or a.get("type") != "Streetlight":
            continue
        refs = a.get("refs") or {}
        rows.append(FaultRow(cabinet=str(refs.get("cabinet", "")), street=str(refs.get("street", "")),
                             district=str(refs.get("district", "")), lamp=a["id"], name=a.get("name") or "",
                             condition=a["condition"], status=str((a.get("values") or {}).get("status", "")),
                             since=raised.get(a["id"]) or a.get("updated") or 0.0,
                             cabinet_name=names.get(str(refs.get("cabinet", "")), "")))
    rows.sort(key=lambda r: (r.cabinet, r.street, r.since))
    return rows


def read_faults(reader: Any) -> list[FaultRow]:
    """The faults list now, from the reader."""
    assets: list[dict] = []
    for condition in FAULTY:
        _total, items = reader.assets(domain="lighting", condition=condition, limit=MAX_ROWS)
        assets.extend(items)
    names: dict[str, str] = {}
    for cabinet in {str((a.get("refs") or {}).get("cabinet", "")) for a in assets} - {""}:
        found = reader.asset(cabinet)
        if found and found.get("name"):
            names[cabinet] = str(found["name"])
    return fault_rows(assets, reader.alarms(active_only=True), names)


def _cell(value: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def faults_csv(rows: Iterable[FaultRow], now: float, fmt_time) -> str:
    """The list as CSV (`fmt_time(epoch)` writes the start time in the territory's time)."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(CSV_COLUMNS)
    for r in rows:
        w.writerow([_cell(r.cabinet), _cell(r.street), _cell(r.district), _cell(r.lamp), _cell(r.name), r.condition,
                    _cell(r.status), fmt_time(r.since), f"{r.age_h(now):.1f}"])
    return out.getvalue()
