"""The live feed: from the supervisors' Redis channels into the engine, and out to readers.

- `bus`: the `sup.*` subscriber (capped back-off, resync after reconnect) and the `cmd.*` publisher.
- `engine`: `Engine`, the one thread that owns the core and applies messages, ticks and requests in order.
- `engine_rpc`, `engine_remote`: web-only workers' alarm actions and commands, forwarded to the engine's process.
- `snapshots`, `reader`: the state the engine writes to Redis; `LocalReader`/`RedisReader` that pages and the API read.
- `push_wire`: the wire format of the browser pushes (the Socket.IO side is services/web/push.py).
"""
