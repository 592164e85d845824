"""Component ids of the commands page and panel (assets/commands.js uses the same strings)."""
from __future__ import annotations

PAGE = "cmd-page"
MAP = "cmd-map"
BASE = "cmd-base"
LAYER = {"lighting": "cmd-layer-lighting", "water": "cmd-layer-water", "traffic": "cmd-layer-traffic"}
SELECTED_LAYER = "cmd-selected-layer"
DRAW = "cmd-draw"
URL = "cmd-url"

SELECTION = "cmd-selection"  # dcc.Store {domain, ids, polygon}
PLAN = "cmd-plan"  # dcc.Store: the last preview (what the dialog shows)
KEY = "cmd-key"  # dcc.Store: the idempotency key of the open dialog
FOCUS = "cmd-focus"  # dcc.Store: the command shown in the drawer
LANG = "cmd-lang"  # dcc.Store: the page's language
PUSHED = "cmd-pushed"  # dcc.Store: set by assets/commands.js when progress is pushed ({t, ids})

DOMAIN = "cmd-domain"
ACTION = "cmd-action"
LEVEL = "cmd-level"
ON = "cmd-on"
OVERRIDE = "cmd-override"
POSITION = "cmd-position"
RUNNING = "cmd-running"
BAR = "cmd-bar"
SIGNAL_PLAN = "cmd-signal-plan"
DIM_LEVEL = "cmd-dim-level"
DIM_FROM = "cmd-dim-from"
DIM_TO = "cmd-dim-to"
PARAM_ROWS = "cmd-param-rows"
PICK_KIND = "cmd-pick-kind"
PICK = "cmd-pick"
CLEAR = "cmd-clear"
SUMMARY = "cmd-selection-summary"
ERROR = "cmd-error"
REVIEW = "cmd-review"
NOTICE = "cmd-notice"

MODAL = "cmd-modal"
MODAL_BODY = "cmd-modal-body"
REASON = "cmd-reason"
SECOND = "cmd-second"
SEND = "cmd-send"
MODAL_CLOSE = "cmd-modal-close"
LARGE_BOX = "cmd-large"

LIST = "cmd-list"
FILTER_DOMAIN = "cmd-filter-domain"
FILTER_STATUS = "cmd-filter-status"
FILTER_MINE = "cmd-filter-mine"
CSV = "cmd-csv"
DRAWER = "cmd-drawer"
DETAIL = "cmd-detail"

PARAMS_OF = {  # which inputs each action shows
    "set_dimming": (LEVEL, OVERRIDE), "switch": (ON, OVERRIDE), "release": (), "set_schedule": (DIM_LEVEL, DIM_FROM, DIM_TO),
    "valve": (POSITION,), "pump": (RUNNING, OVERRIDE), "pump_setpoint": (BAR,), "signal_plan": (SIGNAL_PLAN, OVERRIDE),
    "close_segment": (), "reopen_segment": (),
}


def row(command_id: str) -> dict:
    """A command's row in the log (clicking it opens the drawer)."""
    return {"type": "cmd-row", "id": command_id}


def cancel(command_id: str) -> dict:
    """A command's cancel button."""
    return {"type": "cmd-cancel", "id": command_id}
