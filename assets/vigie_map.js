/* Vigie map styling, assigned to dash-leaflet layers as {"variable": "vigie.map.<fn>"}.
 *
 * The features carry only id, type and the condition at load time; the live condition, value band
 * (speed against free flow, pressure against thresholds) and alarms come from window.vigie.live.
 * Colour means an active alarm, by its worst priority; a condition without an alarm (fault,
 * maintenance, unknown) is a neutral shape; the value bands colour only what is out of normal.
 * Lamps are clustered (supercluster); a cluster shows the worst alarm priority it holds, its faults
 * and its unacknowledged alarms. Roads, pipes and water/traffic points are restyled in place when a
 * delta names them, never rebuilt. HTML built here holds constants and numbers only, never feed text.
 */
(function () {
  "use strict";
  var V = (window.vigie = window.vigie || {});
  var DOMAINS = ["lighting", "water", "traffic"];

  var M = (V.map = {
    registry: { water: new Map(), traffic: new Map() },
    pending: { lighting: new Set(), water: new Set(), traffic: new Set() },
    all: { lighting: true, water: true, traffic: true },
    leafCache: new WeakMap(),
    lampMarkers: new Set(), // lamp clusters and single lamps currently drawn
    lastRedraw: {},
  });

  function pal() { return ((V.live && V.live.cfg) || {}).palette || { neutral: {}, conditions: {} }; }
  function neutral() { return pal().neutral || {}; }
  function condStyle(c) { return (pal().conditions || {})[String(c)] || {}; }
  var PRIO = ["urgent", "high", "low", "diagnostic"];
  function prioStyle(p) { return (pal().priorities || {})[PRIO[p]] || {}; }
  function speedStyle(b) { return (pal().speed_bands || {})[String(b)] || {}; }
  function pressureStyle(b) { return (pal().pressure_bands || {})[String(b)] || {}; }
  function prioOf(id) { return V.live && V.live.ready ? V.live.prioOf(id) : -1; }
  function bandOf(domain, id) { return V.live && V.live.ready ? V.live.bandOf(domain, id) : 0; }
  function condOf(domain, f) { return V.live ? V.live.condOf(domain, f.properties.id, f.properties.c) : f.properties.c; }
  function unackOf(id) { return V.live ? V.live.unackOf(id) : 0; }
  function domainOf(context) { return (context && context.hideout && context.hideout.domain) || "lighting"; }

  /* --- icons (constants and numbers only) ------------------------------------------------- */

  function shapeIcon(c, unack, size) {
    var s = condStyle(c), px = size || 18;
    var html = '<span class="vm-shape vm-c' + c + (unack ? " vm-unack" : "") + '">' + (s.shape || "") + "</span>";
    return L.divIcon({ html: html, className: "vm-icon", iconSize: [px, px], iconAnchor: [px / 2, px / 2] });
  }

  /* An asset with an active alarm: the shape and colour of its worst priority. */
  function prioIcon(p, unack, size) {
    var s = prioStyle(p), px = size || 20;
    var html = '<span class="vm-shape vm-p' + p + (unack ? " vm-unack" : "") + '">' + (s.shape || "") + "</span>";
    return L.divIcon({ html: html, className: "vm-icon", iconSize: [px, px], iconAnchor: [px / 2, px / 2] });
  }

  /* A water point out of its pressure range (and without an alarm): a coloured dot with - or +. */
  function pressureIcon(b) {
    var html = '<span class="vm-pb vm-pb' + b + '">' + (pressureStyle(b).shape || "") + "</span>";
    return L.divIcon({ html: html, className: "vm-icon", iconSize: [16, 16], iconAnchor: [8, 8] });
  }

  /* Alarm first (colour by priority), then the pressure band, then the condition's neutral shape. */
  function pointIcon(domain, f) {
    var id = f.properties.id, p = prioOf(id), c = condOf(domain, f), u = unackOf(id);
    var kind = f.properties.k === "TrafficSignal" ? "signal" : "water";
    if (p >= 0) return prioIcon(p, u, 20);
    var b = domain === "water" ? bandOf(domain, id) : 0;
    if (b) return pressureIcon(b);
    return c >= 2 || u ? shapeIcon(c, u, 20) : neutralIcon(kind);
  }
  M.pointIcon = pointIcon;

  function neutralIcon(kind) {
    return L.divIcon({ html: '<span class="vm-dot vm-' + kind + '"></span>', className: "vm-icon", iconSize: [10, 10], iconAnchor: [5, 5] });
  }
  M.neutralIcon = neutralIcon;

  /* --- lamps: clusters and single points ------------------------------------------------- */

  function leavesOf(index, clusterId) {
    var cache = M.leafCache.get(index);
    if (!cache) { cache = new Map(); M.leafCache.set(index, cache); }
    var ids = cache.get(clusterId);
    if (!ids) {
      ids = index.getLeaves(clusterId, Infinity).map(function (f) { return f.properties.id; });
      cache.set(clusterId, ids);
    }
    return ids;
  }

  /* What a cluster holds: worst condition, faults, unacknowledged alarms, worst active alarm priority (-1: none). */
  M.aggregate = function (domain, ids) {
    var live = V.live, conds = live && live.ready ? live.cond[domain] : null;
    var worst = 0, faults = 0, unack = 0, prio = -1;
    if (!conds) return { worst: 1, faults: 0, unack: 0, prio: -1 };
    var u = live.unack, pr = live.prio, checkU = u.size > 0, checkC = conds.size > 0, checkP = pr.size > 0;
    if (!checkU && !checkC && !checkP) return { worst: 0, faults: 0, unack: 0, prio: -1 };
    for (var i = 0; i < ids.length; i++) {
      var id = ids[i];
      if (checkC) {
        var c = conds.get(id);
        if (c !== undefined) { if (c > worst) worst = c; if (c === 4) faults += 1; }
      }
      if (checkU) { var n = u.get(id); if (n) unack += n; }
      if (checkP) { var p = pr.get(id); if (p !== undefined && (prio < 0 || p < prio)) prio = p; }
    }
    return { worst: worst, faults: faults, unack: unack, prio: prio };
  };
  function sigOf(agg) { return agg.worst + "/" + agg.faults + "/" + agg.unack + "/" + agg.prio; }

  function abbreviate(n) {
    if (n >= 10000) return Math.round(n / 1000) + "k";
    if (n >= 1000) return (Math.round(n / 100) / 10).toString().replace(".", ",") + "k";
    return String(n);
  }

  /* Ring coloured by the worst active alarm priority (its shape top left); faults (neutral) top right;
   * unacknowledged alarms bottom right. */
  function lampClusterIcon(count, agg) {
    var size = count < 100 ? 34 : count < 1000 ? 42 : 50;
    var s = condStyle(agg.worst), p = agg.prio;
    var html = '<div class="vc vc-p' + (p >= 0 ? p : "n") + " vc-w" + agg.worst + '" data-faults="' + agg.faults +
      '" data-unack="' + agg.unack + '" data-prio="' + p + '">' +
      '<span class="vc-n">' + abbreviate(count) + "</span>" +
      (p >= 0 ? '<span class="vc-a vm-p' + p + '">' + (prioStyle(p).shape || "") + "</span>" : "") +
      (agg.worst >= 2 ? '<span class="vc-f">' + (s.shape || "") + (agg.faults ? agg.faults : "") + "</span>" : "") +
      (agg.unack ? '<span class="vc-u">!' + agg.unack + "</span>" : "") + "</div>";
    return L.divIcon({ html: html, className: "vc-icon", iconSize: L.point(size, size) });
  }

  function lampIcon(c, u, p) {
    if (p >= 0) return prioIcon(p, u, 20);
    return c >= 1 || u ? shapeIcon(c, u, 20) : neutralIcon("lamp");
  }

  M.lampCluster = function (feature, latlng, index, context) {
    var domain = domainOf(context);
    if (context && context.map) {
      if (!M.leaflet) performance.mark("vigie:first-cluster");
      M.leaflet = context.map; // the Leaflet map, for scripts and benchmarks
      M.loadDeferredSoon();
    }
    var count = feature.properties.point_count;
    var agg = M.aggregate(domain, leavesOf(index, feature.properties.cluster_id));
    // above the water and traffic points of the overview (same marker pane): a cluster's counts stay readable
    var marker = L.marker(latlng, { icon: lampClusterIcon(count, agg), title: M.clusterTitle(count, agg), zIndexOffset: 1000 });
    marker.vigie = { index: index, cid: feature.properties.cluster_id, count: count, sig: sigOf(agg) };
    M.lampMarkers.add(marker);
    return marker;
  };

  M.clusterTitle = function (count, agg) {
    var t = V.render ? V.render.t : function (k) { return k; };
    return count + " · " + agg.faults + " " + t("map.cluster_faults") + " · " + agg.unack + " " + t("map.cluster_unack");
  };

  M.lampPoint = function (feature, latlng, context) {
    var domain = domainOf(context), id = feature.properties.id, c = condOf(domain, feature), u = unackOf(id), p = prioOf(id);
    var marker = L.marker(latlng, { icon: lampIcon(c, u, p), keyboard: false });
    marker.vigie = { id: id, sig: c + "/" + u + "/" + p };
    M.lampMarkers.add(marker);
    return marker;
  };

  /* Restyle the lamp markers on the map in place (no redraw of the layer, no Dash round trip). */
  function refreshLamps() {
    M.lampMarkers.forEach(function (marker) {
      if (!marker._map) { M.lampMarkers.delete(marker); return; }
      var v = marker.vigie, sig;
      if (v.cid !== undefined) {
        var agg = M.aggregate("lighting", leavesOf(v.index, v.cid));
        sig = sigOf(agg);
        if (sig !== v.sig) { v.sig = sig; marker.setIcon(lampClusterIcon(v.count, agg)); }
      } else {
        var c = V.live.condOf("lighting", v.id, 0), u = unackOf(v.id), p = prioOf(v.id);
        sig = c + "/" + u + "/" + p;
        if (sig !== v.sig) { v.sig = sig; marker.setIcon(lampIcon(c, u, p)); }
      }
    });
  }

  /* --- water and traffic: lines and points, restyled in place ---------------------------- */

  /* A road segment: its speed band (grey and thin while it flows, heavier and warmer as it slows,
   * black and dashed when closed); an unacknowledged alarm on a flowing one dots it. */
  M.segmentStyle = function (band, unack) {
    var s = speedStyle(band), n = neutral();
    if (band) return { color: s.color || n.ink, weight: s.weight, opacity: 1, dashArray: s.dash || null };
    return { color: n.asset_line, weight: unack ? 3 : s.weight || 1.5, opacity: 0.9, dashArray: unack ? "1 4" : null };
  };

  M.lineStyle = function (feature, context) {
    var domain = domainOf(context), id = feature.properties.id, c = condOf(domain, feature), n = neutral();
    if (feature.properties.k === "RoadSegment") return M.segmentStyle(bandOf(domain, id), unackOf(id));
    var base = feature.properties.k === "Pipe" ? n.pipe : n.asset_line, p = prioOf(id), u = unackOf(id);
    if (p >= 0) return { color: prioStyle(p).color, weight: 5, opacity: 1, dashArray: u ? "10 4" : null };
    if (c === 4) return { color: n.ink, weight: 3.5, opacity: 1, dashArray: "8 5" };
    if (c === 3 || c === 2) return { color: n.ink, weight: 3, opacity: 1, dashArray: "2 5" };
    if (u) return { color: base, weight: 4, opacity: 1, dashArray: "1 3" };
    return { color: base, weight: c === 1 ? 1.5 : 2, opacity: 0.85, dashArray: c === 1 ? "1 4" : null };
  };

  M.assetPoint = function (feature, latlng, context) {
    return L.marker(latlng, { icon: pointIcon(domainOf(context), feature), keyboard: false });
  };

  M.register = function (feature, layer, context) {
    var domain = domainOf(context);
    if (!M.registry[domain].size) performance.mark("vigie:first-" + domain);
    if (M.registry[domain] && feature.properties && feature.properties.id) M.registry[domain].set(feature.properties.id, layer);
  };

  function restyle(domain, id, layer) {
    var f = layer.feature;
    if (!f) return;
    var ctx = { hideout: { domain: domain } };
    if (layer.setStyle) { layer.setStyle(M.lineStyle(f, ctx)); return; }
    if (layer.setIcon) layer.setIcon(pointIcon(domain, f));
  }

  /* --- applying changes --------------------------------------------------------------------- */

  M.mark = function (domain, ids) {
    if (!M.pending[domain]) return;
    ids.forEach(function (id) { M.pending[domain].add(id); });
  };

  M.refresh = function (domain) {
    if (domain === "lighting") {
      M.pending.lighting.clear();
      refreshLamps();
      M.lastRedraw.lighting = performance.now();
      return;
    }
    var reg = M.registry[domain];
    if (!reg) return;
    var pending = M.pending[domain];
    if (M.all[domain] || pending.size > 2000) {
      reg.forEach(function (layer, id) { restyle(domain, id, layer); });
    } else {
      pending.forEach(function (id) { var layer = reg.get(id); if (layer) restyle(domain, id, layer); });
    }
    M.all[domain] = false;
    pending.clear();
    M.lastRedraw[domain] = performance.now();
  };

  M.refreshAll = function () {
    DOMAINS.forEach(function (d) { M.all[d] = true; M.refresh(d); });
  };

  M.layerPresent = function (domain) {
    var scope = (V.render && V.render.scope) || {};
    return !!(window.dash_clientside && window.dash_clientside.set_props) && (scope.layers || []).indexOf(domain) >= 0;
  };

  /* The lamps' GeoJSON is fetched by this module, as soon as the page starts (while Dash boots),
   * kept across pages, and handed to the layer's `data` once; other layers load from their `url`. */
  M.geo = {}; // domain -> {rev, promise}
  /* Points come as columns (a quarter of the bytes); turn them back into GeoJSON features. */
  function fromColumns(g) {
    var n = g.id.length, features = new Array(n);
    for (var i = 0; i < n; i++) {
      features[i] = { type: "Feature", geometry: { type: "Point", coordinates: [g.lon[i], g.lat[i]] },
        properties: { id: g.id[i], k: g.kinds[g.k[i]], c: g.c[i] } };
    }
    return { type: "FeatureCollection", features: features.concat(g.features || []) };
  }

  M.fetchGeo = function (domain, url) {
    var entry = { rev: null };
    url += (url.indexOf("?") < 0 ? "?" : "&") + "format=columns";
    entry.promise = fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error("geo " + r.status);
      var rev = r.headers.get("X-Vigie-Geo-Rev");
      entry.rev = rev === null ? null : +rev;
      return r.json();
    }).then(fromColumns);
    entry.promise.catch(function (err) { console.warn("vigie: " + domain + " layer: " + err.message); delete M.geo[domain]; });
    M.geo[domain] = entry;
    return entry;
  };

  M.feed = function (domain) {
    if (domain !== "lighting" || !M.layerPresent(domain)) return;
    var c = (V.live && V.live.cfg) || {}, want = (c.geo_rev || {})[domain];
    var entry = M.geo[domain];
    if (!entry || (entry.rev !== null && want !== undefined && want > entry.rev)) {
      entry = M.fetchGeo(domain, ((c.geo_url || {})[domain] || "/vigie/geo/" + domain) + "?rev=" + (want || 0));
    }
    entry.promise.then(function (geo) {
      if (M.fed === geo) return;
      M.fed = geo;
      window.dash_clientside.set_props("layer-" + domain, { data: geo });
    });
  };

  M.reload = function (domain, rev) {
    var c = (V.live && V.live.cfg) || {};
    var base = (c.geo_url || {})[domain];
    if (!base) return;
    if (M.registry[domain]) M.registry[domain].clear();
    M.all[domain] = true;
    if (domain === "lighting") {
      var entry = M.geo[domain];
      if (entry && entry.rev !== null && entry.rev >= rev) return;
      M.fetchGeo(domain, base + "?rev=" + rev);
      M.fed = null;
      M.feed(domain);
      return;
    }
    if (M.layerPresent(domain)) window.dash_clientside.set_props("layer-" + domain, { url: base + "?rev=" + rev });
  };

  /* Water and traffic layers of a page with lamps load once the lamps are painted. */
  M.loadDeferredSoon = function (delay) {
    if (M.deferTimer) return;
    M.deferTimer = setTimeout(function () {
      window.requestAnimationFrame(function () { M.deferTimer = null; M.loadDeferred(); });
    }, delay || 50);
  };
  M.loadDeferred = function () {
    if (V.render) V.render.mountTrends();
    ["water", "traffic"].forEach(function (d) {
      var c = (V.live && V.live.cfg) || {}, rev = (V.live && V.live.geoRev[d]) || 0;
      if (!M.layerPresent(d) || !(c.geo_url || {})[d] || M.loaded[d] === c) return;
      M.loaded[d] = c; // once per page (each page has its own config)
      window.dash_clientside.set_props("layer-" + d, { url: c.geo_url[d] + "?rev=" + rev });
    });
  };
  M.loaded = {};

  (function prefetch() { // pages that show the lamps: start the big download before Dash has rendered
    var path = window.location.pathname.replace(/\/+$/, "") || "/";
    if (["/", "/wall", "/lighting"].indexOf(path) >= 0) M.fetchGeo("lighting", "/vigie/geo/lighting");
  })();

  /* --- the offline base layer ------------------------------------------------------------- */

  M.baseStyle = function (feature) {
    if (!M.baseSeen) { M.baseSeen = true; performance.mark("vigie:first-base"); }
    var n = neutral(), kind = feature.properties.kind;
    if (kind === "commune") return { color: n.commune, weight: 1.5, fillColor: n.land, fillOpacity: 1, opacity: 1 };
    if (kind === "district") return { color: n.district, weight: 1, dashArray: "4 4", fill: false, opacity: 0.9 };
    return { color: n.road, weight: 1, opacity: 0.9 };
  };
})();
