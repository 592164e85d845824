"""Pure HTTP security helpers: the Content-Security-Policy, origin checks, safe redirects."""
from __future__ import annotations

import base64
import hashlib
import json
from typing import Callable, Iterable
from urllib.parse import urlsplit

# Dash's one inline script when no renderer hooks are given (`var renderer = new DashRenderer();`).
DASH_RENDERER = "var renderer = new DashRenderer();"
PUBLIC_PATHS = ("/healthz", "/auth/signin", "/auth/device", "/favicon.ico")
PUBLIC_PREFIXES = ("/auth/static/",)
JSON_PREFIXES = ("/api/", "/ngsi-ld/", "/ngsi/", "/vigie/", "/auth/whoami", "/_dash-", "/_reload-hash", "/metrics", "/socket.io")
# Callback inputs that change without a person doing anything: timers, and stores written by code (pushes).
PASSIVE_PROPS = (".n_intervals", ".n_intervals_timestamp", ".data")


def script_hash(source: str) -> str:
    """Return the CSP source expression that allows exactly this inline script."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii") + "'"


def host_of(url: str | None) -> str | None:
    """Return `host[:port]` of a URL, lower-cased, or None."""
    return urlsplit(url).netloc.lower() or None if url else None


def origin_of(url: str | None) -> str | None:
    """Return `scheme://host[:port]` of a URL, or None."""
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else None


def content_security_policy(*, script_hashes: Iterable[str], host: str, secure: bool,
                            tile_origin: str | None = None, frame_ancestors: str = "'none'") -> str:
    """Return the CSP Vigie's pages run under: no inline script but Dash's own, no eval, no framing.

    Styles allow 'unsafe-inline' because Dash, Plotly, Leaflet, AG Grid and Mantine set style
    attributes and inject <style> elements at run time; style injection cannot run script.
    """
    ws = f"{'wss' if secure else 'ws'}://{host}"
    img = " ".join(filter(None, ("'self'", "data:", "blob:", tile_origin)))
    directives = {
        "default-src": "'self'",
        "script-src": " ".join(("'self'", *sorted(set(script_hashes)))),
        "style-src": "'self' 'unsafe-inline'",
        "img-src": img,
        "font-src": "'self' data:",
        "connect-src": f"'self' {ws}",
        "worker-src": "'self' blob:",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": frame_ancestors,
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def security_headers(*, script_hashes: Iterable[str], host: str, secure: bool,
                     tile_origin: str | None = None, frame_ancestors: str = "'none'") -> dict[str, str]:
    """Return the security headers of every answer: CSP, no sniffing, no foreign framing, HSTS over TLS, ..."""
    headers = {
        "Content-Security-Policy": content_security_policy(script_hashes=script_hashes, host=host, secure=secure,
                                                           tile_origin=tile_origin, frame_ancestors=frame_ancestors),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY" if frame_ancestors == "'none'" else "SAMEORIGIN",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    }
    if secure:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers


def is_public(path: str, *, metrics_public: bool) -> bool:
    """Return whether `path` is reachable without signing in."""
    if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
        return True
    return metrics_public and (path == "/metrics" or path.startswith("/metrics/"))


def wants_json(path: str, method: str, accepts_html: bool) -> bool:
    """Return whether an unauthenticated request gets a 401 JSON answer rather than a redirect."""
    return method not in ("GET", "HEAD") or path.startswith(JSON_PREFIXES) or not accepts_html


def safe_next(target: str | None) -> str:
    """Return a same-site path to go to after signing in (never another site)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or any(c in target for c in "\r\n\t"):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target[:512]


def is_passive_dash_update(path: str, read_body: Callable[[], bytes]) -> bool:
    """Return whether a Dash callback was fired by timers or stores alone (it does not count as activity)."""
    if not path.endswith("/_dash-update-component"):
        return False
    body = read_body()
    if not body or len(body) > 1_000_000:
        return False
    try:
        changed = json.loads(body).get("changedPropIds") or []
    except (ValueError, AttributeError):
        return False
    return bool(changed) and all(str(p).endswith(PASSIVE_PROPS) for p in changed)
