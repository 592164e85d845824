"""The alarm grid: columns and options (the rows arrive in the browser, as live row transactions).

Every function referenced here (`alarm*`) lives in assets/alarms_console.js, under
`window.dashAgGridFunctions`; dash-ag-grid evaluates them without `eval` (Vigie's CSP forbids it).
Cells hold text only: feed and user text is never rendered as markup.
"""
from __future__ import annotations

import dash_ag_grid as dag

from . import alarms_ids as aids
from .alarms_i18n import at


def _fn(call: str) -> dict:
    return {"function": call}


def column_defs(lang: str) -> list[dict]:
    """The grid's columns, in the operator's reading order."""
    return [
        {"colId": "group", "headerName": at("col.group", lang), "width": 80, "sortable": False,
         "valueGetter": _fn("alarmGroup(params)"), "cellClass": _fn("alarmGroupClass(params)"),
         "tooltipValueGetter": _fn("alarmGroupTip(params)")},
        {"colId": "priority", "field": "priority", "headerName": at("col.priority", lang), "width": 112,
         "valueFormatter": _fn("alarmPriority(params)"), "comparator": _fn("alarmPriorityCompare(valueA, valueB)"),
         "cellClass": _fn("alarmPriorityClass(params)")},
        {"colId": "state", "field": "rank", "headerName": at("col.state", lang), "width": 176, "sort": "asc",
         "valueFormatter": _fn("alarmState(params)"), "cellClass": "alarm-state-cell"},  # sorted by rank: state, priority, newest
        {"colId": "raised", "field": "raised_at", "headerName": at("col.raised", lang), "width": 100,
         "valueFormatter": _fn("alarmTime(params)"), "cellClass": "num"},
        {"colId": "asset", "field": "asset_name", "headerName": at("col.asset", lang), "flex": 2, "minWidth": 120,
         "tooltipField": "asset_name"},
        {"colId": "message", "field": "message", "headerName": at("col.message", lang), "flex": 3, "minWidth": 150,
         "valueGetter": _fn("alarmMessage(params)"), "tooltipValueGetter": _fn("alarmMessage(params)")},
        {"colId": "assignee", "field": "assignee", "headerName": at("col.assignee", lang), "width": 108,
         "cellClass": "alarm-assignee", "headerTooltip": at("col.assignee", lang)},
        {"colId": "flags", "headerName": at("col.flags", lang), "width": 112, "valueGetter": _fn("alarmFlags(params)"),
         "cellClass": _fn("alarmFlagsClass(params)"), "tooltipValueGetter": _fn("alarmFlagsTip(params)")},
        {"colId": "domain", "field": "domain", "headerName": at("col.domain", lang), "width": 90,
         "valueFormatter": _fn("alarmDomain(params)")},
        {"colId": "area", "field": "area", "headerName": at("col.area", lang), "width": 104,
         "valueFormatter": _fn("alarmArea(params)"), "tooltipValueGetter": _fn("alarmAreaTip(params)")},
        {"colId": "locate", "headerName": "◎", "headerTooltip": at("act.locate", lang), "width": 46, "sortable": False,
         "pinned": "right", "valueGetter": _fn("'◎'"), "cellClass": "alarm-locate", "tooltipValueGetter": _fn("alarmLocateTip(params)")},
        {"colId": "quickack", "headerName": "✓", "headerTooltip": at("act.quick_ack", lang), "width": 46, "sortable": False,
         "pinned": "right", "valueGetter": _fn("alarmQuickAck(params)"), "cellClass": "alarm-quickack"},
    ]


def alarm_grid(lang: str) -> dag.AgGrid:
    """The grid, empty: the console's script fills it from the live state and applies each delta as a transaction."""
    return dag.AgGrid(  # no rowData prop: dash-ag-grid would copy every row back into Dash after each transaction
        id=aids.GRID,
        columnDefs=column_defs(lang),
        defaultColDef={"sortable": True, "resizable": True, "suppressHeaderMenuButton": True},
        getRowId="params.data.id",
        className="ag-theme-quartz alarm-grid",
        style={"height": "100%", "width": "100%"},
        dashGridOptions={
            "rowSelection": {"mode": "multiRow", "headerCheckbox": True, "selectAll": "filtered", "enableClickSelection": False},
            "animateRows": False,
            "suppressCellFocus": False,
            "tooltipShowDelay": 400,
            "rowBuffer": 20,
            "isExternalFilterPresent": _fn("alarmFilterPresent()"),
            "doesExternalFilterPass": _fn("alarmFilterPass(params)"),
            "postSortRows": _fn("alarmPostSort(params)"),
            "rowClassRules": {  # re-evaluated when a row's data changes (getRowClass is not)
                "alarm-row-unack": "alarmIsUnack(params)", "alarm-row-rtn": "alarmIsReturned(params)",
                "alarm-row-child": "alarmIsChild(params)", "alarm-row-selected": "alarmIsSelected(params)",
            },
            "localeText": {"noRowsToShow": at("empty", lang)},
            "asyncTransactionWaitMillis": 200,
        },
        eventListeners={"cellClicked": ["alarmCellClicked(params)"]},
    )
