"""Component ids of the replay pages and of the exercise banner (assets/replay.js uses the same strings)."""
from __future__ import annotations

PAGE = "rp-page"
URL = "rp-url"
LANG = "rp-lang"
SESSION = "rp-session"  # dcc.Store: the session the trainer works on
TICK = "rp-tick"  # dcc.Interval: the session's clock on screen
MESSAGE = "rp-message"

# opening a session
NAME = "rp-name"
START = "rp-start"
END = "rp-end"
SPEED = "rp-speed"
SCENARIO = "rp-scenario"
OPEN = "rp-open"
SESSIONS = "rp-sessions"
JOIN = "rp-join"  # pattern-matching: {"type": JOIN, "id": session id}
PICK = "rp-pick"  # pattern-matching: {"type": PICK, "id": session id}
PERIOD_TIMELINE = "rp-period-timeline"

# the session
STATUS = "rp-status"
CLOCK = "rp-clock"
PLAY = "rp-play"
PAUSE = "rp-pause"
SPEED_NOW = "rp-speed-now"
SEEK = "rp-seek"
TIMELINE = "rp-timeline"
INJECT_EVENT = "rp-inject-event"
INJECT_TARGET = "rp-inject-target"
INJECT_MINUTES = "rp-inject-minutes"
INJECT = "rp-inject"
INJECTIONS = "rp-injections"
DEBRIEF = "rp-debrief"
DEBRIEF_REFRESH = "rp-debrief-refresh"
END_SESSION = "rp-end-session"
JOIN_MINE = "rp-join-mine"

# the exercise banner on every page of a trainee
BANNER = "exercise-banner"
BANNER_CLOCK = "exercise-clock"
BANNER_TICK = "exercise-tick"
BANNER_POSITION = "exercise-position"
LEAVE = "exercise-leave"
