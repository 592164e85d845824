"""Settings read once from the environment into a frozen object, then passed down."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DOMAINS: tuple[str, ...] = ("lighting", "water", "traffic")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything Vigie is configured with; build it with `Settings.from_env()`."""

    redis_url: str | None = None  # None: start a private redis-server, else an embedded one
    port: int = 8050
    host: str = "127.0.0.1"
    territory: str = "montpellier"
    data_dir: Path = PROJECT_ROOT / "services" / "data"
    state_dir: Path = PROJECT_ROOT / ".vigie"
    # engine
    run_engine: bool = True  # the engine runs inside the web process by default
    run_simulators: bool = True  # `make run` starts the three simulated supervisors in-process
    simulator_speed: float = 1.0
    simulator_seed: int = 42
    late_after_s: float = 15.0  # a supervisor silent this long is "late"
    stale_after_s: float = 60.0  # ... and this long "stale"
    clock_drift_s: float = 30.0  # a supervisor whose clock is further than this from Vigie's is flagged (wall seconds)
    bus_grace_s: float = 15.0  # after Redis returns, how long supervisors have to speak before they are judged
    feed_queue_bytes: int = 256 * 1024 * 1024  # what the bus reader may hold for the engine (and the recorder) before it drops
    snapshot_interval_s: float = 1.0  # how often the engine writes its snapshot for other workers
    coalesce_ms: int = 250  # push window per domain
    max_payload_bytes: int = 8 * 1024 * 1024
    kpi_history_s: float = 6 * 3600.0
    # the registry of supervisors (services/core/registry.py; docs/feed-protocol.md, "Supervisor identity")
    supervisors_approval: str = "open"  # "open": a first-seen supervisor is approved; "required" (production): quarantined
    supervisors_auto_approve: tuple[str, ...] = ()  # ids or patterns (ngsi-*) approved at first sight even when required
    supervisors_file: Path | None = None  # declared supervisors; None: <state folder>/supervisors.yaml, else the territory's
    supervisor_max_assets: int = 50_000  # the most assets a supervisor without a maximum of its own may declare
    # web
    language: str = "fr"
    tile_url: str | None = None  # optional online base layer; the offline one is always there
    wall_playlist: Path | None = None  # the wall's rotation (services/playlist.py); None: services/data/wall.yaml
    secret_key: str = field(default="", repr=False)
    metrics_public: bool = True
    socketio_message_queue: str | None = None  # Redis URL shared by several web workers
    # production server (app.py serves through gunicorn; docs/deploy.md)
    server_worker: str = "gthread"  # "gthread" (threads + simple-websocket) or "gevent" (docs/deploy.md compares them)
    web_threads: int = 100  # gthread: concurrent requests and WebSocket connections
    access_log: bool = True  # one standard access-log line per request on stderr
    redis_retry_max_s: float = 10.0  # Redis down at start: retry with back-off capped at this
    proxies: int = 0  # reverse proxies in front that add X-Forwarded-* (werkzeug's ProxyFix trusts that many)
    # security (defaults and meaning: services/accounts/options.py, docs/security.md)
    admin_user: str | None = None  # first admin, created once when no admin exists
    admin_password: str | None = field(default=None, repr=False)
    session_idle_s: float = 1800.0
    session_max_s: float = 12 * 3600.0
    command_rate_per_min: int = 30
    cookie_secure: str = "auto"
    trusted_origins: tuple[str, ...] = ()
    frame_ancestors: str = "'none'"
    anonymous_role: str | None = None  # like Grafana's anonymous access: a role for browsers that do not sign in
    argon2_time_cost: int | None = None  # password hashing cost (None: argon2-cffi's RFC 9106 defaults)
    argon2_memory_kib: int | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> "Settings":
        """Read the VIGIE_* variables (plus REDIS_URL and PORT) once."""
        from services.territory.package import territory_language

        env = os.environ if env is None else env

        def flag(name: str, default: bool) -> bool:
            raw = env.get(name)
            return default if raw is None else raw.strip().lower() in {"1", "true", "yes", "on"}

        base = cls(
            redis_url=env.get("REDIS_URL") or None,
            port=int(env.get("PORT", "8050")),
            host=env.get("VIGIE_HOST", "127.0.0.1"),
            territory=env.get("VIGIE_TERRITORY", "montpellier"),
            state_dir=Path(env.get("VIGIE_STATE_DIR", str(PROJECT_ROOT / ".vigie"))),
            run_engine=flag("VIGIE_RUN_ENGINE", True),
            run_simulators=flag("VIGIE_RUN_SIMULATORS", True),
            simulator_speed=float(env.get("VIGIE_SIM_SPEED", "1")),
            simulator_seed=int(env.get("VIGIE_SIM_SEED", "42")),
            late_after_s=float(env.get("VIGIE_LATE_AFTER_S", "15")),
            stale_after_s=float(env.get("VIGIE_STALE_AFTER_S", "60")),
            clock_drift_s=float(env.get("VIGIE_CLOCK_DRIFT_S", "30")),
            bus_grace_s=float(env.get("VIGIE_BUS_GRACE_S", "15")),
            feed_queue_bytes=int(float(env.get("VIGIE_FEED_QUEUE_MB", "256")) * 1024 * 1024),
            coalesce_ms=int(env.get("VIGIE_COALESCE_MS", "250")),
            language=env.get("VIGIE_LANG") or territory_language(env.get("VIGIE_TERRITORY", "montpellier")),  # else the manifest's
            supervisors_approval=env.get("VIGIE_SUPERVISORS_APPROVAL", "open").strip().lower(),
            supervisors_auto_approve=tuple(p.strip() for p in env.get("VIGIE_SUPERVISORS_AUTO_APPROVE", "").split(",") if p.strip()),
            supervisors_file=Path(env["VIGIE_SUPERVISORS_FILE"]) if env.get("VIGIE_SUPERVISORS_FILE") else None,
            supervisor_max_assets=int(env.get("VIGIE_SUPERVISOR_MAX_ASSETS", "50000")),
            tile_url=env.get("VIGIE_TILE_URL") or None,
            wall_playlist=Path(env["VIGIE_WALL_PLAYLIST"]) if env.get("VIGIE_WALL_PLAYLIST") else None,
            secret_key=env.get("VIGIE_SECRET_KEY", ""),
            metrics_public=flag("VIGIE_METRICS_PUBLIC", True),
            socketio_message_queue=env.get("VIGIE_SOCKETIO_QUEUE") or None,
            admin_user=env.get("VIGIE_ADMIN_USER") or None,
            admin_password=env.get("VIGIE_ADMIN_PASSWORD") or None,
            session_idle_s=float(env.get("VIGIE_SESSION_IDLE_S", "1800")),
            session_max_s=float(env.get("VIGIE_SESSION_MAX_S", str(12 * 3600))),
            command_rate_per_min=int(env.get("VIGIE_COMMAND_RATE_PER_MIN", "30")),
            cookie_secure=env.get("VIGIE_COOKIE_SECURE", "auto"),
            trusted_origins=tuple(o.strip() for o in env.get("VIGIE_TRUSTED_ORIGINS", "").split(",") if o.strip()),
            frame_ancestors=env.get("VIGIE_FRAME_ANCESTORS", "'none'"),
            anonymous_role=env.get("VIGIE_ANONYMOUS_ROLE") or None,
            argon2_time_cost=int(env["VIGIE_ARGON2_TIME_COST"]) if env.get("VIGIE_ARGON2_TIME_COST") else None,
            argon2_memory_kib=int(env["VIGIE_ARGON2_MEMORY_KIB"]) if env.get("VIGIE_ARGON2_MEMORY_KIB") else None,
            server_worker=env.get("VIGIE_SERVER_WORKER", "gthread"),
            web_threads=int(env.get("VIGIE_WEB_THREADS", "100")),
            access_log=flag("VIGIE_ACCESS_LOG", True),
            redis_retry_max_s=float(env.get("VIGIE_REDIS_RETRY_MAX_S", "10")),
            proxies=int(env.get("VIGIE_PROXIES", "0")),
        )
        return replace(base, **overrides) if overrides else base

    def with_(self, **changes) -> "Settings":
        """Return a copy with some fields changed (tests build their own settings)."""
        return replace(self, **changes)


def load_or_create_secret(state_dir: Path) -> str:
    """Return the signing secret kept in the state folder, creating it on first start.

    Sessions and the wall screens' sign-in survive a restart because the secret does.
    """
    import secrets

    path = state_dir / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    state_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key, encoding="utf-8")
    path.chmod(0o600)
    return key
