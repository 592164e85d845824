"""Requests from web-only workers to the engine's process over Redis, and their replies.

A web-only worker (`VIGIE_RUN_ENGINE=0`) cannot change the alarm list or send a command: the engine
thread is their single writer. `EngineClient.call(op, args)` pushes a versioned JSON request (unique id,
deadline) on the `vigie:rpc:requests` list and waits for its reply on `vigie:rpc:reply:<id>`;
`EngineRpcServer`, a thread in the engine's process, pops requests, validates them again at the boundary,
applies them through the handlers registered with `serve()` (the same code paths as a local request)
and replies on that key, which expires. Malformed requests are rejected with a reason, logged and counted;
the loop carries on, and survives Redis restarts with capped exponential back-off (like services/feed/bus.py).
The server also keeps a short-lived heartbeat key, so a client without an engine fails at once.
"""
from __future__ import annotations

import logging
import os
import re
import secrets
import socket
import time
from dataclasses import dataclass
from typing import Annotated, Any, Callable, Literal

import msgspec
import redis
from msgspec import Meta, Struct

from services.redis_conn import BUS_ERRORS, connect
from services.threads import LoopThread

log = logging.getLogger(__name__)

REQUESTS = "vigie:rpc:requests"
REPLY = "vigie:rpc:reply:"  # + request id
HEARTBEAT = "vigie:rpc:engine"
HEARTBEAT_TTL_S = 5
QUEUE_MAX = 1000  # requests kept waiting at most (the oldest go first)
REPLY_TTL_S = 30
MAX_BYTES = 8 * 1024 * 1024
MAX_WAIT_S = 300.0
ERRORS = (*BUS_ERRORS, redis.RedisError)
_ID = re.compile(r"^[0-9a-f]{32}\Z")

RequestId = Annotated[str, Meta(pattern=r"^[0-9a-f]{32}\Z")]
OpName = Annotated[str, Meta(min_length=1, max_length=40, pattern=r"^[a-z_.]+\Z")]


class Request(Struct, forbid_unknown_fields=True):
    """One request on the wire."""

    v: Literal[1]
    id: RequestId
    op: OpName
    deadline: float  # epoch seconds; after it nobody waits for the answer
    args: dict[str, Any] = {}


class Reply(Struct, forbid_unknown_fields=True):
    """One reply on the wire: the result, or an error kind with its words (and extra fields, e.g. a plan)."""

    v: Literal[1]
    id: RequestId
    ok: bool
    result: Any = None
    error: str = ""
    message: str = ""
    extra: dict[str, Any] = {}


_encode = msgspec.json.Encoder().encode
_requests = msgspec.json.Decoder(Request)
_replies = msgspec.json.Decoder(Reply)


class EngineUnreachable(RuntimeError):
    """No engine process answered (none running, Redis down, or too slow); the text says which."""


class RemoteRefusal(Exception):
    """The engine's process answered with an error: `kind` (bad_request, invalid_command, ...), words, extra fields."""

    def __init__(self, kind: str, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.extra = extra or {}


class Rejected(ValueError):
    """A request refused at the boundary; `reason` is the metric label."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def encode_request(op: str, args: dict[str, Any], deadline: float, request_id: str | None = None) -> tuple[str, bytes]:
    """A request's id and its JSON."""
    rid = request_id or secrets.token_hex(16)
    return rid, _encode(Request(v=1, id=rid, op=op, deadline=deadline, args=args))


def decode_request(raw: bytes, now: float) -> Request:
    """Validate a request's JSON; Rejected says why not."""
    if len(raw) > MAX_BYTES:
        raise Rejected("too_large", f"request of {len(raw)} bytes (at most {MAX_BYTES})")
    try:
        req = _requests.decode(raw)
    except msgspec.ValidationError as err:
        raise Rejected("malformed", f"bad request: {err}") from None
    except msgspec.DecodeError as err:
        raise Rejected("malformed", f"not JSON: {err}") from None
    if req.deadline > now + MAX_WAIT_S:
        raise Rejected("malformed", "deadline too far in the future")
    if req.deadline < now:
        raise Rejected("expired", f"deadline passed {now - req.deadline:.1f} s ago")
    return req


def request_id_of(raw: bytes) -> str | None:
    """The id of a request that failed validation, when it has a readable one (to answer it)."""
    try:
        doc = msgspec.json.decode(raw[:MAX_BYTES])
    except msgspec.DecodeError:
        return None
    rid = doc.get("id") if isinstance(doc, dict) else None
    return rid if isinstance(rid, str) and _ID.match(rid) else None


def _client(url: str, socket_timeout_s: float) -> redis.Redis:
    """A client whose calls (blocking ones included) fail after `socket_timeout_s` rather than hang."""
    client = connect(url, timeout_s=2.0)
    client.get_connection_kwargs().update(socket_timeout=socket_timeout_s)
    return client


class EngineClient:
    """Sends requests to the engine's process and waits for the replies (one per web-only worker).

    It waits a little longer than the engine waits for its own thread (10 s), so a busy engine says so itself.
    """

    def __init__(self, url: str, timeout_s: float = 12.0, *, client: redis.Redis | None = None) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.redis = client if client is not None else _client(url, socket_timeout_s=timeout_s + 5.0)

    def call(self, op: str, args: dict[str, Any] | None = None, timeout_s: float | None = None) -> Any:
        """Apply `op` in the engine's process; return its result, or raise EngineUnreachable / RemoteRefusal."""
        wait = self.timeout_s if timeout_s is None else min(timeout_s, self.timeout_s)  # the socket waits no longer
        rid, raw = encode_request(op, args or {}, time.time() + wait)
        try:
            pipe = self.redis.pipeline(transaction=False)
            pipe.exists(HEARTBEAT).lpush(REQUESTS, raw).ltrim(REQUESTS, 0, QUEUE_MAX - 1)
            alive = pipe.execute()[0]
            if not alive:  # the request stays until its deadline, then the server drops it unread
                raise EngineUnreachable("no engine process is running (none has checked in with Redis lately)")
            got = self.redis.blpop([REPLY + rid], timeout=max(wait, 0.01))
        except ERRORS as err:
            raise EngineUnreachable(f"Redis cannot be reached ({err})") from err
        if got is None:
            raise EngineUnreachable(f"the engine's process did not answer within {wait:g} s")
        try:
            reply = _replies.decode(got[1])
        except msgspec.MsgspecError as err:
            raise EngineUnreachable(f"unreadable answer from the engine's process ({err})") from err
        if reply.ok:
            return reply.result
        raise RemoteRefusal(reply.error, reply.message, reply.extra)

    def close(self) -> None:
        """Drop the connections."""
        self.redis.close()


@dataclass(frozen=True, slots=True)
class Handler:
    """How the server applies one op: its arguments' type (validated at the boundary) and the function."""

    args: type
    fn: Callable[[Any], Any]


class EngineRpcServer:
    """Applies requests in the engine's process, one at a time, in its own thread."""

    def __init__(self, url: str, metrics: Any = None, *, client: redis.Redis | None = None,
                 backoff_initial_s: float = 0.1, backoff_max_s: float = 5.0) -> None:
        self.url = url
        self.metrics = metrics
        self.handlers: dict[str, Handler] = {}
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.identity = _encode({"host": socket.gethostname(), "pid": os.getpid(), "since": time.time()})
        self._loop = LoopThread(self._run, "vigie-engine-rpc")
        self._stop = self._loop.stopping
        self._redis: redis.Redis | None = client

    def serve(self, op: str, args: type, fn: Callable[[Any], Any]) -> None:
        """Apply `op` requests with `fn(args)` once their arguments convert to `args` (a msgspec Struct)."""
        self.handlers[op] = Handler(args, fn)

    def start(self) -> "EngineRpcServer":
        """Start the server thread."""
        self._loop.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and take the heartbeat down (clients then fail at once)."""
        self._loop.stop(timeout)
        try:
            if self._redis is not None:
                self._redis.delete(HEARTBEAT)
                self._redis.close()
        except ERRORS:
            pass

    def _run(self) -> None:
        backoff, beat_at, down = self.backoff_initial_s, 0.0, False
        while not self._stop.is_set():
            try:
                if self._redis is None:
                    self._redis = _client(self.url, socket_timeout_s=5.0)  # longer than a BRPOP, shorter than a hang
                if time.monotonic() >= beat_at:
                    self._redis.set(HEARTBEAT, self.identity, ex=HEARTBEAT_TTL_S)
                    beat_at = time.monotonic() + 1.0
                got = self._redis.brpop([REQUESTS], timeout=1)
            except ERRORS as err:
                if not down:
                    log.warning("engine requests: Redis lost (%s); retrying with back-off up to %.0f s", err, self.backoff_max_s)
                down, self._redis, beat_at = True, None, 0.0
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self.backoff_max_s)
                continue
            if down:
                log.info("engine requests: Redis back")
            down, backoff = False, self.backoff_initial_s
            if got is not None:
                self.handle(got[1])

    def handle(self, raw: bytes) -> Reply | None:
        """Validate and apply one request, reply to it; return the reply (None: nobody to answer)."""
        try:
            req = decode_request(raw, time.time())
        except Rejected as err:
            self._count_rejection(err.reason, str(err))
            rid = request_id_of(raw) if err.reason != "expired" else None
            return self._reply(Reply(v=1, id=rid, ok=False, error="bad_request", message=str(err))) if rid else None
        handler = self.handlers.get(req.op)
        if handler is None:
            self._count_rejection("unknown_op", f"unknown op {req.op!r}")
            return self._reply(Reply(v=1, id=req.id, ok=False, error="bad_request", message=f"unknown op {req.op!r}"))
        try:
            args = msgspec.convert(req.args, handler.args)
        except msgspec.ValidationError as err:
            self._count_rejection("bad_args", f"{req.op}: {err}")
            return self._reply(Reply(v=1, id=req.id, ok=False, error="bad_request", message=f"{req.op}: {err}"))
        try:
            reply = Reply(v=1, id=req.id, ok=True, result=handler.fn(args))
            outcome = "ok"
        except Rejected as err:
            self._count_rejection(err.reason, f"{req.op}: {err}")
            return self._reply(Reply(v=1, id=req.id, ok=False, error="bad_request", message=str(err)))
        except RemoteRefusal as err:
            reply, outcome = Reply(v=1, id=req.id, ok=False, error=err.kind, message=str(err), extra=err.extra), "refused"
        except Exception as err:  # noqa: BLE001 - one failing request never kills the loop
            log.exception("engine request %s failed", req.op)
            reply, outcome = Reply(v=1, id=req.id, ok=False, error="internal", message=f"{type(err).__name__}: {err}"), "failed"
        self._count(req.op, outcome)
        return self._reply(reply)

    def _reply(self, reply: Reply) -> Reply:
        try:
            raw = _encode(reply)
        except (TypeError, msgspec.EncodeError) as err:
            log.exception("engine request %s: result not JSON", reply.id)
            reply = Reply(v=1, id=reply.id, ok=False, error="internal", message=f"result not JSON: {err}")
            raw = _encode(reply)
        if self._redis is not None:
            try:
                self._redis.pipeline(transaction=False).rpush(REPLY + reply.id, raw).expire(REPLY + reply.id, REPLY_TTL_S).execute()
            except ERRORS as err:
                log.warning("engine request %s: reply lost (%s)", reply.id, err)
        return reply

    def _count(self, op: str, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.engine_requests.labels(op if op in self.handlers else "unknown", outcome).inc()

    def _count_rejection(self, reason: str, message: str) -> None:
        log.warning("engine request rejected (%s): %s", reason, message[:300])
        if self.metrics is not None:
            self.metrics.engine_requests_rejected.labels(reason).inc()
