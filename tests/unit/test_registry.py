"""The registry of supervisors in the pure core: ownership, limits, quarantine, two publishers, removal. Fixed clock."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from services.contract import Alarm, AlarmEvent, AssetDef, Heartbeat, LightingReading, Point, State, Telemetry, WaterReading
from services.core import CoreConfig, Hypervisor, StateNeeded
from services.core.events import AlarmsChanged, Refused, RegistryChanged
from services.core.identity import TWO_PUBLISHERS_TEXT, two_publishers_alarm
from services.core.registry import Declared, Origin, RegistryConfig, Standing

T0 = datetime(2026, 6, 21, 20, 0, tzinfo=timezone.utc)
NOW = T0.timestamp()
DECLARED = (Declared("eau-mtp", "water", 50), Declared("lum-mtp", "lighting", 100))


def core(approval: str = "open", auto: tuple[str, ...] = (), **more) -> Hypervisor:
    return Hypervisor(CoreConfig(late_after_s=10, stale_after_s=30, registry=RegistryConfig(
        approval=approval, auto_approve=auto, declared=DECLARED, **more)))


def env(kind: str, sup: str, seq: int, domain: str, dt: float = 0.0) -> dict:
    return {"v": 1, "kind": kind, "domain": domain, "supervisor": sup, "ts": T0 + timedelta(seconds=dt), "seq": seq}


def asset(aid: str) -> AssetDef:
    return AssetDef(id=aid, type="Valve" if aid.startswith("eau") else "Streetlight", name=aid, geometry=Point(coordinates=(3.87, 43.61)))


def state(sup: str, seq: int, ids: list[str], domain: str = "water", snapshot: str = "s1", part: int = 1, parts: int = 1,
          alarms: list[AlarmEvent] | None = None) -> State:
    reading = WaterReading if domain == "water" else LightingReading
    return State[reading](**env("state", sup, seq, domain), snapshot=snapshot, part=part, parts=parts, assets=[asset(a) for a in ids],
                          alarms=alarms or [])


def raise_(aid: str, asset_id: str, severity: str = "critical") -> AlarmEvent:
    return AlarmEvent(id=aid, asset=asset_id, action="raise", severity=severity, code="valve_fault", message="Vanne bloquée")


def alarm(sup: str, seq: int, *events: AlarmEvent, domain: str = "water") -> Alarm:
    return Alarm(**env("alarm", sup, seq, domain), events=list(events))


def beat(sup: str, seq: int, domain: str = "water") -> Heartbeat:
    return Heartbeat(**env("heartbeat", sup, seq, domain))


def refusals(events: list) -> list[str]:
    return [e.reason for e in events if isinstance(e, Refused)]


@pytest.fixture
def water() -> Hypervisor:
    """eau-mtp has defined its valves (eau-valve-1 .. eau-valve-10)."""
    hv = core()
    hv.handle(state("eau-mtp", 1, [f"eau-valve-{i}" for i in range(1, 11)]), NOW)
    return hv


# --- ownership and limits: what is refused, and why (nothing of it applied) ------------------------------------

REFUSED = [
    # (what, message, reason)
    ("a forged supervisor's urgent alarm on another's asset", alarm("evil-1", 1, raise_("x", "eau-valve-10")), "foreign_asset"),
    ("a forged state taking over another's asset", state("evil-1", 1, ["eau-valve-3", "evil-a"]), "foreign_asset"),
    ("a forged state listing an alarm on another's asset", state("evil-1", 1, ["evil-a"], alarms=[raise_("y", "eau-valve-2")]), "foreign_asset"),
    ("a declared supervisor over its maximum (50)", state("eau-mtp", 2, [f"eau-valve-{i}" for i in range(51)], snapshot="s2"), "too_many_assets"),
    ("an absurd number of parts (50,000 assets at most: 5,000 parts)", state("evil-1", 1, ["evil-a"], parts=10_000), "too_many_parts"),
    ("a supervisor in a domain it is not registered for", beat("eau-mtp", 2, domain="lighting"), "wrong_domain"),
]


@pytest.mark.parametrize("what,msg,reason", REFUSED, ids=[r[0] for r in REFUSED])
def test_a_message_about_someone_elses_asset_or_over_a_limit_is_refused_whole(water, what, msg, reason):
    assets_before = {a.id: a.supervisor for a in water.state.query()}
    events = water.handle(msg, NOW + 1)
    assert refusals(events) == [reason] and isinstance(events[-1], Refused)
    assert {a.id: a.supervisor for a in water.state.query()} == assets_before
    assert not [a for a in water.alarms.all() if a.source == "supervisor"]
    assert not any(isinstance(e, (StateNeeded, AlarmsChanged)) for e in events)


def test_a_refused_message_never_reaches_the_sequence_counter(water):
    water.handle(state("lum-mtp", 1, ["lum-0"], domain="lighting"), NOW)
    water.handle(alarm("eau-mtp", 2, raise_("x", "lum-0")), NOW + 1)  # refused: lum-0 is lum-mtp's
    events = water.handle(beat("eau-mtp", 3), NOW + 2)
    assert StateNeeded("water", "eau-mtp", "sequence_gap") in events  # 2 never counted: 3 is a gap, as the contract says


def test_a_forged_reading_of_another_supervisors_asset_is_refused_and_never_asks_for_a_state(water):
    msg = Telemetry[WaterReading](**env("telemetry", "evil-1", 1, "water"),
                                  readings=[WaterReading(asset="eau-valve-10", position=0.0), WaterReading(asset="evil-z", position=1.0)])
    events = water.handle(msg, NOW + 1)
    assert refusals(events) == ["foreign_asset"] and events[-1].partly
    assert water.state.get("eau-valve-10").values == {}
    assert StateNeeded("water", "evil-1", "unknown_asset") in events  # its own unknown asset, yes; not for eau-valve-10


def test_ownership_outlives_a_restart_before_the_owner_speaks_again():
    first = core()
    first.handle(state("eau-mtp", 1, ["eau-valve-10"]), NOW)
    saved = [e.to_record() for e in first.registry.all()], {e.id: sorted(e.assets) for e in first.registry.all()}
    fresh = core()
    fresh.restore_registry(*saved, NOW)
    events = fresh.handle(alarm("evil-1", 1, raise_("x", "eau-valve-10")), NOW + 1)  # eau-mtp has not sent its state yet
    assert refusals(events) == ["foreign_asset"] and fresh.alarms.get("evil-1/x") is None


def test_a_state_over_the_maximum_across_its_parts_takes_back_what_its_first_parts_added():
    hv = core(max_assets=50)  # a learned supervisor may declare 50 assets, in 5 parts at most
    parts = [state("evil-1", i, [f"evil-{i}-{k}" for k in range(20)], snapshot="big", part=i, parts=5) for i in range(1, 6)]
    hv.handle(parts[0], NOW)
    hv.handle(parts[1], NOW)
    assert len(hv.state.query(supervisor="evil-1")) == 40
    events = hv.handle(parts[2], NOW)
    assert refusals(events) == ["too_many_assets"]
    assert hv.state.query(supervisor="evil-1") == []  # nothing of the snapshot stays
    assert [refusals(hv.handle(p, NOW)) for p in parts[3:]] == [["too_many_assets"]] * 2  # nor do its later parts
    assert hv.state.query(supervisor="evil-1") == []


# --- quarantine --------------------------------------------------------------------------------------------------

def test_an_unknown_supervisor_is_held_in_quarantine_then_applied_when_approved():
    hv = core("required")
    held = [state("new-1", 1, ["new-a", "new-b"], alarms=[raise_("leak", "new-a", "major")]), beat("new-1", 2)]
    for m in held:
        events = hv.handle(m, NOW)
        assert RegistryChanged("new-1") in events and not refusals(events)
    assert hv.state.get("new-a") is None and hv.alarms.get("new-1/leak") is None and hv.health.get("new-1") is None
    (row,) = [r for r in hv.registry_view(NOW) if r["id"] == "new-1"]
    assert row["standing"] == "quarantined" and row["held"]["assets"] == 2 and row["held"]["alarms"] == 1
    outcome, events = hv.approve_supervisor("new-1", "alice", NOW + 5)
    assert outcome["result"] == "done"
    assert hv.state.get("new-a").supervisor == "new-1" and hv.alarms.get("new-1/leak").active
    assert hv.registry.get("new-1").origin is Origin.ENGINEER and hv.registry.get("new-1").decided_by == "alice"
    assert not any(isinstance(e, StateNeeded) for e in events)  # the whole state was held: nothing to ask


def test_a_quarantined_supervisor_shows_what_it_would_take_from_others(water):
    water.registry.config = RegistryConfig(approval="required", declared=DECLARED)
    water.handle(alarm("evil-1", 1, raise_("x", "eau-valve-10")), NOW)
    (row,) = [r for r in water.registry_view(NOW) if r["id"] == "evil-1"]
    assert row["held"]["foreign_alarms"] == 1 and row["held"]["alarm_sample"][0]["owner"] == "eau-mtp"


def test_a_rejected_supervisor_is_dropped_and_never_asked_for_a_state_again():
    hv = core("required")
    hv.handle(beat("evil-1", 1), NOW)
    outcome, _ = hv.reject_supervisor("evil-1", "alice", NOW)
    assert outcome["result"] == "done" and hv.registry.get("evil-1").standing is Standing.REJECTED
    assert refusals(hv.handle(beat("evil-1", 2), NOW + 1)) == ["rejected_supervisor"]
    assert hv.health.get("evil-1") is None
    assert not [e for e in hv.bus_restored(NOW + 2) if isinstance(e, StateNeeded) and e.supervisor == "evil-1"]


@pytest.mark.parametrize("approval,auto,sup,standing", [
    ("open", (), "lum-test", Standing.APPROVED),  # the default: first seen, approved (today's demo and tests)
    ("required", (), "lum-test", Standing.QUARANTINED),
    ("required", ("ngsi-*",), "ngsi-orion-mtp-lighting", Standing.APPROVED),
    ("required", ("ngsi-*",), "lum-test", Standing.QUARANTINED),
    ("required", (), "lum-mtp", Standing.APPROVED),  # declared in the file
])
def test_who_is_approved_at_first_sight(approval, auto, sup, standing):
    hv = core(approval, auto)
    hv.handle(beat(sup, 1, domain="lighting"), NOW)
    assert hv.registry.get(sup).standing is standing


def test_the_quarantine_has_room_for_a_bounded_number_of_unknown_supervisors():
    hv = core("required", max_quarantined=2)
    assert [refusals(hv.handle(beat(f"x-{i}", 1), NOW)) for i in range(3)] == [[], [], ["quarantine_full"]]


# --- two publishers on one id -----------------------------------------------------------------------------------

def interleaved(a_from: int, b_from: int, n: int) -> list[int]:
    return [s for pair in zip(range(a_from, a_from + n), range(b_from, b_from + n)) for s in pair]


@pytest.mark.parametrize("what,seqs,flagged", [
    ("one publisher, in order", list(range(2, 40)), False),
    ("a restart: a new counter, the old one never moves again", [*range(2, 10), *range(1, 30)], False),
    ("two restarts in a row", [*range(2, 10), *range(1, 5), *range(1, 30)], False),
    ("a few lost messages", [2, 3, 7, 8, 20, 21, 22], False),
    ("two counters interleaved", interleaved(500, 1, 20), True),
    ("two counters close to each other", interleaved(100, 98, 20), True),
    ("the same counter twice (duplicates)", interleaved(2, 2, 20), True),
])
def test_two_publishers_are_told_apart_from_a_restart(what, seqs, flagged):
    hv = core()
    hv.handle(state("lum-mtp", 1, ["lum-0"], domain="lighting"), NOW)
    for i, s in enumerate(seqs):
        hv.handle(beat("lum-mtp", s, domain="lighting"), NOW + i * 0.5)
    assert (hv.alarms.get(two_publishers_alarm("lum-mtp")) is not None) is flagged


def test_two_publishers_raise_one_alarm_and_no_state_request():
    hv = core()
    hv.handle(state("lum-mtp", 499, ["lum-0"], domain="lighting"), NOW)  # lum-mtp at 499; a second one starts at 1
    events = []
    for i, s in enumerate(interleaved(500, 1, 200)):  # 400 messages over 200 s
        events += hv.handle(beat("lum-mtp", s, domain="lighting"), NOW + i * 0.5)
        events += hv.tick(NOW + i * 0.5)
    raised = [a for a in hv.alarms.all() if a.source == "vigie"]
    assert [a.id for a in raised] == [two_publishers_alarm("lum-mtp")] and raised[0].raise_count == 1
    assert raised[0].message.startswith("Deux émetteurs pour lum-mtp") and raised[0].priority == "high"
    assert not [e for e in events if isinstance(e, StateNeeded)]
    assert hv.health.get("lum-mtp").gaps + hv.health.get("lum-mtp").restarts <= 3  # counted before the flag only
    assert hv.health.get("lum-mtp").status == "live"  # alive, twice over: not stale
    assert not [e for e in hv.bus_restored(NOW + 200) if isinstance(e, StateNeeded)]
    assert set(refusals(events)) == {"two_publishers"}


def test_two_snapshots_alternating_are_two_publishers():
    hv = core()
    events = []
    for i in range(6):
        snap = "a" if i % 2 == 0 else "b"
        events += hv.handle(state("lum-mtp", 1 + i, ["lum-0", "lum-1"], domain="lighting", snapshot=snap, part=1, parts=2), NOW + i)
    assert hv.alarms.get(two_publishers_alarm("lum-mtp")).active


def test_two_boot_ids_alternating_are_two_publishers():
    hv = core()
    hv.registry.admit(beat("lum-mtp", 1, domain="lighting"), NOW)
    watch = hv.registry.get("lum-mtp").watch
    cfg = hv.registry.config.publishers
    flags = [watch.note(100 + i, None, NOW + i, cfg, boot="b1" if i % 2 == 0 else "b2") for i in range(8)]  # one counter, two runs
    assert True in flags and watch.flagged


def test_a_new_boot_id_alone_is_a_restart():
    hv = core()
    hv.registry.admit(beat("lum-mtp", 1, domain="lighting"), NOW)
    watch, cfg = hv.registry.get("lum-mtp").watch, hv.registry.config.publishers
    assert [watch.note(i, None, NOW + i, cfg, boot="b1" if i < 5 else "b2") for i in range(2, 12)] == [None] * 10


def test_the_two_publishers_alarm_clears_when_one_publisher_is_left_for_a_while():
    hv = core()
    hv.handle(state("lum-mtp", 1, ["lum-0"], domain="lighting"), NOW)
    for i, s in enumerate(interleaved(500, 1, 10)):
        hv.handle(beat("lum-mtp", s, domain="lighting"), NOW + i * 0.5)
    assert hv.alarms.get(two_publishers_alarm("lum-mtp")).active
    t = NOW + 10
    events = []
    for k in range(70):  # only the first publisher goes on, one message a second
        events += hv.handle(beat("lum-mtp", 600 + k, domain="lighting"), t + k)
        events += hv.tick(t + k)
    assert not hv.alarms.get(two_publishers_alarm("lum-mtp")).active
    assert StateNeeded("lighting", "lum-mtp", "single_publisher") in events
    assert not refusals(hv.handle(beat("lum-mtp", 670, domain="lighting"), t + 71))


@pytest.mark.parametrize("lang,words", [("fr", "Deux émetteurs pour lum-mtp"), ("en", "Two publishers for lum-mtp")])
def test_the_two_publishers_alarm_speaks_the_sites_language_as_the_stale_alarm_does(lang, words):
    assert TWO_PUBLISHERS_TEXT[lang].format(supervisor="lum-mtp").startswith(words)


# --- removal -----------------------------------------------------------------------------------------------------

def test_a_removed_supervisor_takes_its_stale_alarm_and_its_assets_with_it():
    hv = core()
    hv.handle(state("old-1", 1, ["old-a"], alarms=[raise_("f", "old-a", "major")]), NOW)
    hv.tick(NOW + 31)
    assert hv.alarms.get("vigie/supervisor_stale/old-1").active
    outcome, events = hv.remove_supervisor("old-1", "alice", NOW + 40)
    assert outcome["result"] == "done"
    assert hv.alarms.get("vigie/supervisor_stale/old-1") is None and hv.alarms.get("old-1/f") is None
    assert hv.state.get("old-a") is None and hv.health.get("old-1") is None and hv.registry.get("old-1") is None
    assert [e.action for e in hv.alarms.take_journal() if e.alarm == "vigie/supervisor_stale/old-1"][-2:] == ["clear", "acknowledge"]
    hv.tick(NOW + 100)
    assert hv.alarms.get("vigie/supervisor_stale/old-1") is None  # not raised again


def test_a_declared_supervisor_is_removed_from_the_file_not_from_the_page(water):
    outcome, _ = water.remove_supervisor("eau-mtp", "alice", NOW)
    assert outcome["result"] == "refused" and water.registry.get("eau-mtp") is not None


def test_a_supervisor_the_file_no_longer_declares_goes_at_start_with_its_stale_alarm(water):
    water.tick(NOW + 31)
    saved = [e.to_record() for e in water.registry.all()]
    later = Hypervisor(CoreConfig(registry=RegistryConfig(declared=(DECLARED[1],))))
    later.alarms.restore([a.to_record() for a in water.alarms.all()])
    later.restore_registry(saved, {}, NOW + 60)
    assert later.registry.get("eau-mtp") is None and later.alarms.get("vigie/supervisor_stale/eau-mtp") is None
    assert "eau-mtp" in later.registry.take_changed()[0]  # the store forgets it too
