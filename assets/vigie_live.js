/* Vigie live state in the browser: snapshot, then versioned deltas pushed over Socket.IO.
 *
 * One module per page (window.vigie.live). A delta older than the snapshot is dropped; a gap in a
 * channel's `seq` (a delta lost on the way) triggers a fresh snapshot. Protocol: docs/ui.md.
 */
(function () {
  "use strict";
  var V = (window.vigie = window.vigie || {});
  var DOMAINS = ["lighting", "water", "traffic"];
  var CHANNELS = ["lighting", "water", "traffic", "alarms", "supervisors", "summary"];

  function emptyConds() {
    var c = {};
    DOMAINS.forEach(function (d) { c[d] = new Map(); });
    return c;
  }

  var live = (V.live = {
    cfg: null,
    ready: false,
    connected: false,
    seq: {},
    buffer: [],
    cond: emptyConds(),
    band: emptyConds(), // speed / pressure band codes (services/core/bands.py), non-zero only
    prio: new Map(), // asset id -> rank of its worst annunciated active alarm (0 urgent .. 3 diagnostic)
    alarms: new Map(),
    unack: new Map(), // asset id -> unacknowledged alarms
    kpis: {},
    sups: [],
    summary: null,
    offset: 0, // server clock - browser clock (s)
    frozen: null, // a paused replay session's clock (s): time stands still (callbacks/replay_exercise.py)
    geoRev: {},
    fetching: null,
    replaying: {}, // channel -> deltas held while its missing ones are fetched
    stats: { deltas: 0, dropped: 0, gaps: 0, snapshots: 0, bytes: 0, applyMs: 0 },
    dirty: new Set(),
    marks: [], // [{ch, seq, t, ids}] for the latency benchmark
    countBytes: false, // the benchmark turns it on
  });

  /* Vigie's time: the territory clock, which runs `speed` times as fast as the wall clock when the supervisors are
   * simulated at a speed (the summary says it: docs/feed-protocol.md, "The territory clock"); between two messages
   * it runs on at that pace from the server's last `t`. */
  live.offsetAt = Date.now() / 1000; // browser time when `offset` was last set
  live.speed = function () { var c = live.summary && live.summary.clock; return c && c.speed > 0 ? c.speed : 1; };
  live.now = function () {
    if (live.frozen !== null) return live.frozen;
    var w = Date.now() / 1000;
    return w + live.offset + (w - live.offsetAt) * (live.speed() - 1);
  };

  /* Other modules (the alarm console, the annunciator) follow what is applied: fn(kind, payload) with
   * kind "snapshot" or a channel name. A follower's error never stops the live module. */
  live.followers = [];
  live.on = function (fn) { live.followers.push(fn); };
  function notify(kind, payload) {
    live.followers.forEach(function (fn) {
      try { fn(kind, payload); } catch (err) { console.warn("vigie: follower: " + err.message); }
    });
  }

  /* Ask for the snapshot while Dash boots; deltas that land before it are buffered, those it
   * already holds are dropped by `seq`, and any missed in between are replayed. */
  live.early = fetch("/vigie/live", { credentials: "same-origin", cache: "no-store" })
    .then(function (r) { if (!r.ok) throw new Error("snapshot " + r.status); return r.json(); });
  live.early.catch(function () { live.early = null; });

  live.configure = function (cfg) {
    if (!live.cfg) performance.mark("vigie:configured");
    live.cfg = cfg;
    if (cfg && cfg.geo_rev) {
      DOMAINS.forEach(function (d) { if (live.geoRev[d] === undefined) live.geoRev[d] = cfg.geo_rev[d]; });
    }
    if (V.render) V.render.applyPalette(cfg);
    if (live.connected && !live.ready) live.resync("configured");
  };

  live.condOf = function (domain, id, fallback) {
    if (!live.ready) return fallback === undefined ? 1 : fallback;
    var c = live.cond[domain].get(id);
    return c === undefined ? 0 : c;
  };

  live.unackOf = function (id) { return live.unack.get(id) || 0; };
  live.bandOf = function (domain, id) { return live.band[domain].get(id) || 0; };
  live.prioOf = function (id) { var p = live.prio.get(id); return p === undefined ? -1 : p; };

  /* --- connection ------------------------------------------------------------------------ */

  live.onConnected = function (connected) {
    var was = live.connected;
    live.connected = !!connected;
    if (live.connected && !was) live.resync("connect");
    live.touch("banner");
  };

  live.resync = function (why) {
    if (!live.cfg) return;
    if (live.fetching) return live.fetching;
    live.ready = false;
    var early = live.early;
    live.early = null;
    live.fetching = (early || fetch(live.cfg.live_url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error("snapshot " + r.status); return r.json(); }))
      .then(function (snap) { live.fetching = null; live.applySnapshot(snap); })
      .catch(function (err) {
        live.fetching = null;
        console.warn("vigie: snapshot failed (" + why + "): " + err.message);
        setTimeout(function () { live.resync("retry"); }, 2000);
      });
    return live.fetching;
  };

  live.applySnapshot = function (s) {
    live.stats.snapshots += 1;
    performance.mark("vigie:snapshot");
    live.offsetAt = Date.now() / 1000;
    live.offset = s.t - live.offsetAt;
    live.seq = s.seq || {};
    live.cond = emptyConds();
    live.band = emptyConds();
    DOMAINS.forEach(function (d) {
      var m = live.cond[d], a = (s.assets || {})[d] || {};
      Object.keys(a).forEach(function (id) { m.set(id, a[id]); });
      var mb = live.band[d], b = (s.bands || {})[d] || {};
      Object.keys(b).forEach(function (id) { mb.set(id, b[id]); });
    });
    live.alarms = new Map();
    (s.alarms || []).forEach(function (a) { live.alarms.set(a.id, a); });
    live.reindexUnack();
    live.kpis = s.kpis || {};
    live.sups = s.supervisors || [];
    live.summary = s.summary || null;
    live.replaying = {};
    live.ready = true;
    notify("snapshot", s); // before the deltas that arrived meanwhile
    var geoRev = s.geo_rev || {};
    DOMAINS.forEach(function (d) { live.maybeReloadGeo(d, geoRev[d]); });
    var pending = live.buffer;
    live.buffer = [];
    pending.forEach(function (m) { live.onDelta(m.ch, m); });
    ["map", "kpis", "alarms", "supervisors", "summary", "banner"].forEach(live.touch);
    live.touchMaps();
    var lamps = V.render && (V.render.scope.layers || []).indexOf("lighting") >= 0;
    if (V.map) V.map.loadDeferredSoon(lamps ? 1500 : 50); // without lamps to wait for, at once
  };

  live.touchMaps = function () {
    DOMAINS.forEach(function (d) { if (V.map) V.map.all[d] = true; live.touch("map:" + d); });
  };

  /* --- deltas ----------------------------------------------------------------------------- */

  live.onDelta = function (ch, msg) {
    if (!msg || CHANNELS.indexOf(ch) < 0) return;
    if (!live.ready) { live.buffer.push(msg); return; }
    if (live.replaying[ch]) { live.replaying[ch].push(msg); return; }
    var last = live.seq ? live.seq[ch] : null;
    if (last !== null && last !== undefined) {
      if (msg.seq <= last) { live.stats.dropped += 1; return; } // older than what we hold
      if (msg.seq > last + 1) { live.stats.gaps += 1; live.replay(ch, last, msg); return; } // a delta was lost
    }
    live.seq[ch] = msg.seq;
    live.offsetAt = Date.now() / 1000;
    live.offset = msg.t - live.offsetAt;
    live.stats.deltas += 1;
    if (live.countBytes) live.stats.bytes += JSON.stringify(msg).length;
    var t0 = performance.now();
    live.apply(ch, msg);
    live.stats.applyMs += performance.now() - t0;
  };

  /* One push message holds the deltas of every channel the server flushed together. */
  live.onPush = function (msg) {
    if (!msg || msg.v !== 1) return;
    (msg.deltas || []).forEach(function (d) { live.onDelta(d.ch, d); });
  };

  /* A lost delta (the page was busy and Dash kept only the newest value of the prop): fetch the
   * missing ones from the server's short replay buffer; a full snapshot when they are gone. */
  live.replay = function (ch, after, msg) {
    live.replaying[ch] = [msg];
    var url = live.cfg.replay_url + "?ch=" + encodeURIComponent(ch) + "&after=" + after;
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error("replay " + r.status); return r.json(); })
      .then(function (missed) {
        if (!missed.length || missed[0].seq !== after + 1) throw new Error("replay incomplete");
        var queue = missed.concat(live.replaying[ch]).sort(function (a, b) { return a.seq - b.seq; });
        live.replaying[ch] = null;
        queue.forEach(function (m) { live.onDelta(ch, m); });
      })
      .catch(function () {
        var queue = live.replaying[ch] || [];
        live.replaying[ch] = null;
        live.buffer = live.buffer.concat(queue);
        live.resync("gap");
      });
  };

  live.apply = function (ch, msg) {
    if (DOMAINS.indexOf(ch) >= 0) {
      var m = live.cond[ch], ids = Object.keys(msg.assets || {});
      ids.forEach(function (id) {
        var c = msg.assets[id];
        if (c === 0) m.delete(id); else m.set(id, c);
      });
      (msg.removed || []).forEach(function (id) { m.delete(id); live.band[ch].delete(id); });
      var mb = live.band[ch], bids = Object.keys(msg.bands || {});
      bids.forEach(function (id) { var b = msg.bands[id]; if (b) mb.set(id, b); else mb.delete(id); });
      if (bids.length) ids = ids.concat(bids);
      if (V.map) V.map.mark(ch, ids);
      if (V.render) V.render.selectedChanged(ids);
      if (msg.kpis) { live.kpis[ch] = msg.kpis; live.touch("kpis"); }
      if (msg.history && V.render) V.render.extendTrends(ch, msg.history);
      live.maybeReloadGeo(ch, msg.geo_rev);
      if (ids.length || (msg.removed || []).length) live.touch("map:" + ch);
      live.marks.push({ ch: ch, seq: msg.seq, at: performance.now(), ids: ids.length < 50 ? ids : [] });
      if (live.marks.length > 500) live.marks.splice(0, 250);
    } else if (ch === "alarms") {
      var touched = {}; // map badges count unacknowledged alarms
      var note = function (a) { if (a && live.cond[a.domain]) { (touched[a.domain] = touched[a.domain] || []).push(a.asset); } };
      (msg.alarms || []).forEach(function (a) { note(live.alarms.get(a.id)); note(a); live.alarms.set(a.id, a); });
      (msg.removed || []).forEach(function (id) { note(live.alarms.get(id)); live.alarms.delete(id); });
      live.reindexUnack();
      live.touch("alarms");
      Object.keys(touched).forEach(function (d) { if (V.map) V.map.mark(d, touched[d]); live.touch("map:" + d); });
    } else if (ch === "supervisors") {
      live.sups = msg.supervisors || [];
      live.touch("supervisors");
    } else if (ch === "summary") {
      live.summary = msg.summary;
      live.touch("summary");
      live.touch("banner");
    }
    notify(ch, msg);
  };

  var RANK = { urgent: 0, high: 1, low: 2, diagnostic: 3 };
  var HELD = { shelved: 1, shelved_one_shot: 1, suppressed: 1, out_of_service: 1 }; // not annunciated (docs/alarms.md)

  /* Per asset: unacknowledged alarms (map badges) and the worst priority of its active, annunciated alarms (map colour). */
  live.reindexUnack = function () {
    var u = new Map(), p = new Map();
    live.alarms.forEach(function (a) {
      if (a.alarm_class === "maintenance") return; // a work order's, not the operator's (docs/alarms.md)
      if (!a.acknowledged) u.set(a.asset, (u.get(a.asset) || 0) + 1);
      var r = RANK[a.priority];
      if (a.active && !HELD[a.state] && r !== undefined) { var was = p.get(a.asset); if (was === undefined || r < was) p.set(a.asset, r); }
    });
    live.unack = u;
    live.prio = p;
  };

  live.maybeReloadGeo = function (domain, rev) {
    if (rev === undefined || rev === null) return;
    var have = live.geoRev[domain];
    if (have === undefined || rev > have) {
      live.geoRev[domain] = rev;
      if (V.map) V.map.reload(domain, rev);
    }
  };

  /* --- rendering, batched on the next animation frame -------------------------------------- */

  var scheduled = false;
  live.touch = function (what) {
    live.dirty.add(what);
    if (scheduled) return;
    scheduled = true;
    var run = function () {
      scheduled = false;
      var dirty = live.dirty;
      live.dirty = new Set();
      if (V.render) V.render.flush(dirty);
    };
    if (document.hidden) setTimeout(run, 50); else window.requestAnimationFrame(run);
  };

  /* --- receiving the pushes --------------------------------------------------------------------
   * dash-socketio sets the socket component's `data-push` prop for every message. A Dash callback
   * on that prop sees only the newest value when several arrive while the page is busy, so the
   * module also watches Dash's store (window.dash_stores, the one dash_clientside.set_props uses) and
   * takes every value as it lands. The callbacks remain as a fallback; `seq` drops duplicates. */

  /* Call onMessage(msg) with every value of the push socket's `data-push` prop as it lands in Dash's store;
   * false while Dash has no store yet (call again later). assets/commands.js taps the same way. */
  V.tapPush = function (onMessage, who) {
    var stores = window.dash_stores || [];
    if (!stores.length) return false;
    var store = stores[0], path = null, last = null;
    store.subscribe(function () {
      try {
        var st = store.getState();
        if (!path) path = st.paths && st.paths.strs && st.paths.strs["push-socket"];
        if (!path) return;
        var node = st.layout;
        for (var i = 0; i < path.length && node; i++) node = node[path[i]];
        if (!node || !node.props) { path = null; return; }
        var msg = node.props["data-push"];
        if (msg && msg !== last) { last = msg; onMessage(msg); }
      } catch (err) {
        console.warn(who + ": push tap: " + err.message);
      }
    });
    return true;
  };

  live.tap = function () {
    if (!live.tapped) live.tapped = V.tapPush(function (msg) { live.onPush(msg); }, "vigie");
  };

  /* --- Dash clientside callbacks ------------------------------------------------------------ */

  var dc = (window.dash_clientside = window.dash_clientside || {});
  var nu = function () { return dc.no_update; };
  dc.vigie = Object.assign(dc.vigie || {}, {
    configure: function (cfg, scope) {
      live.tap();
      if (V.render) V.render.setScope(scope);
      live.configure(cfg);
      if (V.map) { V.map.fed = null; V.map.feed("lighting"); } // a new page: a new lamp layer to fill
      if (live.ready) {
        ["map", "kpis", "alarms", "supervisors", "summary", "banner"].forEach(live.touch);
        live.touchMaps();
      }
      return nu();
    },
    connected: function (connected) { live.onConnected(connected); return nu(); },
    push: function (m) { if (m && !live.tapped) live.onPush(m); return nu(); },
  });
})();
