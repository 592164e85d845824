/* The wall (kiosk) mode: no controls, a rotation playlist with per-item durations that jumps to the
 * domain of a new urgent alarm and holds it until acknowledged, a "last update" corner that turns red
 * when stale, and recovery by itself after a server restart or a network drop (docs/wall.md). */
(function () {
  "use strict";
  var W = (window.vigieWall = window.vigieWall || {});
  var KEY = "vigie.wall.index";
  var RELOAD_AFTER_MS = 20000; // cut off this long, once the server answers again: reload the page
  W.last = Date.now();
  W.stale_after_s = 30;

  function live() { return window.vigie && window.vigie.live; }
  function query() { return new URLSearchParams(window.location.search); }
  W.kiosk = function () { return !!W.playlist || query().get("kiosk") === "1" || window.location.pathname === "/wall"; };

  function lang() { var l = live(); return (l && l.cfg && l.cfg.lang) || document.documentElement.lang || "fr"; }
  function words() { return lang() === "en" ? { updated: "Updated", stale: "NOT UPDATED" } : { updated: "Mise à jour", stale: "PAS À JOUR" }; }

  W.go = function (path) {
    var q = query();
    q.set("kiosk", "1");
    if (!q.get("theme")) q.set("theme", "dark");
    var url = path + "?" + q.toString();
    if (window.location.pathname + window.location.search === url) return;
    window.history.pushState({}, "", url);
    window.dispatchEvent(new CustomEvent("_dashprivate_pushstate")); // what dcc.Link does: Dash's router follows
  };

  function corner() {
    var box = document.getElementById("wall-updated");
    if (!box) {
      box = document.createElement("div");
      box.id = "wall-updated";
      box.className = "wall-updated";
      box.setAttribute("role", "status");
      document.body.appendChild(box);
    }
    return box;
  }

  function paintCorner(now) {
    var kiosk = W.kiosk();
    document.documentElement.classList.toggle("vigie-kiosk", kiosk);
    var box = document.getElementById("wall-updated");
    if (!kiosk) { if (box) box.remove(); return; }
    box = corner();
    var stale = now - W.last > W.stale_after_s * 1000;
    var l = live(), opts = { hour: "2-digit", minute: "2-digit", second: "2-digit" };
    if (l && l.cfg && l.cfg.timezone) opts.timeZone = l.cfg.timezone; // the territory's time, as the header clock
    var t = new Date(W.last).toLocaleTimeString(lang() === "en" ? "en-GB" : "fr-FR", opts);
    var text = (stale ? "▲ " + words().stale + " · " : "") + words().updated + " " + t;
    if (box.textContent !== text) box.textContent = text;
    box.classList.toggle("stale", stale);
  }

  /* A new urgent alarm, active and unacknowledged, that the wall has not held yet (newest first). */
  function newUrgent(l) {
    var best = null;
    l.alarms.forEach(function (a, id) {
      if (W.done.has(id) || a.priority !== "urgent" || !a.active || a.acknowledged) return;
      if (!best || a.raised_at > best.raised_at) best = a;
    });
    return best;
  }

  function rotate(now) {
    var items = W.playlist.items, l = live();
    if (l && l.ready && l.alarms) {
      if (!W.done) W.done = new Set(l.alarms.keys()); // what is already there when the wall starts is not news
      if (W.hold) {
        var held = l.alarms.get(W.hold);
        if (!held || held.acknowledged || !held.active) { // released: carry on where the rotation was
          W.done.add(W.hold);
          W.hold = null;
          W.since = now;
          W.go(items[W.index].path);
        }
      }
      if (!W.hold) {
        var a = newUrgent(l);
        if (a) {
          W.hold = a.id;
          W.go(W.playlist.domains[a.domain] || "/wall");
          return;
        }
      }
    }
    if (W.hold) return;
    if (now - W.since >= items[W.index].seconds * 1000) {
      W.index = (W.index + 1) % items.length;
      W.since = now;
      try { window.sessionStorage.setItem(KEY, String(W.index)); } catch (e) { /* private mode */ }
      W.go(items[W.index].path);
    }
  }

  /* Cut off (socket down, or up without a snapshot) for a while: once the server answers, reload. */
  function recover(now) {
    var l = live();
    var healthy = l && l.connected && l.ready;
    if (healthy) { W.downSince = null; return; }
    if (!W.downSince) { W.downSince = now; return; }
    if (now - W.downSince < RELOAD_AFTER_MS || W.probing) return;
    W.probing = true;
    fetch("/vigie/live", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (r.ok) window.location.reload(); })
      .catch(function () { /* still down: try again later */ })
      .then(function () { W.probing = false; W.downSince = Date.now() - RELOAD_AFTER_MS / 2; });
  }

  W.tick = function () {
    var now = Date.now();
    try {
      if (W.playlist) rotate(now);
      if (W.kiosk()) recover(now);
      paintCorner(now);
    } catch (err) { console.warn("vigie wall: " + err.message); }
  };

  /* Called by the wall page (callbacks/wall.py) with its playlist; revisiting /wall keeps the rotation. */
  W.start = function (playlist) {
    if (!playlist || !playlist.items || !playlist.items.length || W.playlist) return window.dash_clientside.no_update;
    W.playlist = playlist;
    W.stale_after_s = playlist.stale_after_s || 30;
    var saved = 0;
    try { saved = parseInt(window.sessionStorage.getItem(KEY) || "0", 10) || 0; } catch (e) { saved = 0; }
    W.index = saved % playlist.items.length;
    W.since = Date.now();
    W.hold = null;
    W.done = null;
    if (W.index) W.go(playlist.items[W.index].path); // a reload resumes where the rotation was
    return Date.now();
  };

  function follow() {
    var l = live();
    if (!l || !l.on) { setTimeout(follow, 200); return; }
    l.on(function () { W.last = Date.now(); }); // every snapshot or delta applied is news
  }
  follow();
  setInterval(W.tick, 500);
})();
