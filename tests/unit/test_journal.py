"""The journal: record lines, segments and their index, crash recovery, retention, history, exports."""
from __future__ import annotations

import base64
import io

import msgspec
import pytest

from services.journal import export as journal_export
from services.journal import files as jf
from services.journal.store import Journal, JournalBusy, JournalConfig
from tests.replay_world import T0, record


@pytest.mark.parametrize("payload, valid, stored", [
    (b'{"v":1,"kind":"heartbeat"}', True, "p"),
    (b"not json at all", False, "pb"),
    (b'{"unfinished":', False, "pb"),
    (b"\xff\xfe binary", False, "pb"),
])
def test_a_message_line_keeps_the_payload_byte_for_byte(payload, valid, stored):
    assert jf.is_json(payload) is valid
    rec = jf.decode_line(jf.message_line(T0, "sup.water.eau-t.heartbeat", payload, valid))
    assert (rec.t, rec.k, rec.ch) == (T0, "m", "sup.water.eau-t.heartbeat")
    assert rec.payload() == payload
    assert (rec.pb != "") is (stored == "pb")


def test_action_and_bus_lines_read_back():
    a = jf.decode_line(jf.action_line(T0, "alarms", {"alarm": "x/1", "action": "acknowledge", "who": "ana"}))
    b = jf.decode_line(jf.bus_line(T0 + 1, False, "connection refused"))
    assert (a.k, a.src, a.a["who"]) == ("a", "alarms", "ana")
    assert (b.k, b.up, b.why) == ("b", False, "connection refused")
    assert jf.decode_line(b'{"t": 1, "k": "m", "ch": "sup.a') is None  # a line cut by a crash


def test_segments_follow_the_clock_and_the_index_survives_a_restart(tmp_path):
    journal, _ = record(tmp_path, 7, segment_s=120)
    journal.close()
    names = sorted(p.name for p in tmp_path.glob("seg-*"))
    assert len(names) == 4 and all(n.endswith(".jsonl.zst") for n in names)  # 7 minutes in 2-minute windows
    reopened = Journal(JournalConfig(tmp_path, segment_s=120))
    assert reopened.span() == (T0, T0 + 420)
    times = [r.t for r in reopened.records(T0 + 115, T0 + 245)]
    assert times[0] == T0 + 120 and times[-1] == T0 + 240 and times == sorted(times)
    assert len(reopened.snapshots()) == 8  # one a minute, the first right after the states
    assert reopened.snapshot_before(T0 + 150).t == T0 + 120
    assert reopened.snapshot_before(T0 - 1) is None
    reopened.close()


def test_a_segment_left_open_by_a_crash_is_sealed_and_indexed_at_start(tmp_path):
    lines = [jf.message_line(T0 + i, "sup.lighting.lum-t.telemetry",
                             b'{"v":1,"kind":"telemetry","domain":"lighting","supervisor":"lum-t","ts":"2027-01-15T08:00:00Z",'
                             b'"seq":%d,"readings":[{"asset":"lamp-1","powerConsumption":%d.0}]}' % (i + 1, 10 + i), True) for i in range(3)]
    (tmp_path / f"seg-{jf.ms(T0)}.jsonl").write_bytes(b"".join(lines) + b'{"t": 1800000009, "k": "m", "ch"')
    journal = Journal(JournalConfig(tmp_path))
    assert journal.wait_idle()
    assert [p.name for p in tmp_path.glob("seg-*")] == [f"seg-{jf.ms(T0)}-{jf.ms(T0 + 2)}.jsonl.zst"]
    assert [r.t for r in journal.records(T0, T0 + 10)] == [T0, T0 + 1, T0 + 2]
    assert [v["powerConsumption"] for _, v in journal.asset_history("lamp-1", 0, 2e9)] == [10.0, 11.0, 12.0]
    journal.close()


def test_one_writer_per_folder_and_readers_see_what_it_wrote(tmp_path):
    journal, _ = record(tmp_path, 2)
    with pytest.raises(JournalBusy):
        Journal(JournalConfig(tmp_path))
    reader = Journal(JournalConfig(tmp_path), writer=False)
    assert reader.span() == journal.span()
    assert sum(1 for _ in reader.records(T0, T0 + 120)) == sum(1 for _ in journal.records(T0, T0 + 120))
    journal.close()
    Journal(JournalConfig(tmp_path)).close()  # the lock went with the writer


@pytest.mark.parametrize("max_age_s, max_bytes, kept_from", [
    (1e12, 10**12, T0),  # nothing to drop
    (150.0, 10**12, T0 + 360),  # age: segments ending more than 150 s before the newest record (T0 + 540) go
    (1e12, 1, T0 + 480),  # size: everything but the newest closed segment
])
def test_retention_drops_the_oldest_segments_and_what_only_they_needed(tmp_path, max_age_s, max_bytes, kept_from):
    journal, _ = record(tmp_path, 9, segment_s=120)
    journal.close()
    kept = Journal(JournalConfig(tmp_path, segment_s=120, max_age_s=max_age_s, max_bytes=max_bytes))
    kept.retain()
    assert kept.span()[0] == kept_from
    snaps = kept.snapshots()
    assert all(s.t >= kept_from or any(x.base == s.t for x in snaps) for s in snaps)  # older: a full image still needed
    hist = sorted(p.name for p in tmp_path.glob("hist-*"))
    assert len(hist) == len(kept.segments())
    assert len(list(tmp_path.glob("defs-*"))) == 1
    kept.close()


def test_asset_history_reads_closed_segments_and_the_open_one(tmp_path):
    journal, _ = record(tmp_path, 5, segment_s=120)
    journal.wait_idle()
    points = journal.asset_history("sensor-1", T0, T0 + 300)
    assert points and [t for t, _ in points] == sorted(t for t, _ in points)
    assert all(set(v) == {"pressure"} for _, v in points)
    assert points[-1][0] > T0 + 240  # from the segment still open
    assert len(journal.asset_history("sensor-1", T0 + 60, T0 + 119)) < len(points)
    assert journal.asset_history("nothing-like-it", T0, T0 + 300) == []
    journal.close()


def test_exports_carry_every_record_as_jsonl_and_the_readings_as_parquet(tmp_path):
    import pyarrow.parquet as pq

    journal, _ = record(tmp_path, 3)
    lines = list(journal_export.jsonl(journal, T0, T0 + 180))
    assert len(lines) == sum(1 for _ in journal.records(T0, T0 + 180))
    assert msgspec.json.decode(lines[0])["ch"].startswith("sup.")
    table = pq.read_table(io.BytesIO(journal_export.parquet(journal, T0, T0 + 180, "readings")))
    assert {"t", "ts", "domain", "supervisor", "asset", "pressure", "powerConsumption", "congested"} <= set(table.column_names)
    assert table.num_rows == 12 + 3 + 4 + 18 * 3  # the states, then one reading per domain and step
    messages = pq.read_table(io.BytesIO(journal_export.parquet(journal, T0, T0 + 180, "messages")))
    assert set(messages.column("kind").to_pylist()) == {"state", "telemetry", "alarm", "heartbeat"}
    journal.close()


def test_a_payload_that_is_not_json_is_exported_as_it_came(tmp_path):
    journal = Journal(JournalConfig(tmp_path))
    journal.message(T0, "sup.water.eau-t.telemetry", b"\x00garbage", False)
    journal.flush()
    line = msgspec.json.decode(next(journal_export.jsonl(journal, T0, T0)))
    assert base64.b64decode(line["pb"]) == b"\x00garbage"
    journal.close()


def test_snapshots_are_partial_between_full_images_and_thinned_to_full_ones_after_a_day(tmp_path):
    journal, _ = record(tmp_path, 40, snapshot_s=60, segment_s=600)
    journal.close()
    snaps = Journal(JournalConfig(tmp_path), writer=False).snapshots()
    assert [s.t - T0 for s in snaps if s.base is None] == [0.0, 1800.0]  # a full image every 30 minutes
    assert {s.base - T0 for s in snaps if s.base is not None} == {0.0, 1800.0}
    thinned = Journal(JournalConfig(tmp_path, segment_s=600, dense_s=600.0, sparse_s=900.0, max_age_s=1e12))
    thinned.retain()
    kept = [s.t - T0 for s in thinned.snapshots()]
    assert kept == [0.0] + [float(x) for x in range(1800, 2401, 60)]  # dense over the last 10 minutes only
    assert thinned.snapshot_before(T0 + 1000).t == T0
    thinned.close()
