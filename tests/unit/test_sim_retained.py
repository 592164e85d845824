"""A simulated supervisor's retained state (contract v2): one version, its parts and its announcement."""
from __future__ import annotations

from datetime import datetime, timezone

import msgspec

from services.contract import AssetDef, Codec, Command, LightingReading, Point, StateReady, StateRequest, encode, sup_channel
from services.simulators.base import STATE_CHUNK, CommandResult, SupervisorSim

T0 = datetime(2026, 6, 21, 22, 0, tzinfo=timezone.utc)


class Lamps(SupervisorSim):
    """A lighting supervisor with `n` lamps, each step one of them changes."""

    domain = "lighting"

    def __init__(self, n: int) -> None:
        super().__init__("lum-t", seed=1, start=T0)
        self.ids = [f"lamp-{i:05d}" for i in range(n)]

    def asset_defs(self) -> list[AssetDef]:
        return [AssetDef(id=a, type="Streetlight", geometry=Point(coordinates=(3.87, 43.6))) for a in self.ids]

    def current_readings(self) -> list[LightingReading]:
        return [LightingReading(asset=a, status="ok", illuminanceLevel=0.5) for a in self.ids]

    def advance(self, now: datetime, dt_s: float) -> None:
        self.changed(LightingReading(asset=self.ids[0], illuminanceLevel=1.0))

    def check_command(self, cmd: Command) -> str | None:
        return None

    def apply_command(self, cmd: Command) -> CommandResult:
        return CommandResult()


def test_a_retained_version_is_the_full_state_in_parts_announced_with_one_sequence_number() -> None:
    sim = Lamps(STATE_CHUNK + 5)
    sim.step()
    seq = sim.seq
    version = sim.retained("b00t", 3, 1, 15.0)
    ready = version.ready
    assert (ready.v, ready.seq, ready.boot, ready.version, ready.snapshot) == (2, seq + 1, "b00t", 3, "b00t-3")
    assert (ready.parts, ready.assets, ready.definitions, ready.refresh_s) == (2, STATE_CHUNK + 5, 1, 15.0)
    assert sim.seq == seq + 1  # the parts are never published: they take no number of their own
    codec = Codec()
    parts = [codec.decode(sup_channel("lighting", "lum-t", "state"), p) for p in version.parts]
    assert [(p.seq, p.snapshot, p.part, p.parts) for p in parts] == [(seq + 1, "b00t-3", 1, 2), (seq + 1, "b00t-3", 2, 2)]
    assert sum(len(p.assets) for p in parts) == STATE_CHUNK + 5 and sum(len(p.readings) for p in parts) == STATE_CHUNK + 5
    assert codec.decode(sup_channel("lighting", "lum-t", "state_ready"), version.announcement()) == ready
    assert msgspec.json.decode(version.announcement(), type=StateReady) == ready


def test_a_simulator_that_retains_its_state_answers_a_request_without_a_full_state() -> None:
    sim = Lamps(3)
    request = encode(StateRequest(domain="lighting", supervisor="lum-t", ts=T0, request_id="r1", reason="sequence_gap"))
    assert [ch for ch, _ in sim.handle_command(request)] == ["sup.lighting.lum-t.state"]  # v1: the full state
    sim.retains = True
    assert sim.handle_command(request) == [] and sim.state_requested  # v2: its runner looks at Redis


def test_changes_published_mark_the_simulator_dirty_for_its_next_version() -> None:
    sim = Lamps(3)
    assert not sim.dirty
    sim.step()
    assert sim.dirty
