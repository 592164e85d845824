"""The command log in a real redis-server: newest version wins, listings filter, CSV is safe, retention trims."""
from __future__ import annotations

import pytest
import redis

from services.commands.store import CommandFilter, CommandStore, to_csv
from services.core.command_book import CommandBook
from services.core.command_effects import CommandRequest, Selection, plan_command
from services.core.commands import Step
from tests.command_world import TS, ack, world

pytestmark = pytest.mark.integration


@pytest.fixture
def store(redis_url):
    client = redis.Redis.from_url(redis_url)
    yield CommandStore(client, retention_days=1)
    client.close()


def records(n: int = 3) -> tuple[CommandBook, list]:
    state, book = world(), CommandBook()
    recs = []
    for i in range(n):
        domain, action, params, ids = (("lighting", "set_dimming", {"level": 30}, ("d1",)) if i % 2 == 0
                                       else ("water", "valve", {"position": 50}, ("valve-1",)))
        plan = plan_command(CommandRequest(domain, action, params, Selection(ids), reason="=cmd|' /C calc'!A0" if i == 2 else ""), state)
        rec, _ = book.open(plan, command_id=f"c-{i}", user="alice" if i else "bob", now=TS + i)
        recs.append(rec)
    book.on_ack(ack("c-0", "rejected", reason="no"), state, TS + 5)
    return book, recs


def test_the_newest_version_wins_whatever_the_order_of_writes(store) -> None:
    _, (_, rec) = records(2)
    old = rec.to_dict()
    rec.move(Step.SENT, TS + 1)
    new = rec.to_dict()
    assert new["rev"] > old["rev"]
    assert store.save([new]) == 1
    assert store.save([old]) == 0  # a late writer with an older version changes nothing
    assert store.get("c-1")["status"] == "sent" and store.get("c-1")["rev"] == new["rev"]


def test_listings_filter_and_page_newest_first(store) -> None:
    _, recs = records(3)
    store.save([r.to_dict() for r in recs])
    assert [s["id"] for s in store.query(CommandFilter())[1]] == ["c-2", "c-1", "c-0"]
    assert store.query(CommandFilter(domain="water"))[0] == 1
    assert store.query(CommandFilter(user="ALICE"))[0] == 2
    assert [s["id"] for s in store.query(CommandFilter(status="requested"), limit=1, offset=1)[1]] == ["c-1"]
    assert store.query(CommandFilter(status="rejected"))[1][0]["message"] == "no"
    assert store.query(CommandFilter(target="valve-1"))[0] == 1
    assert store.query(CommandFilter(since=TS + 1.5))[0] == 1
    assert "assets" not in store.query(CommandFilter())[1][0]  # summaries stay small
    assert len(store.recent(TS - 10)) == 3


def test_csv_neutralises_formulas(store) -> None:
    _, recs = records(3)
    text = to_csv([recs[2].to_dict()], str)
    assert text.startswith("id,requested_at,user") and "'=cmd|" in text


def test_retention_trims_the_index(store) -> None:
    _, recs = records(2)
    store.save([r.to_dict() for r in recs])
    assert store.trim(TS + 2 * 86400) == 2
    assert store.query(CommandFilter())[0] == 0
