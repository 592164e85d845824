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

  /* The page a path shows (its root carries `page-<key>`): the wall hides what it shows until that page is there. */
  function keyOf(path) { return path === "/" ? "overview" : path.replace(/^\//, "").split("/")[0]; }
  W.shows = function (path) { return !!document.querySelector(".vigie-page.page-" + keyOf(path)); };

  W.go = function (path) {
    var q = query();
    q.set("kiosk", "1");
    if (!q.get("theme")) q.set("theme", "dark");
    var url = path + "?" + q.toString();
    if (window.location.pathname + window.location.search === url) return;
    W.expect = path; // until its page is rendered, the old one is hidden (content and address switch together)
    W.expectSince = Date.now();
    document.documentElement.classList.toggle("wall-switching", !W.shows(path));
    window.history.pushState({}, "", url);
    window.dispatchEvent(new CustomEvent("_dashprivate_pushstate")); // what dcc.Link does: Dash's router follows
  };

  function switched(now) {
    if (!W.expect) return;
    if (W.shows(W.expect) || now - W.expectSince > 15000) {
      W.expect = null;
      document.documentElement.classList.remove("wall-switching");
    }
  }

  function corner() {
    var box = document.getElementById("wall-updated");
    var tools = document.querySelector(".vigie-header .header-tools");
    if (!box) {
      box = document.createElement("div");
      box.id = "wall-updated";
      box.setAttribute("role", "status");
    }
    if (tools) { // beside the clock: over nothing
      if (box.parentNode !== tools) tools.insertBefore(box, tools.firstChild);
      box.classList.remove("floating");
    } else if (box.parentNode !== document.body) {
      document.body.appendChild(box);
      box.classList.add("floating");
    }
    box.classList.add("wall-updated");
    return box;
  }

  function localTime(epoch_ms) {
    var l = live(), opts = { hour: "2-digit", minute: "2-digit", second: "2-digit" };
    if (l && l.cfg && l.cfg.timezone) opts.timeZone = l.cfg.timezone; // the territory's time, as the header clock
    return new Date(epoch_ms).toLocaleTimeString(lang() === "en" ? "en-GB" : "fr-FR", opts);
  }

  function paintCorner(now) {
    var kiosk = W.kiosk();
    document.documentElement.classList.toggle("vigie-kiosk", kiosk);
    var box = document.getElementById("wall-updated");
    if (!kiosk) { if (box) box.remove(); return; }
    box = corner();
    var stale = now - W.last > W.stale_after_s * 1000;
    var text = (stale ? "▲ " + words().stale + " · " : "") + words().updated + " " + localTime(W.lastShown || W.last);
    if (box.textContent !== text) box.textContent = text;
    box.classList.toggle("stale", stale);
  }

  /* The urgent alarm that holds the wall, in full, at the top of the frame it jumped to (text only, never markup). */
  function paintHold() {
    var l = live(), box = document.getElementById("wall-hold");
    var a = W.hold && l && l.alarms ? l.alarms.get(W.hold) : null;
    var page = document.querySelector(".vigie-page");
    if (!a || !page) { if (box) box.remove(); return; }
    var t = (window.vigie.render && window.vigie.render.t) || function (k) { return k; };
    if (!box) {
      box = document.createElement("div");
      box.id = "wall-hold";
      box.className = "wall-hold";
      box.setAttribute("role", "alert");
      ["hold-shape", "hold-title", "hold-since", "hold-msg"].forEach(function (c) {
        var e = document.createElement("span");
        e.className = c;
        box.appendChild(e);
      });
    }
    var strip = page.querySelector(".summary-strip") || page.querySelector(".vigie-header");
    if (strip && box.previousSibling !== strip) strip.parentNode.insertBefore(box, strip.nextSibling);
    var shape = ((((l.cfg || {}).palette || {}).priorities || {}).urgent || {}).shape || "▲";
    var label = (W.playlist && W.playlist.labels || {})[a.code]; // its type's name (master alarm database), then the supervisor's text
    var what = label ? label + (a.message && a.message !== label ? " — " + a.message : "") : (a.message || a.code || "");
    var parts = [shape, t("priority.urgent") + " · " + t("domain." + a.domain) + " · " + (a.asset_name || a.asset),
                 (lang() === "en" ? "since " : "depuis ") + localTime(a.raised_at * 1000), what];
    parts.forEach(function (text, i) { if (box.children[i].textContent !== text) box.children[i].textContent = text; });
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
      switched(now);
      if (W.kiosk()) recover(now);
      paintCorner(now);
      paintHold();
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
    l.on(function () { // every snapshot or delta applied is news
      W.last = Date.now();
      W.lastShown = l.now ? l.now() * 1000 : W.last; // said in the territory's time, as the header clock (x60 in a demo)
    });
  }
  follow();
  setInterval(W.tick, 500);
})();
