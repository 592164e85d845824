/* Vigie commands in the browser: the selection drawn on the map, override countdowns, pushed progress.
 *
 * Progress arrives on the one Socket.IO event the control room uses ("push", {v, deltas}), as
 * deltas of channel "commands". This module reads every push from Dash's store (as the live
 * module does), tells the commands page which commands moved (store `cmd-pushed`), and refreshes
 * an open asset panel that shows one of them. HTML built here holds numbers only, never feed text.
 */
(function () {
  "use strict";
  var V = (window.vigie = window.vigie || {});
  var C = (V.cmd = V.cmd || { latest: new Map(), pushes: 0 });

  function selColor() {
    var page = document.querySelector(".vigie-page");
    var v = page ? getComputedStyle(page).getPropertyValue("--v-select").trim() : "";
    return v || "#1558b0";
  }

  /* --- the selection on the map ----------------------------------------------------------- */

  C.selPoint = function (feature, latlng) {
    var h = feature.properties.h, color = selColor();
    return L.circleMarker(latlng, {
      radius: h ? 5 : 8, color: color, weight: h ? 2 : 3, opacity: 1,
      fillColor: h ? "#ffffff" : color, fillOpacity: h ? 0.9 : 0.3, dashArray: h ? "2 3" : null, interactive: false,
    });
  };

  C.selCluster = function (feature, latlng) {
    var n = feature.properties.point_count, size = n < 100 ? 30 : n < 1000 ? 38 : 46;
    var html = '<div class="cmd-sel-cluster"><span>' + (n >= 10000 ? Math.round(n / 1000) + "k" : n) + "</span></div>";
    return L.marker(latlng, { icon: L.divIcon({ html: html, className: "cmd-sel-icon", iconSize: L.point(size, size) }), interactive: false });
  };

  C.selLine = function (feature) {
    var h = feature.properties.h;
    return { color: selColor(), weight: h ? 4 : 7, opacity: h ? 0.8 : 0.9, dashArray: h ? "6 6" : null, lineCap: "round" };
  };

  /* --- override countdowns (the server says when; the browser counts) ---------------------- */

  function now() { return V.live && V.live.now ? V.live.now() : Date.now() / 1000; }

  function left(s) {
    s = Math.max(0, Math.round(s));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    if (h) return h + " h " + (m < 10 ? "0" : "") + m + " min";
    if (m) return m + " min " + (sec < 10 ? "0" : "") + sec + " s";
    return sec + " s";
  }

  C.tick = function () {
    var els = document.querySelectorAll("[data-until]");
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      if (!el.dataset.label) el.dataset.label = el.textContent;
      el.textContent = el.dataset.label + " · " + (el.dataset.left || "") + " " + left(+el.dataset.until - now());
    }
  };
  setInterval(C.tick, 1000);

  /* --- pushed progress --------------------------------------------------------------------- */

  C.onPush = function (msg) {
    if (!msg || msg.v !== 1) return;
    var ids = [];
    (msg.deltas || []).forEach(function (d) {
      if (d.ch !== "commands") return;
      (d.commands || []).forEach(function (c) { C.latest.set(c.id, c); ids.push(c.id); });
    });
    if (!ids.length) return;
    C.pushes += 1;
    var set = window.dash_clientside && window.dash_clientside.set_props;
    if (!set) return;
    if (document.getElementById("cmd-page")) set("cmd-pushed", { data: { t: Date.now(), ids: ids } }); // a Store has no DOM node: ask its page
    var shown = ids.some(function (id) { return document.querySelector('.cmd-asset-row[data-cmd="' + CSS.escape(id) + '"]'); });
    var selected = V.render && V.render.selected;
    var names = selected && ids.some(function (id) { return (C.latest.get(id).targets || []).indexOf(selected) >= 0; });
    if ((shown || names) && document.getElementById("details-frame")) set("details-refresh", { data: Date.now() });
  };

  C.tap = function () { // every push, as the live module reads them (assets/vigie_live.js)
    if (!C.tapped && V.tapPush) C.tapped = V.tapPush(function (msg) { C.onPush(msg); }, "vigie commands");
  };

  var dc = (window.dash_clientside = window.dash_clientside || {});
  dc.vigie_cmd = Object.assign(dc.vigie_cmd || {}, {
    drawer: function (focus) { return !!focus; },
    params: function (action) {
      C.tap();
      return "cmd-params act-" + (action || "none");
    },
  });
  document.addEventListener("DOMContentLoaded", function () { setTimeout(C.tap, 0); });
  var tries = 0, wait = setInterval(function () { C.tap(); if (C.tapped || ++tries > 100) clearInterval(wait); }, 100);
})();
