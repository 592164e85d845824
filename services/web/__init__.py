"""The Flask side: the only package that imports Flask.

- `api`: /healthz, /metrics, /api/v1 read API; `alarms`, `commands`, `journal`, `replay`: their APIs and wiring.
- `security`: `init_security` (sign-in, sessions, tokens, CSRF, headers); `auth`, `request`, `admin` it assembles.
- `ngsi`: the NGSI-LD API and the Orion/NGSI-LD notification endpoints; `push`: the Socket.IO push server.
- `templates/`: the sign-in and admin pages; `i18n`: their words (and the refusals') in French and English.
"""
