"""Runtime additions for briefing-grade maps (written for zoneatlas).

* a label layer: labels placed at the current zoom, greedy by priority, hiding those
  that would collide with a placed label or a control panel; re-run on zoom, pan,
  resize and when overlays are switched;
* a north arrow, a footer (data source, producer, date, coordinate system, the
  basemap's approval number while a tile basemap is on) in the attribution corner;
* framing: fit the study with fractional zoom and padding for the panels;
* the legend sized to the room left under the layer control (no scrolling when it fits);
* a chain filter (select) for the collaboration map;
* the links of one growth pole shown on hover/click.
"""

BRIEFING_CSS = r"""
.leaflet-pane.leaflet-zaLabel-pane { pointer-events: none; }
.za-label { position: absolute; left: 0; top: 0; white-space: nowrap; font-size: 12px; line-height: 15px;
  color: #1a1a1a; pointer-events: none; text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff, 0 0 4px #fff;
  display: none; }
.za-label.za-lk-pole { font-weight: 700; font-size: 13px; }
.za-label.za-lk-district { color: #444; font-size: 13px; letter-spacing: 1px; font-weight: 600; }
.za-label.za-lk-zone { font-size: 11.5px; }
.za-hide-labels .za-label { visibility: hidden; }
.za-north { background: rgba(255,255,255,.9); border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,.35);
  width: 34px; height: 44px; display: flex; align-items: center; justify-content: center; }
.leaflet-control-attribution.za-footer { font-size: 11px; line-height: 1.35; max-width: 70vw; background: rgba(255,255,255,.88); }
.za-legend-cols { display: grid; grid-template-columns: repeat(2, max-content); column-gap: 12px; }
.za-legend { max-width: 420px; }
.za-layers.za-collapsed, .za-legend.za-collapsed { min-width: 0; }
.za-legend-row > span:last-child { white-space: nowrap; }
.za-chainfilter select { font-size: 13px; padding: 4px 6px; border: 0; border-radius: 4px; max-width: 210px; }
.za-popup th { white-space: nowrap; }
.za-popup td { min-width: 4em; }
@media (max-width: 700px) {
  .za-title { left: 6px; right: 6px; transform: none; max-width: none; font-size: 13px; padding: 4px 8px; top: 6px; }
  .za-search input { width: 130px; }
  .leaflet-control-attribution.za-footer { font-size: 9.5px; max-width: 100vw; }
}
"""

BRIEFING_JS = r"""
(function () {
  "use strict";
  var ZA = window.zoneatlas, el = ZA.el;
  ZA.labelSets = [];

  function on(id) { return !id || (ZA.overlays[id] && ZA.map.hasLayer(ZA.overlays[id])); }
  function rectOf(e, base) {
    var r = e.getBoundingClientRect();
    return {x0: r.left - base.left, y0: r.top - base.top, x1: r.right - base.left, y1: r.bottom - base.top};
  }
  function hit(a, b) { return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1; }

  // spec: {id, layer, kind, items: [[lat, lng, text, priority, itemLayer]]}
  ZA.addLabels = function (spec) {
    if (!ZA.map.getPane("zaLabel")) {
      ZA.map.createPane("zaLabel").style.zIndex = 460;
      ZA.map.getPane("zaLabel").classList.add("leaflet-zaLabel-pane");
    }
    var pane = ZA.map.getPane("zaLabel");
    spec.nodes = spec.items.map(function (it) {
      var n = el("div", "za-label za-lk-" + spec.kind, it[2]);
      n.setAttribute("data-set", spec.id);
      pane.appendChild(n);
      return n;
    });
    ZA.labelSets.push(spec);
  };

  // Reads first, then writes: label sizes are measured once (in one layout pass) and cached.
  ZA.placeLabels = function () {
    var map = ZA.map;
    if (!map || !ZA.labelSets.length) { return; }
    var c = map.getContainer(), base = c.getBoundingClientRect(), size = map.getSize();
    var blocked = [];
    c.querySelectorAll(".leaflet-control, .za-title").forEach(function (e) {
      if (e.offsetWidth && e.offsetHeight) { blocked.push(rectOf(e, base)); }
    });
    var all = [], unmeasured = [];
    ZA.labelSets.forEach(function (s) {
      var shown = on(s.layer);
      s.sizes = s.sizes || [];
      s.items.forEach(function (it, i) {
        if (!(shown && on(it[4]))) { return; }
        var p = map.latLngToContainerPoint([it[0], it[1]]);
        if (p.x < -50 || p.y < -50 || p.x > size.x + 50 || p.y > size.y + 50) { return; }
        var o = {it: it, node: s.nodes[i], kind: s.kind, set: s, i: i, p: p};
        if (!s.sizes[i]) { unmeasured.push(o); }
        all.push(o);
      });
    });
    if (unmeasured.length) {
      unmeasured.forEach(function (o) { o.node.style.display = "block"; });
      unmeasured.forEach(function (o) { o.set.sizes[o.i] = [o.node.offsetWidth, o.node.offsetHeight]; });
    }
    all.sort(function (a, b) { return b.it[3] - a.it[3]; });
    var placed = [];
    all.forEach(function (o) {  // the pole stars themselves are never covered by a label
      if (o.kind !== "pole") { return; }
      o.own = {x0: o.p.x - 10, y0: o.p.y - 10, x1: o.p.x + 10, y1: o.p.y + 10};
      placed.push(o.own);
    });
    var show = [];
    all.forEach(function (o) {
      var p = o.p, w = o.set.sizes[o.i][0], h = o.set.sizes[o.i][1], g = o.kind === "pole" ? 13 : 5;
      var cands = o.kind === "district" || o.kind === "area" ? [[-w / 2, -h / 2]] :
        [[g, -h / 2], [-w - g, -h / 2], [-w / 2, -h - g], [-w / 2, g]];
      for (var k = 0; k < cands.length; k++) {
        var r = {x0: p.x + cands[k][0] - 1, y0: p.y + cands[k][1] - 1, x1: p.x + cands[k][0] + w + 1, y1: p.y + cands[k][1] + h + 1};
        if (r.x0 < 0 || r.y0 < 0 || r.x1 > size.x || r.y1 > size.y) { continue; }
        if (placed.some(function (q) { return q !== o.own && hit(q, r); }) || blocked.some(function (q) { return hit(q, r); })) { continue; }
        placed.push(r);
        show.push([o.node, map.containerPointToLayerPoint([r.x0 + 1, r.y0 + 1])]);
        return;
      }
    });
    ZA.labelSets.forEach(function (s) { s.nodes.forEach(function (n) { n.style.display = "none"; }); });
    show.forEach(function (x) { x[0].style.display = "block"; L.DomUtil.setPosition(x[0], x[1]); });
    ZA.labelsPlaced = show.length;
  };

  var pending = false;
  ZA.queueLabels = function () {
    if (pending) { return; }
    pending = true;
    setTimeout(function () { pending = false; ZA.placeLabels(); c().classList.remove("za-hide-labels"); }, 0);
  };
  function c() { return ZA.map.getContainer(); }

  ZA.NorthArrow = L.Control.extend({
    options: {position: "topright"},
    onAdd: function () {
      var box = el("div", "za-north leaflet-control");
      box.title = ZA.cfg.text.north;
      box.setAttribute("role", "img");
      box.setAttribute("aria-label", ZA.cfg.text.north);
      box.innerHTML = '<svg width="26" height="40" viewBox="0 0 26 40"><text x="13" y="11" font-size="11" ' +
        'font-weight="700" text-anchor="middle" font-family="sans-serif">N</text>' +
        '<path d="M13 13 L21 37 L13 31 Z" fill="#222"/><path d="M13 13 L5 37 L13 31 Z" fill="#fff" stroke="#222" stroke-width="1"/></svg>';
      return box;
    }
  });

  // footer: {text, approval} — plain text; the approval number only while the basemap is on
  ZA.setFooter = function (footer) {
    var ctl = ZA.map.attributionControl;
    if (!ctl) { return; }
    ctl.getContainer().classList.add("za-footer");
    function esc(t) { var d = document.createElement("div"); d.textContent = t; return d.innerHTML; }
    function refresh() {
      var text = footer.text;
      if (footer.approval && on("basemap") && ZA.overlays.basemap) { text += " \u00b7 " + footer.approval; }
      ctl.setPrefix(esc(text));
    }
    refresh();
    ZA.map.on("za:toggle", refresh);
  };

  ZA.fitStudy = function (bounds) {
    var map = ZA.map, cont = c(), base = cont.getBoundingClientRect(), size = map.getSize();
    var left = 10, right = 10, top = 10, bottom = 10;
    cont.querySelectorAll(".leaflet-left .leaflet-control").forEach(function (e) {
      left = Math.max(left, rectOf(e, base).x1 + 8);
    });
    cont.querySelectorAll(".leaflet-right .leaflet-control:not(.leaflet-control-attribution)").forEach(function (e) {
      right = Math.max(right, size.x - rectOf(e, base).x0 + 8);
    });
    var t = cont.querySelector(".za-title");
    if (t) { top = Math.max(top, rectOf(t, base).y1 + 8); }
    var f = cont.querySelector(".leaflet-control-attribution");
    if (f) { bottom = Math.max(bottom, size.y - rectOf(f, base).y0 + 4); }
    if (size.x < 700) { left = 8; right = 8; }  // phones: the panels are collapsed and float over the edges
    // the panels' room, unless they would leave the study under 45 % of the width
    left = Math.min(left, size.x * 0.4); right = Math.min(right, size.x * 0.3);
    if (left + right > size.x * 0.55) { var k = size.x * 0.55 / (left + right); left *= k; right *= k; }
    top = Math.min(top, size.y * 0.2); bottom = Math.min(bottom, size.y * 0.15);
    map.fitBounds(bounds, {paddingTopLeft: [left, top], paddingBottomRight: [right, bottom], animate: false});
  };

  // legend: use the room under the layer control; columns are set in Python
  ZA.sizePanels = function () {
    var cont = c(), base = cont.getBoundingClientRect(), size = ZA.map.getSize();
    var title = cont.querySelector(".za-title");
    var narrow = size.x < 700;
    cont.querySelectorAll(".leaflet-top").forEach(function (e) {
      e.style.top = narrow && title ? (title.offsetHeight + 10) + "px" : "";
    });
    var lay = cont.querySelector(".za-layers"), leg = cont.querySelector(".za-legend");
    var attr = cont.querySelector(".leaflet-control-attribution");
    var foot = attr ? size.y - rectOf(attr, base).y0 : 20;
    var leftTop = 0, scale = 0;
    cont.querySelectorAll(".leaflet-top.leaflet-left .leaflet-control").forEach(function (e) {
      leftTop = Math.max(leftTop, rectOf(e, base).y1);
    });
    cont.querySelectorAll(".leaflet-bottom.leaflet-left .leaflet-control:not(.za-legend)").forEach(function (e) {
      scale += e.offsetHeight + 10;
    });
    if (leg) { leg.style.maxHeight = Math.max(100, size.y - leftTop - scale - foot - 24) + "px"; }
    if (lay) { lay.style.maxHeight = Math.max(100, size.y - rectOf(lay, base).y0 - foot - 20) + "px"; }
  };

  ZA.ChainFilter = L.Control.extend({
    options: {position: "topleft"},
    initialize: function (spec) { this._spec = spec; },
    onAdd: function (map) {
      var spec = this._spec, box = el("div", "za-chainfilter leaflet-bar");
      var sel = document.createElement("select");
      sel.setAttribute("aria-label", spec.label);
      sel.title = spec.label;
      var all = el("option", null, spec.all);
      all.value = "";
      sel.appendChild(all);
      Object.keys(spec.layers).forEach(function (id) {
        var o = el("option", null, spec.layers[id]);
        o.value = id;
        sel.appendChild(o);
      });
      sel.addEventListener("change", function () {
        Object.keys(spec.layers).forEach(function (id) {
          var l = ZA.overlays[id];
          if (!l) { return; }
          if (!sel.value || sel.value === id) { map.addLayer(l); } else { map.removeLayer(l); }
        });
        map.fire("za:toggle", {id: sel.value});
      });
      box.appendChild(sel);
      L.DomEvent.disableClickPropagation(box);
      return box;
    }
  });

  // the links of one growth pole (all links are off by default)
  ZA.hooks.poleLinks = function (f) {
    var links = ZA.overlays[ZA.cfg.linkLayer];
    ZA.selection.clearLayers();
    if (!links) { return; }
    var core = f.properties.core_id !== undefined && f.properties.core_id !== null ? f.properties.core_id : f.properties.zone_id;
    var spec = ZA.cfg.layers[ZA.cfg.linkLayer] || {};
    links.eachLayer(function (l) {
      if (String(l.feature.properties.core_id) === String(core)) {
        var s = l.options;
        var line = L.polyline(l.getLatLngs(), {pane: "zaLine", color: s.color, weight: s.weight + 1, opacity: 0.95});
        line.bindPopup(function () { return ZA.table(l.feature.properties, spec.popup || [], null); });
        line.addTo(ZA.selection);
      }
    });
  };

  ZA.briefing = function (cfg) {
    var map = ZA.map;
    if (cfg.north) {  // first in the top-right corner, above the layer control
      var na = new ZA.NorthArrow().addTo(map), node = na.getContainer(), corner = node.parentNode;
      corner.insertBefore(node, corner.firstChild);
    }
    if (cfg.footer) { ZA.setFooter(cfg.footer); }
    (cfg.labels || []).forEach(ZA.addLabels);
    map.on("zoomstart", function () { c().classList.add("za-hide-labels"); });
    map.on("zoomend moveend resize za:toggle", ZA.queueLabels);
    map.on("resize", ZA.sizePanels);
  };

})();
"""
