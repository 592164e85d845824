"""Operator commands, from the request to the confirmed outcome (the lifecycle itself is services/core/commands.py).

- `service`: `CommandService`, open/preview/revert a command, checked by the engine thread and sent on `cmd.*`.
- `store`: `CommandStore`, the command log in Redis; `progress`: the audit entries and pushes as a command moves.
- `wiring`: `start_commands`, the service a process needs (local, or forwarded to the engine's process).
"""
