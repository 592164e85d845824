"""Maintenance: work orders opened from maintenance-class conditions, their lifecycle, the GMAO link, optimised rounds.

`orders` is the pure work-order book (lifecycle table, telemetry verification); `store` persists it in Redis;
`service` is its single writer (API, page, telemetry) and publishes every change on `gmao.workorders`;
`roads` and `rounds` compute crews' rounds over the territory's road graph.
"""
