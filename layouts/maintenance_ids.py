"""Component ids of the maintenance page (one module, as the other pages do)."""
from __future__ import annotations

PAGE = "mnt-page"
LANG = "mnt-lang"
PUSHED = "mnt-pushed"  # set by assets/maintenance.js when work orders moved
REFRESH = "mnt-refresh"  # bumped after a change made on this page
SELECTED = "mnt-selected"  # the work order shown in the detail
PLAN = "mnt-plan"  # the last plan of rounds computed
MAP = "mnt-map"
BASE = "mnt-base"
ORDERS_LAYER = "mnt-orders-layer"
ROUNDS_LAYER = "mnt-rounds-layer"
GRID = "mnt-grid"
GROUPS = "mnt-groups"
COUNT = "mnt-count"
CSV = "mnt-csv"
FILTER_DOMAIN = "mnt-filter-domain"
FILTER_STATUS = "mnt-filter-status"
FILTER_PRIORITY = "mnt-filter-priority"
FILTER_FAULT = "mnt-filter-fault"
FILTER_TEXT = "mnt-filter-text"
GROUP_BY = "mnt-group-by"
DETAIL = "mnt-detail"
NOTE = "mnt-note"
FEEDBACK = "mnt-feedback"
STATUS_BUTTON = "mnt-set-status"  # pattern-matched: {"type": STATUS_BUTTON, "status": ...}
CREWS = "mnt-crews"
SHIFT = "mnt-shift"
COMPUTE = "mnt-compute"
ROUNDS = "mnt-rounds"
DEPOT = "mnt-depot"  # [lon, lat] the rounds start from (a click on the map; the territory's centre until then)
DEPOT_LAYER = "mnt-depot-layer"
DEPOT_TEXT = "mnt-depot-text"
