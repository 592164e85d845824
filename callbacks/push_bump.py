"""A clientside callback that turns the live push into a throttled bump of a store: "this domain changed".

Server callbacks that redraw a panel (day charts, domain lists) listen to the store, so a burst of deltas costs
one redraw per throttle window, the last delta of a burst never lost (a trailing timer).
"""
from __future__ import annotations

_BUMP = """
function (msg) {
  var nu = window.dash_clientside.no_update, deltas = (msg && msg.deltas) || [];
  var mine = %(match)s;
  if (!deltas.some(mine)) return nu;
  var now = Date.now(), w = (window.%(space)s = window.%(space)s || {});
  var s = (w['%(domain)s'] = w['%(domain)s'] || {});
  if (s.last && now - s.last < %(ms)d) {
    if (!s.timer) s.timer = setTimeout(function () { s.timer = null; s.last = Date.now();
      window.dash_clientside.set_props('%(store)s', {data: s.last}); }, %(ms)d - (now - s.last));
    return nu;
  }
  s.last = now;
  return now;
}
"""

KPIS_OF = "function (d) { return d.ch === '%(domain)s' && d.kpis; }"  # the domain's KPIs moved
DOMAIN_OR_ALARMS_OF = ("function (d) { return d.ch === '%(domain)s' ||"
                       " (d.ch === 'alarms' && (d.alarms || []).some(function (a) { return a.domain === '%(domain)s'; })); }")


def throttled_bump(match: str, space: str, domain: str, store: str, ms: int) -> str:
    """The callback's JS: bump `store` when a delta matches `match` (a JS predicate template), at most every `ms`."""
    fields = {"domain": domain, "space": space, "store": store, "ms": ms}
    return _BUMP % {**fields, "match": match % fields}
