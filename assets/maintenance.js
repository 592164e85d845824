/* Vigie maintenance page: work orders and crews' rounds on the map, and the pushes that refresh the list.
 * Work orders are neutral dots; only a high-priority order takes the high alarm colour (and a larger, squared mark).
 * Crews' rounds are told apart by number and dash pattern as well as by hue. Tooltips are text, never HTML. */
(function () {
  "use strict";
  var V = (window.vigie = window.vigie || {});
  var N = (V.mnt = V.mnt || { pushes: 0 });
  var CREW_COLOURS = ["#1558b0", "#6a3d9a", "#1b7837", "#8c510a", "#01665e", "#762a83"];
  var CREW_DASHES = [null, "10 5", "3 5", "14 4 3 4", "6 6", "1 7"];

  N.point = function (feature, latlng) {
    var p = feature.properties;
    var cls = "mnt-order" + (p.priority === "high" ? " mnt-order-high" : "") + (p.status === "done" ? " mnt-order-done" : "");
    var size = p.priority === "high" ? 14 : 10;
    return L.marker(latlng, { icon: L.divIcon({ className: cls, iconSize: [size, size] }), keyboard: false });
  };

  N.routeStyle = function (feature) {
    var i = ((feature.properties.crew || 1) - 1) % CREW_COLOURS.length;
    return { color: CREW_COLOURS[i], weight: 4, opacity: 0.85, dashArray: CREW_DASHES[i] };
  };

  N.stopPoint = function (feature, latlng) {
    var p = feature.properties;
    var label = document.createElement("span");
    if (p.depot) {
      label.textContent = "⌂";
      return L.marker(latlng, { icon: L.divIcon({ className: "mnt-depot", html: label, iconSize: [22, 22] }), keyboard: false });
    }
    var i = ((p.crew || 1) - 1) % CREW_COLOURS.length;
    label.textContent = p.crew + "." + p.n;
    label.style.borderColor = CREW_COLOURS[i];
    return L.marker(latlng, { icon: L.divIcon({ className: "mnt-stop", html: label, iconSize: [30, 16] }), keyboard: false });
  };

  N.tooltip = function (feature, layer) {
    var text = feature.properties && feature.properties.tooltip;
    if (!text) return;
    var el = document.createElement("span");
    el.textContent = text;
    layer.bindTooltip(el, { direction: "top" });
  };

  /* --- pushes: a work order moved (channel "workorders") ------------------------------------ */
  N.onPush = function (msg) {
    if (!msg || msg.v !== 1) return;
    var ids = [];
    (msg.deltas || []).forEach(function (d) { if (d.ch === "workorders") ids = ids.concat(d.ids || []); });
    if (!ids.length) return;
    N.pushes += 1;
    var set = window.dash_clientside && window.dash_clientside.set_props;
    if (set && document.getElementById("mnt-page")) set("mnt-pushed", { data: { t: Date.now(), ids: ids } });
  };

  N.tap = function () {
    if (!N.tapped && V.tapPush) N.tapped = V.tapPush(function (msg) { N.onPush(msg); }, "vigie maintenance");
  };
  document.addEventListener("DOMContentLoaded", function () { setTimeout(N.tap, 0); });
  var tries = 0, wait = setInterval(function () { N.tap(); if (N.tapped || ++tries > 100) clearInterval(wait); }, 100);
})();
