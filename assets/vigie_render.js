/* Vigie: render the live state into the page, in place.
 *
 * Measured: every Dash store update (set_props) costs time proportional to the whole layout, and at
 * a few hundred updates per second the page fell behind the push. So the live parts (numbers, alarm
 * rows, badges, banner) are containers Dash renders once, empty, and this module writes into them
 * with the DOM API: text through textContent, never HTML from data.
 */
(function () {
  "use strict";
  var V = (window.vigie = window.vigie || {});
  var PRIORITIES = ["urgent", "high", "low", "diagnostic"];
  var RANK = { urgent: 0, high: 1, low: 2, diagnostic: 3 };
  var DOMAINS = ["lighting", "water", "traffic"];

  var R = (V.render = { scope: { domains: DOMAINS, kpis: [], alarm_rows: 8 }, selected: null, refresh: 0, last: {} });

  function cfg() { return (V.live && V.live.cfg) || { catalog: {}, lang: "fr" }; }
  function t(key, fmt) {
    var s = (cfg().catalog || {})[key];
    if (s === undefined) s = key;
    if (fmt) Object.keys(fmt).forEach(function (k) { s = s.split("{" + k + "}").join(String(fmt[k])); });
    return s;
  }
  R.t = t;

  /* DOM id of a Dash component id (dict ids are rendered as sorted JSON). */
  function domId(id) {
    if (typeof id !== "object") return id;
    return "{" + Object.keys(id).sort().map(function (k) { return JSON.stringify(k) + ":" + JSON.stringify(id[k]); }).join(",") + "}";
  }
  function byId(id) { return document.getElementById(domId(id)); }
  function setText(el, text) { if (el && el.textContent !== text) el.textContent = text; }
  function setClass(el, cls) { if (el && el.className !== cls) el.className = cls; }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  /* Replace a container's rows only when their content changed (`key` summarises it). */
  function fill(container, key, rows) {
    if (!container || container.__vigieKey === key) return;
    container.__vigieKey = key;
    container.replaceChildren.apply(container, rows);
  }
  R.byId = byId;

  R.applyPalette = function (c) {
    if (!c || !c.css) return;
    var root = document.documentElement;
    Object.keys(c.css).forEach(function (k) { root.style.setProperty(k, c.css[k]); });
    root.setAttribute("data-vigie-theme", c.theme || "light");
    if (c.lang) root.lang = c.lang; // the page's language (the HTML template says fr)
  };

  R.setScope = function (scope) {
    if (scope) R.scope = scope;
    var legend = byId("map-legend"); // folded on small screens (it would hide a third of the map); one click opens it
    if (legend && !legend.__vigieSized) { legend.__vigieSized = true; if (window.innerHeight < 820) legend.open = false; }
  };

  /* --- numbers and ages ------------------------------------------------------------------ */

  /* Decimals shown: one for %, h and small powers, none for counts, speeds and large numbers. */
  function digits(value, unit) {
    if (Math.abs(value) >= 100 || Number.isInteger(value) || unit === "km/h") return 0;
    return 1;
  }
  R.formatNumber = function (value, unit) {
    if (value === null || value === undefined) return t("kpi.none");
    var d = digits(value, unit);
    var locale = cfg().lang === "en" ? "en-GB" : "fr-FR";
    return new Intl.NumberFormat(locale, { minimumFractionDigits: d, maximumFractionDigits: d }).format(value);
  };
  R.age = function (seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) return t("age.never");
    var s = Math.max(0, Math.round(seconds));
    if (s < 90) return t("age.s", { n: s });
    if (s < 5400) return t("age.min", { n: Math.round(s / 60) });
    if (s < 172800) return t("age.h", { n: Math.round(s / 3600) });
    return t("age.d", { n: Math.round(s / 86400) });
  };

  /* --- the parts of the page ---------------------------------------------------------------- */

  R.kpis = function () {
    var kpis = V.live.kpis || {};
    (R.scope.kpis || []).forEach(function (pair) {
      var d = pair[0], key = pair[1];
      var k = (kpis[d] || []).filter(function (x) { return x.key === key; })[0];
      setText(byId({ type: "kpi-value", domain: d, key: key }),
              k ? (k.value === null && k.note ? t("kpi.note." + k.note) : R.formatNumber(k.value, k.unit)) : t("kpi.none"));
      setClass(byId({ type: "kpi-tile", domain: d, key: key }), "kpi-tile" + (k && k.abnormal ? " abnormal" : ""));
    });
  };

  /* Mount the trend charts (dcc.Graph, loading plotly.js) once the map is painted. */
  R.mountTrends = function () {
    var scope = R.scope;
    if (!scope || !scope.trends || R.trendsMounted === scope || !window.dash_clientside.set_props) return;
    R.trendsMounted = scope;
    scope.trends.forEach(function (t) {
      if (byId(t.slot)) window.dash_clientside.set_props(t.slot, { children: t.graph });
    });
  };

  /* New trend points go straight to Plotly (no Dash store update); a trend keeps its last 720 points. */
  R.extendTrends = function (domain, history) {
    if (!window.Plotly) return;
    Object.keys(history || {}).forEach(function (key) {
      var host = byId({ type: "kpi-trend", domain: domain, key: key });
      var gd = host && host.querySelector(".js-plotly-plot");
      var pts = history[key].filter(function (p) { return p[1] !== null; });
      if (!gd || !pts.length) return;
      window.Plotly.extendTraces(gd, { x: [pts.map(function (p) { return p[0] * 1000; })], y: [pts.map(function (p) { return p[1]; })] }, [0], 720);
    });
  };

  function inScope(domain) { return (R.scope.domains || DOMAINS).indexOf(domain) >= 0; }
  var HELD = { shelved: 1, shelved_one_shot: 1, suppressed: 1, out_of_service: 1 }; // not annunciated (docs/alarms.md)

  R.alarms = function () {
    var box = byId("alarm-list");
    if (!box) return;
    var now = V.live.now(), rows = [];
    // maintenance conditions go to work orders, not to the operator (docs/alarms.md)
    V.live.alarms.forEach(function (a) { if (inScope(a.domain) && !HELD[a.state] && a.alarm_class !== "maintenance") rows.push(a); });
    rows = rows.filter(function (a) { return a.active; }); // the newest active ones; the console has the rest
    // ISA-18.2 summary order: the most urgent first, unacknowledged before acknowledged, then the newest
    // (newest-first alone let a flood of low-priority lamp faults push an urgent alarm off the list).
    rows.sort(function (a, b) {
      return RANK[a.priority] - RANK[b.priority] || (a.acknowledged ? 1 : 0) - (b.acknowledged ? 1 : 0) || b.raised_at - a.raised_at;
    });
    var n = R.scope.alarm_rows || 8, shapes = (cfg().palette || {}).priorities || {};
    var shown = rows.slice(0, n);
    // A row is rebuilt only when what it says changed; the others are the same elements (ages move in place), so a
    // row found a moment ago is still the one clicked, and nothing is redrawn when nothing changed.
    var cache = box.__vigieRows || new Map(), kept = new Map();
    var key = "#" + rows.length;
    var nodes = shown.map(function (a) {
      var sig = [a.acknowledged, a.active, a.priority, a.message, a.asset_name || a.asset].join("|");
      var hit = cache.get(a.id), age = R.age(now - a.raised_at);
      key += "|" + a.id + "=" + sig;
      if (hit && hit.sig === sig) {
        if (hit.age.textContent !== age) hit.age.textContent = age;
        kept.set(a.id, hit);
        return hit.node;
      }
      var p = a.priority;
      var state = !a.active ? t("alarms.cleared") : (!a.acknowledged ? t("alarms.unack") : "");
      var row = el("div", "alarm-row prio-" + p + (a.acknowledged ? "" : " unack") + (a.active ? "" : " rtn"));
      var asset = el("a", "alarm-asset", a.asset_name || a.asset); // level 3: the asset's own page
      if (a.asset) asset.href = "/asset/" + encodeURIComponent(a.asset) + window.location.search;
      var ageEl = el("span", "alarm-age", age);
      row.append(el("span", "prio-shape", (shapes[p] || {}).shape || "●"), el("span", "prio-label", t("priority." + p)),
        asset, el("span", "alarm-msg", a.message || a.code), el("span", "alarm-state", state), ageEl);
      if (!a.acknowledged) { // one click: acknowledged through the alarm API (assets/alarms_annunciate.js)
        var ack = el("button", "alarm-ack-btn", "✓");
        ack.type = "button";
        ack.setAttribute("data-alarm-ack", a.id);
        ack.title = t("alarms.ack");
        row.append(ack);
      }
      row.title = (a.asset_name || a.asset) + " — " + (a.message || a.code);
      kept.set(a.id, { sig: sig, node: row, age: ageEl });
      return row;
    });
    box.__vigieRows = kept;
    if (!nodes.length) nodes = [el("div", "alarm-empty", t("alarms.empty"))];
    else if (rows.length > n) nodes.push(el("div", "alarm-more", "+ " + (rows.length - n)));
    fill(box, key, nodes);
  };

  /* Local liveness: the server's status, made worse by the age we see (the push may be down).
     "unknown" stays unknown: the bus is down or just back, and the age says nothing about the supervisor. */
  R.liveness = function (s, now) {
    // silence is the link's: counted in wall seconds, whatever the pace of the territory clock (docs/feed-protocol.md 4.8)
    var c = cfg(), pace = V.live && V.live.speed ? V.live.speed() : 1, age = (now - s.last_seen) / pace, status = s.status;
    if (status === "unknown") return { status: status, age: age };
    if (age >= (c.stale_after_s || 60)) status = "stale";
    else if (age >= (c.late_after_s || 15) && status === "live") status = "late";
    return { status: status, age: age };
  };

  R.supervisors = function () {
    var box = byId("supervisor-badges");
    if (!box) return;
    var now = V.live.now(), shapes = (cfg().palette || {}).liveness || {}, keys = [];
    var badges = V.live.sups.map(function (s) {
      var l = R.liveness(s, now), age = R.age(l.age);
      keys.push(s.id + l.status + age);
      var b = el("span", "sup-badge live-" + l.status);
      b.append(el("span", "sup-shape", (shapes[l.status] || {}).shape || "●"), el("span", "sup-id", s.id),
        el("span", "sup-status", t("liveness." + l.status)), el("span", "sup-age", age));
      return b;
    });
    fill(box, keys.join("|"), badges);
  };

  R.summary = function () {
    var s = V.live.summary;
    if (!s) return;
    var by = s.alarms_by_priority || {};
    PRIORITIES.forEach(function (p) {
      var n = by[p] || 0;
      setText(byId("summary-" + p), String(n));
      setClass(byId("summary-item-" + p), "summary-item prio-" + p + (n ? " active" : " zero"));
    });
    setText(byId("summary-unack"), String(s.unacknowledged || 0));
    setClass(byId("summary-item-unack"), "summary-item unack" + (s.unacknowledged ? " active" : " zero"));
    var sups = s.supervisors || {}, total = (sups.live || 0) + (sups.late || 0) + (sups.stale || 0) + (sups.unknown || 0);
    setText(byId("summary-stale"), (sups.stale || 0) + "/" + total);
    setClass(byId("summary-item-stale"), "summary-item stale" + (sups.stale ? " active" : " zero"));
  };

  R.banner = function () {
    var s = V.live.summary, connected = V.live.connected;
    var busDown = s && s.bus_up === false;
    var text = !connected ? t("banner.push_down") : busDown ? t("banner.bus_down") : "";
    setText(byId("live-banner-text"), text);
    setClass(byId("live-banner"), "live-banner" + (text ? " shown" : ""));
    document.body.classList.toggle("not-live", !!text);
  };

  R.tick = function () {
    var now = V.live ? V.live.now() : Date.now() / 1000;
    var c = cfg(), locale = c.lang === "en" ? "en-GB" : "fr-FR";
    var opts = { hour: "2-digit", minute: "2-digit", second: "2-digit" };
    if (c.timezone) opts.timeZone = c.timezone; // the territory's time, not the browser's
    var clock = byId("clock-text"), speed = V.live && V.live.speed ? V.live.speed() : 1;
    var pace = speed !== 1 ? " ×" + (speed >= 10 ? Math.round(speed) : speed.toFixed(1).replace(/\.0$/, "")) : "";
    setText(clock, new Date(now * 1000).toLocaleTimeString(locale, opts) + pace); // the territory's time, "×60" when simulated
    if (clock) {
      var title = speed !== 1 ? t("clock.simulated", { speed: pace.slice(2) }) : "";
      if (title === "clock.simulated") title = "";
      if (clock.title !== title) clock.title = title;
      clock.classList.toggle("simulated", speed !== 1);
    }
    if (!V.live || !V.live.ready) return;
    R.supervisors();
    R.alarms();
    R.ages(V.live.now());
  };

  /* Ages of what a Dash-rendered list dates (incidents): `data-vigie-since` holds the epoch seconds. */
  R.ages = function (now) {
    document.querySelectorAll("[data-vigie-since]").forEach(function (e) {
      setText(e, R.age(now - Number(e.getAttribute("data-vigie-since"))));
    });
  };
  setInterval(R.tick, 1000); // the clock and the ages (never data)

  R.flush = function (dirty) {
    dirty.forEach(function (what) {
      if (what.indexOf("map:") === 0) { if (V.map) V.map.refresh(what.slice(4)); return; }
      if (what === "kpis") R.kpis();
      else if (what === "alarms") R.alarms();
      else if (what === "supervisors") R.supervisors();
      else if (what === "summary") R.summary();
      else if (what === "banner") R.banner();
    });
  };

  /* The details panel follows its asset: ask the server again when a delta names it. */
  R.selectedChanged = function (ids) {
    if (R.selected && ids.indexOf(R.selected) >= 0 && window.dash_clientside && window.dash_clientside.set_props) {
      R.refresh += 1;
      window.dash_clientside.set_props("details-refresh", { data: R.refresh });
    }
  };

  var dc = (window.dash_clientside = window.dash_clientside || {});
  dc.vigie = Object.assign(dc.vigie || {}, {
    select: function (id) { R.selected = id || null; return dc.no_update; },
  });
})();
