"""Replay and training: recorded days played back with their own core and clock, commands sandboxed.

- `sessions`: `ReplayManager`, the open sessions; `session`: `ReplaySession`, play, pause, seek, speed.
- `engine`: the session's own engine and command log; `sandbox`: commands answered by simulated supervisors.
- `scenario`: YAML training scenarios and their injected events; `timeline`; `debrief`: what the trainee did.
"""
