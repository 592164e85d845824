"""Component ids of the alarm console and the alarm KPI page (the console's script uses the same strings)."""
from __future__ import annotations

GRID = "alarms-grid"
CONFIG = "alarms-config"  # dcc.Store: labels, areas, limits, sound URLs for the console's script
SELECTED = "alarms-selected"  # dcc.Store (session): the alarm whose history is open; survives Back from an asset page
APPLIED = "alarms-applied"  # dcc.Store: [{id, state}] the engine answered to an action here (the grid moves the rows at once)
SELECTED_REV = "alarms-selected-rev"  # dcc.Store bumped by the browser when that alarm changed
FEEDBACK = "alarms-feedback"
COUNT = "alarms-count"
DETAIL = "alarms-detail"
FOCUS = "alarms-focus"  # the ring drawn on the map around a located asset

F_DOMAIN = "alarms-filter-domain"
F_PRIORITY = "alarms-filter-priority"
F_VIEW = "alarms-filter-view"
F_AREA = "alarms-filter-area"
F_TEXT = "alarms-filter-text"

ACK = "alarms-ack"
SHELVE = "alarms-shelve"
UNSHELVE = "alarms-unshelve"
ASSIGN = "alarms-assign"
RELEASE = "alarms-release"
COMMENT = "alarms-comment"
SELECT_NONE = "alarms-select-none"
SILENCE = "alarms-silence"

SHELVE_MODAL = "alarms-shelve-modal"
SHELVE_REASON = "alarms-shelve-reason"
SHELVE_DURATION = "alarms-shelve-duration"
SHELVE_OK = "alarms-shelve-ok"
SHELVE_CANCEL = "alarms-shelve-cancel"
COMMENT_MODAL = "alarms-comment-modal"
COMMENT_TEXT = "alarms-comment-text"
COMMENT_OK = "alarms-comment-ok"
COMMENT_CANCEL = "alarms-comment-cancel"

DETAIL_ACK = "alarms-detail-ack"
DETAIL_NOTE = "alarms-detail-note"
DETAIL_COMMENT = "alarms-detail-comment"
DETAIL_RELEASE = "alarms-detail-release"  # ends a chattering suppression

KPI_REPORT = "alarm-kpis-report"
KPI_REV = "alarm-kpis-rev"  # dcc.Store bumped by the browser when the summary's KPI tiles moved
KPI_TILES = "alarm-kpi-tiles"
KPI_STRIP = "alarms-kpi-strip"  # the console's one-line view of the KPIs
SINK = "alarms-sink"
SINKS = ("config", "filters", "select", "kpis", "applied")  # dummy stores the console's clientside callbacks write to


def sink(name: str) -> str:
    """Id of one of the console's dummy stores."""
    return f"{SINK}-{name}"


# the engineers' page of the master alarm database (/alarms/rationalisation)
RAT_GRID = "rat-grid"
RAT_UNKNOWN = "rat-unknown"
RAT_CODE = "rat-code"
RAT_FORM = "rat-form"
RAT_SAVE = "rat-save"
RAT_REVERT = "rat-revert"
RAT_FEEDBACK = "rat-feedback"
RAT_REV = "rat-rev"  # dcc.Store bumped after a save: the lists are read again
RAT_FIELDS = ("domain", "class", "priority", "on_delay_s", "off_delay_s", "deadband", "deadband_unit", "chatter_toggles",
              "chatter_window_s", "respond_min", "label_fr", "label_en", "consequence_fr", "consequence_en", "action_fr", "action_en")


def rat_field(name: str) -> str:
    """Id of one field of the engineers' form."""
    return f"rat-f-{name.replace('_', '-')}"
