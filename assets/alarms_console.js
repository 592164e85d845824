/* Vigie alarm console: the grid follows the live alarms with row transactions (never a full reload),
 * filters by domain / priority / view / area / text, flood groups (a parent shows its count and
 * expands to its children), locate on the map, select for history. Cells are text only.
 * The grid's functions are under window.dashAgGridFunctions (dash-ag-grid evaluates them without eval).
 */
(function () {
  "use strict";
  var V = (window.vigie = window.vigie || {});
  var GRID = "alarms-grid";
  var UNACK = { active_unack: 1, rtn_unack: 1 };
  var VIEWS = {
    handle: { active_unack: 1, active_ack: 1, rtn_unack: 1 },
    unack: UNACK,
    shelved: { shelved: 1, shelved_one_shot: 1 },
    suppressed: { suppressed: 1 },
    out_of_service: { out_of_service: 1 },
    maintenance: null, // class `maintenance` (work orders), whatever the state
    all: null,
  };
  var SELECTED_KEY = "alarms-selected"; // the dcc.Store's session storage: the selection survives Back from an asset page
  var STATE_RANK = { active_unack: 0, rtn_unack: 1, active_ack: 2, suppressed: 3, shelved: 4, shelved_one_shot: 4, out_of_service: 5 };
  var PRIO_RANK = { urgent: 0, high: 1, low: 2, diagnostic: 3 };

  var C = (V.console = {
    cfg: null,
    api: null,
    present: new Set(), // alarm ids in the grid
    expanded: new Set(), // parents whose children are shown
    filters: { domains: null, priorities: null, view: "handle", area: "", text: "" },
    selected: null,
    rev: 0,
    stats: { transactions: 0, rows: 0, lastMs: 0, lastAt: 0, loads: 0 },
  });

  function t(key, fmt) {
    var s = ((C.cfg || {}).catalog || {})[key];
    if (s === undefined) s = key;
    if (fmt) Object.keys(fmt).forEach(function (k) { s = s.split("{" + k + "}").join(String(fmt[k])); });
    return s;
  }
  /* Set a component's props; stores have no element: `store` says the caller knows it is on the page. */
  function setProps(id, props, store) {
    if (!window.dash_clientside || !window.dash_clientside.set_props) return;
    if (store || document.getElementById(id)) window.dash_clientside.set_props(id, props);
  }
  function pageKey() { return ((V.render && V.render.scope) || {}).key; }

  /* --- the grid follows the live state --------------------------------------------------------- */

  C.configure = function (cfg) {
    C.cfg = cfg;
    C.api = null;
    try { C.selected = JSON.parse(window.sessionStorage.getItem(SELECTED_KEY)) || null; } catch (e) { C.selected = null; }
    if (!window.dash_ag_grid) return;
    window.dash_ag_grid.getApiAsync(GRID).then(function (api) {
      C.api = api;
      C.load();
    }).catch(function (err) { console.warn("vigie: alarm grid: " + err.message); });
  };

  /* The whole list, once: when the grid appears and after a fresh snapshot. */
  C.load = function () {
    if (!C.api || !V.live || !V.live.ready) return;
    var rows = Array.from(V.live.alarms.values(), row);
    C.present = new Set(rows.map(function (a) { return a.id; }));
    C.api.setGridOption("rowData", rows);
    C.stats.loads += 1;
    C.count();
    var node = C.selected && C.api.getRowNode(C.selected); // back on the console: the selected row in view again
    if (node && node.displayed) C.api.ensureNodeVisible(node, "middle");
  };

  C.onLive = function (kind, payload) {
    if (kind === "summary" || kind === "snapshot") C.onSummary(payload.summary);
    if (!C.api) return;
    if (C.api.isDestroyed && C.api.isDestroyed()) { C.api = null; return; }
    if (kind === "snapshot") { C.load(); return; }
    if (kind !== "alarms") return;
    var add = [], update = [], remove = [], selectedChanged = false;
    (payload.alarms || []).forEach(function (a) {
      (C.present.has(a.id) ? update : add).push(row(a));
      C.present.add(a.id);
      if (a.id === C.selected) selectedChanged = true;
    });
    (payload.removed || []).forEach(function (id) {
      if (C.present.delete(id)) remove.push({ id: id });
      if (id === C.selected) selectedChanged = true;
    });
    if (!add.length && !update.length && !remove.length) return;
    var t0 = performance.now();
    C.api.applyTransactionAsync({ add: add, update: update, remove: remove }, function () {
      C.stats.transactions += 1;
      C.stats.rows += add.length + update.length + remove.length;
      C.stats.lastMs = performance.now() - t0;
      C.stats.lastAt = Date.now();
      C.count();
    });
    if (selectedChanged) { C.rev += 1; setProps("alarms-selected-rev", { data: C.rev }, true); }
  };

  /* The alarm-system KPIs travel in the summary: a compact strip on the console, a fresh report on the KPI page. */
  var lastKpis = null, kpiTimer = null;
  C.kpiRev = 0;
  C.onSummary = function (summary) {
    var k = summary && summary.alarm_kpis;
    if (!k) return;
    var key = JSON.stringify(k);
    if (key === lastKpis) return;
    lastKpis = key;
    C.kpiStrip(k);
    if (pageKey() === "alarm_kpis" && !kpiTimer) {
      kpiTimer = setTimeout(function () { kpiTimer = null; C.kpiRev += 1; setProps("alarm-kpis-rev", { data: C.kpiRev }, pageKey() === "alarm_kpis"); }, 1000);
    }
  };

  function num(v) {
    if (v === null || v === undefined) return "—";
    return new Intl.NumberFormat((C.cfg || {}).lang === "en" ? "en-GB" : "fr-FR", { maximumFractionDigits: 1 }).format(v);
  }
  C.kpiStrip = function (k) {
    var el = document.getElementById("alarms-kpi-strip");
    if (!el) return;
    var mtta = k.mtta_s === null || k.mtta_s === undefined ? "—" : Math.floor(k.mtta_s / 60) + " min " + String(Math.round(k.mtta_s % 60)).padStart(2, "0") + " s";
    var parts = [t("kpi.short.per_10min") + " " + num(k.per_10min), t("kpi.short.per_hour") + " " + num(k.per_hour),
      t("kpi.short.flood") + " " + num(k.flood_share_pct) + " %", t("kpi.short.mtta") + " " + mtta,
      "⟳ " + k.chattering, t("kpi.short.stale") + " " + k.stale];
    var text = (k.in_flood ? "▲ " + t("kpi.in_flood") + " · " : t("kpi.short") + " · ") + parts.join(" · ");
    if (el.textContent !== text) { el.textContent = text; el.title = text; }
    var worst = [k.per_10min_status, k.per_hour_status, k.flood_share_status].indexOf("bad") >= 0 || k.in_flood ? "bad"
      : [k.per_10min_status, k.per_hour_status, k.flood_share_status].indexOf("warning") >= 0 ? "warning" : "ok";
    el.className = "alarm-kpi-strip status-" + worst;
  };

  C.count = function () {
    var el = document.getElementById("alarms-count");
    if (!el || !C.api) return;
    var text = t("count", { shown: C.api.getDisplayedRowCount(), total: C.present.size });
    if (el.textContent !== text) el.textContent = text;
  };

  C.setFilters = function (domains, priorities, view, area, text) {
    C.filters = { domains: domains ? new Set(domains) : null, priorities: priorities ? new Set(priorities) : null,
      view: view || "handle", area: area || "", text: (text || "").trim().toLowerCase() };
    if (C.api) { C.api.onFilterChanged(); C.count(); }
  };

  C.select = function (id) {
    C.selected = id;
    setProps("alarms-selected", { data: id }, true);
  };

  /* The engine's answer to an action taken here ({id, state} each): the rows move at once, without waiting for the
     push (a shelved alarm leaves "to handle" as soon as the feedback says so). */
  C.applied = function (done) {
    if (!C.api || !done || !done.length) return;
    var update = [], remove = [];
    done.forEach(function (d) {
      var node = C.api.getRowNode(d.id);
      if (!node || !node.data || !d.state || node.data.state === d.state) return;
      if (d.state === "normal") { C.present.delete(d.id); remove.push({ id: d.id }); return; }
      var a = Object.assign({}, node.data, { state: d.state, acknowledged: !UNACK[d.state] });
      update.push(Object.assign(a, { rank: rank(a) }));
    });
    if (!update.length && !remove.length) return;
    C.api.applyTransaction({ update: update, remove: remove });
    C.api.onFilterChanged();
    C.count();
  };

  function pointOf(geometry) {
    if (!geometry) return null;
    var c = geometry.coordinates;
    if (geometry.type === "Point") return c;
    return c[Math.floor(c.length / 2)];
  }

  C.locate = function (a) {
    C.select(a.id);
    fetch("/api/v1/assets/" + encodeURIComponent(a.asset), { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error("asset " + r.status); return r.json(); })
      .then(function (asset) {
        var p = pointOf(asset.geometry);
        if (!p) return;
        var latlng = [p[1], p[0]];
        setProps("territory-map", { viewport: { center: latlng, zoom: 18, transition: "flyTo" } }, true);
        setProps("alarms-focus", { position: latlng }, true);
        C.located = { id: a.asset, at: Date.now() };
      })
      .catch(function (err) { console.warn("vigie: locate " + a.asset + ": " + err.message); });
  };

  C.proposeShelve = function (node) {
    C.api.deselectAll();
    node.setSelected(true);
    setProps("alarms-shelve-reason", { value: t("flag.chattering_hint") });
    var b = document.getElementById("alarms-shelve");
    if (b) b.click();
  };

  C.selectNone = function () { if (C.api) C.api.deselectAll(); };

  /* --- what the grid evaluates ----------------------------------------------------------------- */

  var F = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});
  function isChild(a) { return a.state === "suppressed" && !!a.parent; }

  F.alarmFilterPresent = function () { return true; };
  F.alarmFilterPass = function (node) {
    var a = node.data, f = C.filters;
    if (!a) return false;
    var states = VIEWS[f.view];
    if (f.view === "maintenance") { if (a.alarm_class !== "maintenance") return false; }
    else if (a.alarm_class && a.alarm_class !== "operator" && f.view !== "all") return false; // not the control room's
    else if (f.view === "handle" && a.chatter_held) { /* suppressed as chattering: shown once, to release it */ }
    else if (f.view === "handle" && isChild(a)) {
      if (!C.expanded.has(a.parent) || !C.present.has(a.parent)) return false;
    } else if (states && !states[a.state]) return false;
    if (f.domains && !f.domains.has(a.domain)) return false;
    if (f.priorities && !f.priorities.has(a.priority)) return false;
    if (f.area && a.area !== f.area) return false;
    if (f.text) {
      var hay = [a.asset_name, a.asset, a.message, a.code, a.assignee, a.acked_by, a.id].join(" ").toLowerCase();
      if (hay.indexOf(f.text) < 0) return false;
    }
    return true;
  };

  /* Children right under their parent, whatever the sort. */
  F.alarmPostSort = function (params) {
    if (!C.expanded.size && C.filters.view !== "suppressed" && C.filters.view !== "all") return; // no child shown
    var nodes = params.nodes, ids = new Set(), kids = new Map(), top = [];
    nodes.forEach(function (n) { if (n.data) ids.add(n.data.id); });
    nodes.forEach(function (n) {
      var a = n.data;
      if (a && isChild(a) && ids.has(a.parent)) {
        if (!kids.has(a.parent)) kids.set(a.parent, []);
        kids.get(a.parent).push(n);
      } else top.push(n);
    });
    if (!kids.size) return;
    var out = [];
    top.forEach(function (n) { out.push(n); (kids.get(n.data && n.data.id) || []).forEach(function (k) { out.push(k); }); });
    nodes.length = 0;
    out.forEach(function (n) { nodes.push(n); });
  };

  function isMaintenance(a) { return a.alarm_class === "maintenance"; } // a work order's: nobody acknowledges it here
  F.alarmIsUnack = function (params) { return !!(params.data && UNACK[params.data.state] && !isMaintenance(params.data)); };
  F.alarmIsReturned = function (params) { return !!(params.data && !params.data.active); };
  F.alarmIsChild = function (params) { return !!(params.data && isChild(params.data)); };
  F.alarmIsSelected = function (params) { return !!(params.data && params.data.id === C.selected); };

  F.alarmGroup = function (params) {
    var a = params.data;
    if (!a) return "";
    if (a.children) return (C.expanded.has(a.id) ? "▾ " : "▸ ") + a.children;
    return isChild(a) ? "└" : "";
  };
  F.alarmGroupClass = function (params) { return params.data && params.data.children ? "alarm-group parent" : "alarm-group"; };
  F.alarmGroupTip = function (params) {
    var a = params.data;
    if (!a) return "";
    if (a.children) return t("group.children", { n: a.children }) + " — " + t("group.expand");
    return isChild(a) ? t("group.cause", { id: a.parent }) : "";
  };

  F.alarmPriority = function (params) { // the shape is the cell's marker (assets/alarms.css): it alone blinks
    var p = ((C.cfg || {}).priorities || {})[params.value] || {};
    return p.label || params.value || "";
  };
  /* The alarm type in words (the master alarm database), the supervisor's own text as the detail. */
  F.alarmMessage = function (params) {
    var a = params.data;
    if (!a) return "";
    var label = ((C.cfg || {}).labels || {})[a.code];
    return label ? label + (a.message ? " — " + a.message : "") : (a.message || a.code || "");
  };
  F.alarmPriorityClass = function (params) { return "prio-cell prio-" + params.value; };
  F.alarmPriorityCompare = function (a, b) { return (PRIO_RANK[a] || 0) - (PRIO_RANK[b] || 0); };

  F.alarmState = function (params) {
    var a = params.data || {}, s = isMaintenance(a) ? t("class.maintenance") : t("state." + a.state);
    if (a.shelved_until && V.live) s += " · " + Math.max(0, Math.ceil((a.shelved_until - V.live.now()) / 60)) + " min";
    else if (a.acked_by && !UNACK[a.state]) s += " · " + a.acked_by; // who acknowledged, on every console
    return s;
  };
  /* The operator's order as one number the grid sorts natively: unacknowledged first, then priority, newest first. */
  function rank(a) {
    return ((STATE_RANK[a.state] || 0) * 10 + (PRIO_RANK[a.priority] || 0)) * 1e10 - (a.raised_at || 0);
  }
  function row(a) { return Object.assign({}, a, { rank: rank(a) }); }

  var formats = {}; // Intl formatters are costly to build: one per language
  function format(kind) {
    var lang = (C.cfg || {}).lang === "en" ? "en-GB" : "fr-FR", key = lang + kind;
    if (!formats[key]) {
      var opts = kind === "time" ? { hour: "2-digit", minute: "2-digit", second: "2-digit" } : kind === "day" ? { dateStyle: "short" }
        : { day: "2-digit", month: "2-digit" };
      opts.timeZone = (C.cfg || {}).timezone || undefined;
      formats[key] = new Intl.DateTimeFormat(lang, opts);
    }
    return formats[key];
  }
  F.alarmTime = function (params) {
    if (!params.value) return "";
    var d = new Date(params.value * 1000), time = format("time").format(d), day = format("day");
    return day.format(d) === day.format(new Date()) ? time : format("date").format(d) + " " + time;
  };
  F.alarmDomain = function (params) { return ((C.cfg || {}).domains || {})[params.value] || params.value || ""; };
  F.alarmArea = function (params) { return ((C.cfg || {}).areas || {})[params.value] || params.value || ""; };
  F.alarmAreaTip = F.alarmArea;

  F.alarmFlags = function (params) {
    var a = params.data;
    if (!a) return "";
    var out = [];
    if (a.chatter_held) out.push(t("flag.chatter_held"));
    else if (a.chattering) out.push(t("flag.chattering") + (a.state in VIEWS.handle ? " · " + t("flag.propose_shelve") : ""));
    if (a.comments) out.push("✎" + a.comments);
    return out.join("  ");
  };
  F.alarmFlagsTip = function (params) {
    var a = params.data;
    return !a ? "" : a.chatter_held ? t("flag.chatter_held_hint") : a.chattering ? t("flag.chattering_hint") : "";
  };
  F.alarmFlagsClass = function (params) { return params.data && params.data.chatter_held ? "alarm-flags chatter-held" : "alarm-flags"; };
  F.alarmLocateTip = function () { return t("act.locate"); };
  F.alarmQuickAck = function (params) { return params.data && UNACK[params.data.state] && !isMaintenance(params.data) ? "✓" : ""; };

  F.alarmCellClicked = function (params) {
    var a = params.data;
    if (!a || !params.column) return;
    var col = params.column.getColId();
    if (col === "group" && a.children) {
      if (C.expanded.has(a.id)) C.expanded.delete(a.id); else C.expanded.add(a.id);
      C.api.onFilterChanged();
      C.api.refreshCells({ rowNodes: [params.node], columns: ["group"], force: true });
      C.count();
      return;
    }
    if (col === "locate") { C.locate(a); return; }
    if (col === "quickack" && UNACK[a.state] && !isMaintenance(a)) { V.alarms.act("ack", [a.id]); return; }
    if (col === "flags" && a.chatter_held) { V.alarms.act("release-chatter", [a.id]); return; }
    if (col === "flags" && a.chattering) { C.proposeShelve(params.node); return; }
    C.select(a.id);
    C.api.redrawRows();
  };

  /* --- Dash clientside callbacks --------------------------------------------------------------- */

  var dc = (window.dash_clientside = window.dash_clientside || {});
  dc.vigie_alarms = Object.assign(dc.vigie_alarms || {}, {
    configure: function (cfg) { C.configure(cfg); return dc.no_update; },
    filters: function (domains, priorities, view, area, text) { C.setFilters(domains, priorities, view, area, text); return dc.no_update; },
    selectNone: function () { C.selectNone(); return dc.no_update; },
    applied: function (done) { C.applied(done); return dc.no_update; },
  });

  /* One blink clock for the page: every unacknowledged marker blinks in step (assets/alarms.css). */
  if (!V.blinkClock) {
    V.blinkClock = window.setInterval(function () {
      document.documentElement.classList.toggle("vigie-blink-off");
    }, 500);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!V.follow) return;
    V.follow(function (kind, payload) {
      try { C.onLive(kind, payload); } catch (err) { console.warn("vigie: alarm console: " + err.message); }
    });
  });
})();
