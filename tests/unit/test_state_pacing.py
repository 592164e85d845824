"""Pacing of v1 state requests (services/feed/retained.py RequestPacer), on a fixed clock.

At most one request in flight per supervisor; a need waits a random 0..spread_s first; after the n-th
request in a row the next waits min(cap_s, base_s * 2**(n-1)) less up to `jitter` of it; a reconnect is
paced like any other need.
"""
from __future__ import annotations

import random

import pytest

from services.feed.retained import RequestPacer


class Extreme(random.Random):
    """An rng whose `uniform` always gives the low (or the high) end: the pacer's bounds, exactly."""

    def __init__(self, high: bool) -> None:
        super().__init__(0)
        self.high = high

    def uniform(self, a: float, b: float) -> float:
        return b if self.high else a


def pacer(high: bool = True, **kw) -> RequestPacer:
    return RequestPacer(rng=Extreme(high), **{"spread_s": 2.0, "base_s": 5.0, "cap_s": 120.0, "jitter": 0.2,
                                              "answer_timeout_s": 30.0, "quiet_s": 300.0, **kw})


def sent_times(p: RequestPacer, until: float, step: float = 0.25, answer: bool = True, reason: str = "sequence_gap") -> list[float]:
    """Need the supervisor's state at every step; answer each request at once (or never); return when requests went out."""
    out = []
    t = 0.0
    while t <= until:
        p.need("s", reason, t)
        for sup, _ in p.due(t):
            out.append(t)
            if answer:
                p.answered(sup)
        t = round(t + step, 6)
    return out


def gaps(times: list[float]) -> list[float]:
    return [round(b - a, 2) for a, b in zip(times, times[1:])]


def test_a_need_waits_its_jitter_then_one_request_goes_out() -> None:
    p = pacer(high=True)
    p.need("s", "sequence_gap", 100.0)
    assert p.due(101.9) == [] and p.next_due() == 102.0  # the high end of 0..spread_s
    assert p.due(102.0) == [("s", "sequence_gap")]
    low = pacer(high=False)
    low.need("s", "sequence_gap", 100.0)
    assert low.due(100.0) == [("s", "sequence_gap")]  # the low end: at once


def test_several_needs_before_the_request_make_one_request() -> None:
    p = pacer(high=False)
    for reason in ("sequence_gap", "unknown_asset", "overflow"):
        p.need("s", reason, 0.0)
    assert p.due(0.0) == [("s", "sequence_gap")] and p.due(0.0) == []


def test_at_most_one_request_is_in_flight_until_its_answer_or_its_timeout() -> None:
    p = pacer(high=False, base_s=1.0)
    p.need("s", "sequence_gap", 0.0)
    assert p.due(0.0)
    for t in (1.0, 5.0, 29.9):  # back-off long over, but the answer is awaited
        p.need("s", "sequence_gap", t)
        assert p.due(t) == [], t
    assert p.due(30.0) == [("s", "sequence_gap")]  # no answer in 30 s: the need goes out again
    p.answered("s")
    p.need("s", "unknown_asset", 40.0)
    assert p.due(40.0) == [("s", "unknown_asset")]


@pytest.mark.parametrize("high,expected", [
    (True, [5.0, 10.0, 20.0, 40.0, 80.0, 120.0, 120.0, 120.0]),  # no jitter taken off: the back-off itself, capped
    (False, [4.0, 8.0, 16.0, 32.0, 64.0, 96.0, 96.0, 96.0]),  # all 20 % of jitter taken off
])
def test_the_back_off_doubles_from_base_to_cap_within_its_jitter(high: bool, expected: list[float]) -> None:
    p = pacer(high=high, spread_s=0.0)
    times = sent_times(p, until=sum(expected) + 1.0)
    assert gaps(times)[: len(expected)] == expected


def test_with_a_real_rng_every_delay_stays_within_its_bounds_and_under_the_cap() -> None:
    p = RequestPacer(rng=random.Random(7))
    times = sent_times(p, until=3000.0, step=0.5)
    for n, gap in enumerate(gaps(times), start=1):
        nominal = min(120.0, 5.0 * 2 ** (n - 1))
        assert 0.8 * nominal - 0.5 <= gap <= nominal + 0.5, (n, gap)  # +- one step of the loop
        assert gap <= 120.5


def test_a_reconnect_is_paced_like_any_other_need() -> None:
    p = pacer(high=True, spread_s=0.0)
    p.need("s", "sequence_gap", 0.0)
    assert p.due(0.0)  # a request went out; its answer is lost with the connection
    p.need("s", "reconnect", 1.0)
    assert p.due(1.0) == [] and p.due(4.9) == []  # no bypass: the back-off (5 s) holds
    assert p.due(5.0) == [("s", "reconnect")]  # ... and the reconnect voided the wait for the lost answer (not 30 s)
    for t in (6.0, 7.0):  # a Redis restarting in a loop: reconnect after reconnect
        p.need("s", "reconnect", t)
        assert p.due(t) == []
    assert p.due(15.0) == [("s", "reconnect")]  # 5 s, then 10 s


def test_a_reconnect_spreads_the_requests_of_many_supervisors() -> None:
    p = RequestPacer(rng=random.Random(3), spread_s=2.0)
    for i in range(200):
        p.need(f"s{i}", "reconnect", 0.0)
    at = {}
    t = 0.0
    while len(at) < 200:
        for sup, _ in p.due(t):
            at[sup] = t
        t = round(t + 0.1, 6)
    assert max(at.values()) <= 2.0 and len({round(v) for v in at.values()}) == 3  # spread over 0..2 s, not all at once


def test_a_supervisor_not_asked_for_a_while_starts_again_at_the_base() -> None:
    p = pacer(high=True, spread_s=0.0)
    times = sent_times(p, until=40.0)
    assert gaps(times) == [5.0, 10.0, 20.0]
    p.need("s", "sequence_gap", 400.0)  # 365 s of quiet since the last request
    assert p.due(400.0)
    p.answered("s")
    p.need("s", "sequence_gap", 401.0)
    assert p.due(404.9) == [] and p.due(405.0)  # base_s again, not 40 s


def test_a_request_that_could_not_be_sent_is_wanted_again() -> None:
    p = pacer(high=False, base_s=1.0, spread_s=0.0)
    p.need("s", "sequence_gap", 0.0)
    assert p.due(0.0)
    p.failed("s", "sequence_gap")
    assert p.due(0.5) == [] and p.due(1.0) == [("s", "sequence_gap")]  # not in flight, still paced


def test_supervisors_are_paced_each_on_their_own() -> None:
    p = pacer(high=False, spread_s=0.0)
    p.need("a", "sequence_gap", 0.0)
    assert p.due(0.0) == [("a", "sequence_gap")]
    p.need("b", "sequence_gap", 0.1)
    assert p.due(0.1) == [("b", "sequence_gap")]
