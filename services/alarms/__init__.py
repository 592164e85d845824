"""Alarms around the core's ISA-18.2 lifecycle (services/core/alarm_states.py).

- `actions`: `AlarmActions`, acknowledge/shelve/suppress... as requests to the engine thread, parameters validated.
- `store`: `AlarmStore`, the alarms held, their journal and history, kept in Redis by one writer thread.
- `sound`: the annunciation chimes (`python -m services.alarms.sound assets/`).
"""
