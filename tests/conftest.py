"""Shared fixtures: a real redis-server per session (pytest-redis), a fixed clock, Chromium options.

Under pytest-xdist (`make test`) every worker is its own session, so it has its own redis-server; the browser tests
form one unit that runs on one worker (one Chromium at a time), every other test file stays whole on its worker
(its module fixtures are built once). The state folder (VIGIE_STATE_DIR) is a temporary one: nothing a test starts
writes into the repository's `.vigie/`.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest
from pytest_redis import factories

# One real redis-server for the session, on a free port (Debian's redis-server binary).
redis_server = factories.redis_proc(port=None, save="", timeout=30)

FIXED_NOW = datetime(2026, 6, 21, 18, 0, 0, tzinfo=timezone.utc)


@pytest.hookimpl(optionalhook=True, tryfirst=True)  # before xdist's own choice; optional: xdist may be absent
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """`--dist loadfile`, the browser tests as one unit: a file's tests share its module fixtures, one Chromium at a time.

    Units go out in collection order, so the browser unit, the longest, starts first (xdist would otherwise start with
    the files that hold the most tests, and the browser unit would end last).
    """
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    config.option.loadscopereorder = False

    class Scheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "tests/browser" if path.startswith("tests/browser/") else path

    return Scheduling(config, log)


@pytest.fixture(scope="session", autouse=True)
def state_dir_outside_the_repository(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """VIGIE_STATE_DIR in a temporary folder, for what reads the environment (`Settings.from_env`, `python app.py`)."""
    state = tmp_path_factory.mktemp("vigie-state")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VIGIE_STATE_DIR", str(state))
        yield state


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
