/* The engineers' supervisors page follows the registry: when a `supervisors` push arrives (a supervisor's
 * health changed, or its registry entry: learned, held, approved, two publishers), the page asks Dash for
 * the sections again, at most every 2 s (store "supervisors-rev", callbacks/supervisors.py). */
(function () {
  "use strict";
  var V = (window.vigie = window.vigie || {});
  var rev = 0, timer = null, last = null;

  function onPage() { return ((V.render && V.render.scope) || {}).key === "supervisors"; }

  function bump() {
    timer = null;
    if (!onPage() || !window.dash_clientside || !window.dash_clientside.set_props) return;
    rev += 1;
    window.dash_clientside.set_props("supervisors-rev", { data: rev });
  }

  function follow(kind, payload) {
    if (kind !== "supervisors" || !onPage()) return;
    var key = JSON.stringify([payload.registry, (payload.supervisors || []).map(function (s) { return [s.id, s.status]; })]);
    if (key === last) return;
    last = key;
    if (!timer) timer = setTimeout(bump, 2000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (V.live && typeof V.live.on === "function") V.live.on(follow);
  });
})();
