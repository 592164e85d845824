"""The core and contract v2: a `state_ready` is announced, a retained state applies like a `state` but never
undoes what the live feed said after it was written, and only an approved supervisor's applies."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import msgspec
import pytest

from services.alarms.rationale_store import shipped_book
from services.contract import AlarmEvent, AssetDef, Heartbeat, LightingReading, State, StateReady, Telemetry
from services.contract.messages import Alarm
from services.core import Hypervisor
from services.core.events import AssetsChanged, Refused, StateAnnounced, StateApplied

T0 = datetime(2026, 6, 21, 22, 0, tzinfo=timezone.utc)
NOW = T0.timestamp() + 1.0
SUP = "lum-1"


def env(kind: str, seq: int, at: datetime = T0) -> dict:
    return {"v": 1, "kind": kind, "domain": "lighting", "supervisor": SUP, "ts": at, "seq": seq}


def part(n: int, parts: int, ids: list[str], *, at: datetime = T0, level: float = 0.5, alarms: list[AlarmEvent] = (),
         snapshot: str = "b1-1") -> State:
    """A retained part: a v1 `state` part carrying its announcement's seq (here 5)."""
    return State[LightingReading](**env("state", 5, at), snapshot=snapshot, part=n, parts=parts,
                                  assets=[AssetDef(id=a, type="Streetlight") for a in ids],
                                  readings=[LightingReading(asset=a, illuminanceLevel=level, status="ok") for a in ids],
                                  alarms=list(alarms))


def raise_(aid: str, asset: str, at: datetime) -> AlarmEvent:
    return AlarmEvent(id=aid, asset=asset, action="raise", severity="major", code="lamp_off", message="off", ts=at)


def clear(aid: str, asset: str, at: datetime) -> AlarmEvent:
    return AlarmEvent(id=aid, asset=asset, action="clear", severity="major", code="lamp_off", message="off", ts=at)


@pytest.fixture
def core() -> Hypervisor:
    """A core that has heard the supervisor once (so the open registry approved it)."""
    c = Hypervisor()
    c.handle(Heartbeat(**env("heartbeat", 1)), NOW)
    return c


def test_a_state_ready_is_announced_and_counts_in_the_sequence(core: Hypervisor) -> None:
    ready = StateReady(v=2, kind="state_ready", domain="lighting", supervisor=SUP, ts=T0, seq=2, boot="b1", version=1,
                       snapshot="b1-1", parts=1, assets=3, definitions=1, refresh_s=15.0)
    assert core.handle(ready, NOW) == [StateAnnounced("lighting", SUP, ready)]
    assert core.health.get(SUP).seq == 2 and core.health.get(SUP).gaps == 0


def test_a_retained_state_applies_part_by_part_and_reconciles_like_a_state(core: Hypervisor) -> None:
    first = core.apply_retained(part(1, 2, ["l1", "l2"]), NOW)
    assert AssetsChanged("lighting", SUP, ("l1", "l2")) in first and not any(type(e) is StateApplied for e in first)
    last = core.apply_retained(part(2, 2, ["l3"]), NOW)
    assert StateApplied("lighting", SUP, "b1-1", retained=True) in last
    assert sorted(a.id for a in core.state.query(supervisor=SUP)) == ["l1", "l2", "l3"]
    assert core.health.get(SUP).seq == 1  # a retained part was never published: the sequence is the live feed's
    core.apply_retained(part(1, 1, ["l1"], snapshot="b1-2"), NOW)  # the next version lists one lamp: the others go
    assert [a.id for a in core.state.query(supervisor=SUP)] == ["l1"]


def test_a_published_state_says_it_was_applied_too(core: Hypervisor) -> None:
    events = core.handle(part(1, 1, ["l1"]), NOW)
    assert StateApplied("lighting", SUP, "b1-1", retained=False) in events


def telemetry(seq: int, level: float, at: datetime = T0) -> Telemetry:
    return Telemetry[LightingReading](**env("telemetry", seq, at), readings=[LightingReading(asset="l1", illuminanceLevel=level)])


def test_a_reading_vigie_heard_after_the_version_stands(core: Hypervisor) -> None:
    core.apply_retained(part(1, 1, ["l1", "l2"], level=0.5), NOW)
    core.handle(telemetry(2, 1.0), NOW + 20)  # heard at +20 s
    core.apply_retained(part(1, 1, ["l1", "l2"], level=0.2, snapshot="b1-2"), NOW + 30, since=NOW + 10)  # a version of +10 s
    assert core.state.get("l1").values["illuminanceLevel"] == 1.0  # heard after the version: it stands
    assert core.state.get("l2").values["illuminanceLevel"] == 0.2  # not heard of since: the version's value


def test_the_version_counts_from_when_vigie_heard_it_announced(core: Hypervisor) -> None:
    ready = StateReady(v=2, kind="state_ready", domain="lighting", supervisor=SUP, ts=T0, seq=2, boot="b1", version=2,
                       snapshot="b1-2", parts=1, assets=1, definitions=1, refresh_s=15.0)
    core.apply_retained(part(1, 1, ["l1"], level=0.5), NOW)
    core.handle(ready, NOW + 10)  # written and announced at +10 s ...
    core.handle(telemetry(3, 1.0), NOW + 12)  # ... a change heard at +12 s ...
    core.apply_retained(part(1, 1, ["l1"], level=0.2, snapshot="b1-2"), NOW + 30, since=NOW + 29)  # ... read at +29 s
    assert core.state.get("l1").values["illuminanceLevel"] == 1.0


def test_what_vigie_hears_in_the_same_turn_as_the_announcement_stands(core: Hypervisor) -> None:
    ready = StateReady(v=2, kind="state_ready", domain="lighting", supervisor=SUP, ts=T0, seq=2, boot="b1", version=2,
                       snapshot="b1-2", parts=1, assets=2, definitions=1, refresh_s=15.0)
    core.apply_retained(part(1, 1, ["l1", "l2"], level=0.5, alarms=[raise_("off:l2", "l2", T0)]), NOW)
    core.handle(ready, NOW + 10)  # one engine turn (one clock reading): the announcement, then what the supervisor said next
    core.handle(telemetry(3, 1.0), NOW + 10)
    core.handle(Alarm(**env("alarm", 4), events=[raise_("off:l1", "l1", T0), clear("off:l2", "l2", T0)]), NOW + 10)
    core.apply_retained(part(1, 1, ["l1", "l2"], level=0.2, alarms=[raise_("off:l2", "l2", T0)], snapshot="b1-2"), NOW + 30,
                        since=NOW + 29)
    assert core.state.get("l1").values["illuminanceLevel"] == 1.0
    assert core.alarms.get(f"{SUP}/off:l1").active and not core.alarms.get(f"{SUP}/off:l2").active


def test_a_version_still_read_when_the_next_is_announced_counts_from_its_own_announcement(core: Hypervisor) -> None:
    def ready(seq: int, snapshot: str) -> StateReady:
        return StateReady(v=2, kind="state_ready", domain="lighting", supervisor=SUP, ts=T0, seq=seq, boot="b1", version=seq,
                          snapshot=snapshot, parts=1, assets=1, definitions=1, refresh_s=15.0)

    core.apply_retained(part(1, 1, ["l1"], level=0.5), NOW)
    core.handle(ready(2, "b1-2"), NOW + 10)  # announced at +10 s, its reading begins at +14 s (parts take a while) ...
    core.handle(Alarm(**env("alarm", 3), events=[raise_("off:l1", "l1", T0)]), NOW + 12)  # ... a fault heard at +12 s ...
    core.handle(ready(4, "b1-3"), NOW + 20)  # ... the next version announced before the last part of b1-2 is applied
    core.apply_retained(part(1, 1, ["l1"], level=0.2, snapshot="b1-2"), NOW + 30, since=NOW + 14)
    assert core.alarms.get(f"{SUP}/off:l1").active  # heard after b1-2 was announced: it stands


def test_a_restarted_supervisor_with_an_earlier_clock_still_sets_what_vigie_heard_before(core: Hypervisor) -> None:
    core.apply_retained(part(1, 1, ["l1", "l2"], level=0.5, alarms=[raise_("off:l1", "l1", T0)]), NOW)
    earlier = T0 - timedelta(hours=6)  # its clock went back (restarted with an earlier start): supervisor times do not order
    core.apply_retained(part(1, 1, ["l1", "l2"], at=earlier, level=0.2, snapshot="b2-1"), NOW + 60, since=NOW + 50)
    assert core.state.get("l1").values["illuminanceLevel"] == 0.2
    assert not core.alarms.get(f"{SUP}/off:l1").active


def test_a_later_version_applies_over_an_earlier_one_read_late(core: Hypervisor) -> None:
    core.apply_retained(part(1, 1, ["l1"], level=0.5), NOW + 20, since=NOW + 5)  # version 1, read late
    core.apply_retained(part(1, 1, ["l1"], level=0.2, snapshot="b1-2"), NOW + 30, since=NOW + 10)  # version 2 is newer
    assert core.state.get("l1").values["illuminanceLevel"] == 0.2


@pytest.mark.parametrize("live_at_s,version_at_s,active_after", [
    (20, 10, True),  # raised live after the version was written: the version does not clear it
    (5, 10, False),  # raised before, and the version does not list it: cleared
])
def test_a_retained_state_clears_only_alarms_raised_before_it(core: Hypervisor, live_at_s: int, version_at_s: int,
                                                              active_after: bool) -> None:
    core.apply_retained(part(1, 1, ["l1"]), NOW)
    core.handle(Alarm(**env("alarm", 2), events=[raise_("off:l1", "l1", T0)]), NOW + live_at_s)
    core.apply_retained(part(1, 1, ["l1"], snapshot="b1-2"), NOW + 30, since=NOW + version_at_s)
    assert core.alarms.get(f"{SUP}/off:l1").active is active_after


@pytest.mark.parametrize("cleared_at_s,version_at_s,active_after", [
    (20, 10, False),  # cleared live after the version: the version's standing alarm does not come back
    (5, 10, True),  # cleared before the version that lists it: raised again (the supervisor says it is on)
])
def test_a_retained_state_raises_again_only_alarms_not_cleared_since(core: Hypervisor, cleared_at_s: int, version_at_s: int,
                                                                     active_after: bool) -> None:
    core.handle(Alarm(**env("alarm", 2), events=[raise_("off:l1", "l1", T0)]), NOW)
    core.handle(Alarm(**env("alarm", 3), events=[clear("off:l1", "l1", T0)]), NOW + cleared_at_s)
    core.apply_retained(part(1, 1, ["l1"], alarms=[raise_("off:l1", "l1", T0)]), NOW + 30, since=NOW + version_at_s)
    assert core.alarms.get(f"{SUP}/off:l1").active is active_after


@pytest.mark.parametrize("raised_before", [False, True])
def test_a_clear_heard_before_the_raise_was_ever_applied_keeps_a_later_read_version_from_raising_it(
        core: Hypervisor, raised_before: bool) -> None:
    if raised_before:  # raised and cleared long ago: the alarm is held, not active
        core.handle(Alarm(**env("alarm", 2), events=[raise_("off:l1", "l1", T0)]), NOW)
        core.handle(Alarm(**env("alarm", 3), events=[clear("off:l1", "l1", T0)]), NOW + 1)
    # raised again while its messages were set aside (two publishers) or lost; the version written then lists it;
    # Vigie hears the version announced at +10 s, the clear at +20 s (a no-op here), and reads the version at +30 s
    core.handle(Alarm(**env("alarm", 4), events=[clear("off:l1", "l1", T0)]), NOW + 20)
    core.apply_retained(part(1, 1, ["l1"], alarms=[raise_("off:l1", "l1", T0)]), NOW + 30, since=NOW + 10)
    a = core.alarms.get(f"{SUP}/off:l1")
    assert a is None or not a.active


def test_a_maintenance_condition_forgotten_at_its_clear_is_not_raised_again_by_a_version_read_later(core: Hypervisor) -> None:
    """A lamp fault (class maintenance) is forgotten at its clear (nobody acknowledges it): the clear is remembered all
    the same, so a version written before it and read after does not raise it again (the chaos suite's ghost faults)."""
    core.alarms.set_rationale(shipped_book())  # as the runtime gives it: lamp faults are maintenance
    fault = AlarmEvent(id="lamp_fault:l1", asset="l1", action="raise", severity="minor", code="lamp_fault", message="Lampe", ts=T0)
    core.handle(Alarm(**env("alarm", 2), events=[fault]), NOW)
    core.handle(Alarm(**env("alarm", 3), events=[AlarmEvent(**{**msgspec.structs.asdict(fault), "action": "clear"})]), NOW + 20)
    assert core.alarms.get(f"{SUP}/lamp_fault:l1") is None  # forgotten at once
    core.apply_retained(part(1, 1, ["l1"], alarms=[fault]), NOW + 30, since=NOW + 10)
    a = core.alarms.get(f"{SUP}/lamp_fault:l1")
    assert a is None or not a.active


def test_the_retained_state_of_a_supervisor_not_approved_is_refused() -> None:
    core = Hypervisor()  # never heard of it: the registry has no entry
    [refused] = core.apply_retained(part(1, 1, ["l1"]), NOW)
    assert type(refused) is Refused and refused.reason == "not_approved"
    assert core.state.get("l1") is None
