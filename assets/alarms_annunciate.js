/* Vigie annunciation, on every page: a chime for each new urgent or high alarm, repeated while such
 * alarms wait for an acknowledgement; "Silence" quiets this console for the alarms present now (the
 * next new one sounds again). Also the one-click acknowledgement of any element carrying
 * data-alarm-ack (overview list, map details, grid), sent to the alarm API with the CSRF token.
 * Nothing here renders feed text as HTML.
 */
(function () {
  "use strict";
  var V = (window.vigie = window.vigie || {});
  var LOUD = { urgent: 2, high: 1 };
  var SOUNDS = { urgent: "/assets/alarm_urgent.wav", high: "/assets/alarm_high.wav" };
  var REPEAT_MS = 10000;

  var A = (V.annunciator = {
    pending: new Map(), // alarm id -> priority: sounding, unacknowledged, not silenced
    silenced: new Set(), // alarm ids silenced on this console (until they are acknowledged or gone)
    played: 0,
    attempts: 0,
    blocked: false,
    last: null,
    audio: {},
    timer: null,
  });

  function lbl(key, fallback) {
    var c = (V.console && V.console.cfg && V.console.cfg.catalog) || {};
    return c[key] || fallback;
  }
  function quiet() { // the wall only shows
    var scope = (V.render && V.render.scope) || {};
    return scope.key === "wall";
  }
  function unacked(a) { // a maintenance condition never sounds: it is a work order's (docs/alarms.md)
    if (a.alarm_class === "maintenance") return false;
    return a.state ? a.state === "active_unack" : a.active && !a.acknowledged;
  }

  /* --- following the live alarms ----------------------------------------------------------- */

  A.consider = function (a) {
    if (LOUD[a.priority] && unacked(a)) {
      if (!A.pending.has(a.id) && !A.silenced.has(a.id)) { A.pending.set(a.id, a.priority); A.fresh = true; }
    } else {
      A.pending.delete(a.id);
      A.silenced.delete(a.id);
    }
  };

  A.onLive = function (kind, payload) {
    if (kind === "snapshot") {
      var seen = new Set();
      V.live.alarms.forEach(function (a) { seen.add(a.id); A.consider(a); });
      A.pending.forEach(function (_p, id) { if (!seen.has(id)) A.pending.delete(id); });
    } else if (kind === "alarms") {
      (payload.alarms || []).forEach(A.consider);
      (payload.removed || []).forEach(function (id) { A.pending.delete(id); A.silenced.delete(id); });
    } else {
      return;
    }
    if (A.fresh) { A.fresh = false; A.sound(); }
    A.schedule();
    A.render();
  };

  A.loudest = function () {
    var best = null;
    A.pending.forEach(function (p) { if (!best || LOUD[p] > LOUD[best]) best = p; });
    return best;
  };

  A.sound = function () {
    var p = A.loudest(), now = Date.now();
    if (!p || quiet() || now - (A.lastAt || 0) < 1500) return; // a flood chimes once, not once per alarm
    A.lastAt = now;
    var audio = A.audio[p] || (A.audio[p] = new Audio(SOUNDS[p]));
    A.attempts += 1;
    try { audio.currentTime = 0; } catch (err) { /* not loaded yet */ }
    var played = audio.play();
    if (played && played.then) {
      played.then(function () { A.played += 1; A.last = p; A.blocked = false; A.render(); })
        .catch(function () { A.blocked = true; A.render(); });
    } else {
      A.played += 1;
      A.last = p;
    }
  };

  A.schedule = function () {
    if (A.pending.size && !A.timer) {
      A.timer = setInterval(function () { if (A.pending.size) A.sound(); else { clearInterval(A.timer); A.timer = null; } }, REPEAT_MS);
    } else if (!A.pending.size && A.timer) {
      clearInterval(A.timer);
      A.timer = null;
    }
  };

  A.silence = function () {
    A.lastAt = 0; // the next new alarm sounds at once
    A.pending.forEach(function (_p, id) { A.silenced.add(id); });
    A.pending.clear();
    Object.keys(A.audio).forEach(function (k) { A.audio[k].pause(); });
    A.schedule();
    A.render();
  };

  /* A small control on every page while something sounds (or the browser blocks sound): in the alarm summary strip
   * or the header (layouts/shell.py), where it covers no alarm row; floating bottom right on a page with neither. */
  A.render = function () {
    var own = document.getElementById("alarms-silence"); // the console has its own Silence button
    if (own) {
      own.textContent = "♪ " + lbl("act.silence", "Silence") + (A.pending.size ? " (" + A.pending.size + ")" : "");
      own.className = "alarm-action silence" + (A.pending.size ? " sounding prio-" + (A.loudest() || "high") : "");
    }
    var box = document.getElementById("vigie-annunciator");
    var show = !quiet() && (A.pending.size > 0 || A.blocked) && !(own && !A.blocked);
    if (!show) { if (box) box.hidden = true; return; }
    if (!box) {
      box = document.createElement("button");
      box.id = "vigie-annunciator";
      box.type = "button";
      box.addEventListener("click", function () {
        if (A.blocked) { A.blocked = false; A.sound(); } else A.silence();
      });
    }
    // the summary strip's place, else the header's (layouts/shell.py); a page with neither: floating
    var home = document.querySelector(".summary-strip .annunciator-slot") || document.querySelector(".annunciator-slot") || document.body;
    if (box.parentNode !== home) home.appendChild(box);
    box.hidden = false;
    box.className = "annunciator " + (A.blocked ? "blocked" : "sounding prio-" + (A.loudest() || "high"));
    box.textContent = A.blocked ? "♪ ✕ " + lbl("act.sound_blocked", "Son bloqué : cliquer pour l'activer")
      : "♪ " + lbl("act.silence", "Silence") + " (" + A.pending.size + ")";
    box.title = box.textContent;
  };
  // A new page brings a new header: put the button back in its slot while something sounds.
  setInterval(function () { if (A.pending.size || A.blocked) A.render(); }, 1000);

  /* --- acting on alarms from anywhere -------------------------------------------------------- */

  function cookie(name) {
    var m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }

  V.alarms = V.alarms || {};
  V.alarms.act = function (action, ids, params) {
    var body = Object.assign({ ids: ids }, params || {});
    return fetch("/api/v1/alarms/" + action, {
      method: "POST", credentials: "same-origin", cache: "no-store",
      headers: { "Content-Type": "application/json", "X-CSRFToken": cookie("_csrf_token") },
      body: JSON.stringify(body),
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) { return { status: r.status, body: j }; });
    });
  };

  function outcomeText(res) {
    var r = ((res.body || {}).results || [])[0];
    if (!r) return (res.body || {}).message || "✗";
    if (r.result === "done") return "✓";
    if (r.result === "already") return "✓ " + (r.by || "");
    return "✗ " + (r.message || r.result);
  }

  document.addEventListener("click", function (ev) {
    var target = ev.target && ev.target.closest ? ev.target.closest("[data-alarm-ack],[data-silence]") : null;
    if (!target) return;
    if (target.hasAttribute("data-silence")) { A.silence(); return; }
    ev.preventDefault();
    ev.stopPropagation();
    var id = target.getAttribute("data-alarm-ack");
    target.disabled = true;
    V.alarms.act("ack", [id]).then(function (res) {
      target.textContent = outcomeText(res);
      target.title = ((res.body || {}).results || [{}])[0].message || "";
    }).catch(function () { target.disabled = false; target.textContent = "✗"; });
  }, true);

  /* --- the live hook ------------------------------------------------------------------------- */

  V.follow = function (fn) { // modules that follow the live state (vigie_live.js `on`)
    if (!V.live || typeof V.live.on !== "function") return false;
    V.live.on(fn);
    return true;
  };

  document.addEventListener("DOMContentLoaded", function () {
    V.follow(function (kind, payload) {
      try { A.onLive(kind, payload); } catch (err) { console.warn("vigie: annunciation: " + err.message); }
    });
  });
})();
