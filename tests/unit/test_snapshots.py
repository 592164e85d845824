"""The engine's snapshot batches: identities written again only when they changed, values as they changed."""
from __future__ import annotations

import threading
from datetime import UTC, datetime

from services.contract import AssetDef, LightingReading, Point, State
from services.core import AssetsChanged, Hypervisor
from services.feed.snapshots import SnapshotBuilder, snap_key

T0 = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)


def lighting_state(seq: int, names: dict[int, str] | None = None, n: int = 4) -> State:
    names = names or {}
    return State[LightingReading](
        v=1, kind="state", domain="lighting", supervisor="lum", ts=T0, seq=seq, snapshot=f"s{seq}",
        assets=[AssetDef(id=f"lamp-{i}", type="Streetlight", name=names.get(i, f"Lampe {i}"), geometry=Point(coordinates=(3.87, 43.61)))
                for i in range(n)],
        readings=[LightingReading(asset=f"lamp-{i}", status="ok") for i in range(n)])


def feed(core: Hypervisor, builder: SnapshotBuilder, msg: State) -> None:
    for ev in core.handle(msg, T0.timestamp()):
        if isinstance(ev, AssetsChanged):
            builder.assets_defined(ev.domain, ev.asset_ids)


def test_a_state_naming_the_same_assets_again_rewrites_no_identity_only_the_one_that_changed():
    core, lock = Hypervisor(), threading.RLock()
    builder = SnapshotBuilder(core)
    feed(core, builder, lighting_state(1))
    first = builder.build(1.0, lock, full=True, bus_up=True)
    assert len(first.hashes[snap_key("assets", "lighting")]) == 4
    feed(core, builder, lighting_state(2))
    again = builder.build(2.0, lock, full=False, bus_up=True)
    assert again.hashes[snap_key("assets", "lighting")] == {} and builder.identities_skipped == 4
    feed(core, builder, lighting_state(3, names={2: "Lampe du pont"}))
    renamed = builder.build(3.0, lock, full=False, bus_up=True)
    assert list(renamed.hashes[snap_key("assets", "lighting")]) == ["lamp-2"]
    assert b"Lampe du pont" in renamed.hashes[snap_key("assets", "lighting")]["lamp-2"]


def test_a_full_batch_writes_every_identity_even_unchanged():
    core, lock = Hypervisor(), threading.RLock()
    builder = SnapshotBuilder(core)
    feed(core, builder, lighting_state(1))
    builder.build(1.0, lock, full=False, bus_up=True)
    assert len(builder.build(2.0, lock, full=True, bus_up=True).hashes[snap_key("assets", "lighting")]) == 4
