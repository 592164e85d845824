"""The control room as the tests build it: the app factory (`app.create_app`, as `make run` builds it), test settings.

A test stack differs from the shipped app only by its settings: cheap password hashing, anonymous operator
access unless the test signs in, a temporary state folder, no access log; and by its server (Werkzeug in a
thread instead of gunicorn's worker process).
"""
from __future__ import annotations

import socket
import threading
from typing import Any

from werkzeug.serving import make_server

from services.settings import Settings


def free_port() -> int:
    """A free local TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


TEST_SETTINGS = dict(anonymous_role="operator", argon2_time_cost=1, argon2_memory_kib=8, secret_key="test",
                     access_log=False)


def stack_settings(settings: Settings | None = None, **changes) -> Settings:
    """Settings of a test stack: the shipped defaults, plus what a test needs (cheap hashing, no sign-in for a browser
    that did not sign in, a state folder of its own when none is given)."""
    import tempfile
    from pathlib import Path

    base = settings or Settings()
    fill = {k: v for k, v in TEST_SETTINGS.items() if getattr(base, k) in (None, "", True) and k not in changes}
    if base.state_dir == Settings().state_dir and "state_dir" not in changes:
        fill["state_dir"] = Path(tempfile.mkdtemp(prefix="vigie-test-"))
    return base.with_(**fill, **changes)


def serve_room(settings: Settings, port: int | None = None) -> tuple[Any, str, Any]:
    """The control room from the app factory (`app.create_app`, as `make run` builds it), served by Werkzeug in a thread.

    Returns (room, url, web server)."""
    from app import create_app

    room = create_app(settings, wait=False)
    if not room.ready:
        room.stop()
        raise RuntimeError(f"the control room did not start: {room.reason}")
    port = port or free_port()
    try:
        http = make_server("127.0.0.1", port, room, threaded=True)
    except BaseException:
        room.stop()
        raise
    threading.Thread(target=http.serve_forever, name="vigie-http", daemon=True).start()
    return room, f"http://127.0.0.1:{port}", http


def signed_in_session(url: str, name: str, password: str) -> Any:
    """A `requests` session signed in as `name` through the real sign-in form, with the CSRF header its API calls need."""
    import re

    import requests

    s = requests.Session()
    page = s.get(f"{url}/auth/signin", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    done = s.post(f"{url}/auth/signin", data={"csrf_token": token, "name": name, "password": password},
                  allow_redirects=False, timeout=30)
    assert done.status_code in (302, 303), f"sign-in of {name} refused: {done.status_code}"
    s.headers["X-CSRFToken"] = s.cookies.get("_csrf_token")
    return s


def stop_http(http: Any) -> None:
    """Stop serving and free the port."""
    http.shutdown()
    http.server_close()


