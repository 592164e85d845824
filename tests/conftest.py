"""Shared fixtures: a real redis-server per session (pytest-redis), a fixed clock, Chromium options."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from pytest_redis import factories

# One real redis-server for the session, on a free port (Debian's redis-server binary).
redis_server = factories.redis_proc(port=None, save="", timeout=30)

FIXED_NOW = datetime(2026, 6, 21, 18, 0, 0, tzinfo=timezone.utc)


@pytest.fixture
def fixed_now() -> datetime:
    """A fixed, timezone-aware instant for pure-core tests."""
    return FIXED_NOW


@pytest.fixture
def redis_url(redis_server, request) -> str:
    """URL of the session's real redis-server, with a fresh database for this test."""
    import redis as _redis

    url = f"redis://{redis_server.host}:{redis_server.port}/0"
    client = _redis.Redis.from_url(url)
    client.flushall()
    client.close()
    return url


def pytest_setup_options():
    """Chromium options for dash[testing]: headless as root in a container, no network chatter."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for arg in (
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1366,768",
    ):
        options.add_argument(arg)
    options.binary_location = "/usr/bin/chromium"
    return options
