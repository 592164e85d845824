"""A Flask test client signed in through the real sign-in form, CSRF header set for its API calls."""
from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient


def signed_in(server: Flask, name: str, password: str) -> FlaskClient:
    """Sign `name` in on `server` and return the client."""
    client = server.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/auth/signin").text).group(1)
    assert client.post("/auth/signin", data={"csrf_token": token, "name": name, "password": password}).status_code in (302, 303)
    client.environ_base["HTTP_X_CSRFTOKEN"] = client.get_cookie("_csrf_token").value
    return client
