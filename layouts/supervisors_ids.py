"""Component ids of the engineers' supervisors page (the page's script uses the same strings)."""
from __future__ import annotations

BODY = "supervisors-body"  # the sections, re-rendered after a decision or when the registry moved
REV = "supervisors-rev"  # dcc.Store bumped by the browser when a `supervisors` push arrived (assets/supervisors_page.js)
FEEDBACK = "supervisors-feedback"
ACTION = "supervisor-action"  # pattern-matching button type: {"type": ACTION, "decision": ..., "supervisor": ...}
PENDING = "supervisors-pending"  # dcc.Store: the decision waiting for confirmation
CONFIRM_MODAL = "supervisors-confirm"
CONFIRM_TEXT = "supervisors-confirm-text"
CONFIRM_OK = "supervisors-confirm-ok"
CONFIRM_CANCEL = "supervisors-confirm-cancel"


def action(decision: str, supervisor: str) -> dict:
    """The id of one decision button."""
    return {"type": ACTION, "decision": decision, "supervisor": supervisor}
