"""The page template, stylesheet and script of compare.html (written for zoneatlas).

The script builds the three Leaflet maps (BASE, PLAN, change), adds the GeoJSON layers with
their styles and tooltips (attribute text through ``textContent``), a legend per visible
layer (HTML escaped in Python), Leaflet's layer control (labels escaped in Python), mirrors
layer switches between the two side-by-side maps and keeps all three views in sync. When it
is done it sets ``window.zoneatlas.ready = true`` (the tests wait for it).
"""

CSS = r"""
body { margin: 0; color: #222; background: #f6f6f3; line-height: 1.45; height: auto; }
header { background: #23395b; color: #fff; padding: 16px 26px; }
header h1 { margin: 0; font-size: 22px; }
header .sub { opacity: .85; font-size: 13px; word-break: break-all; }
main { max-width: 1400px; margin: 0 auto; padding: 12px 20px 40px; }
section { background: #fff; border-radius: 8px; padding: 12px 16px; margin-top: 16px; box-shadow: 0 1px 3px rgba(0,0,0,.15); }
section h2 { margin: 0 0 6px; font-size: 18px; }
.note { color: #555; font-size: 13px; margin: 0 0 8px; }
.warn { background: #fff4e0; border-left: 4px solid #E69F00; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.pair h3 { margin: 2px 0 4px; font-size: 15px; }
.cmap { position: relative; height: 480px; border: 1px solid #ccc; border-radius: 4px; }
.cmap.wide { height: 540px; }
table.t { border-collapse: collapse; font-size: 13px; }
table.t th, table.t td { border-bottom: 1px solid #e3e3e3; padding: 3px 10px 3px 0; text-align: left; vertical-align: top; }
table.t td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.up { color: #b35806; } td.down { color: #542788; }
code { font-size: 12px; }
.za-tip table { border-collapse: collapse; } .za-tip th { text-align: left; font-weight: 500; color: #555; padding-right: 8px; }
@media (max-width: 800px) { .pair { grid-template-columns: 1fr; } }
"""

JS = r"""
(function () {
  "use strict";
  var CFG = JSON.parse(document.getElementById("za-config").textContent);
  var ZA = window.zoneatlas = {ready: false, maps: {}, overlays: {}, counts: {}, cfg: CFG};
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function loc() { return CFG.lang === "zh" ? "zh-CN" : "en"; }
  function fmt(v, f) {
    if (v === null || v === undefined || v === "" || (typeof v === "number" && !isFinite(v))) { return "\u2014"; }
    if (typeof v === "number") {
      if (f === "km") { return (v / 1000).toLocaleString(loc(), {maximumFractionDigits: 2}) + (CFG.lang === "zh" ? " \u516c\u91cc" : " km"); }
      if (f === "int") { return Math.round(v).toLocaleString(loc()); }
      if (f === "ratio") { return v.toLocaleString(loc(), {minimumFractionDigits: 2, maximumFractionDigits: 2}); }
      var s = v.toLocaleString(loc(), {maximumSignificantDigits: 4});
      return (f === "delta" && v > 0) ? "+" + s : s;
    }
    if (f === "cat" && Object.prototype.hasOwnProperty.call(CFG.labels, String(v))) { return CFG.labels[String(v)]; }
    if (f === "status" && Object.prototype.hasOwnProperty.call(CFG.status, String(v))) { return CFG.status[String(v)]; }
    return String(v);
  }
  function tip(p, fields, title) {
    var box = el("div", "za-tip");
    if (title) { box.appendChild(el("div", "za-popup-title", title)); }
    var t = el("table");
    fields.forEach(function (f) {
      if (!Object.prototype.hasOwnProperty.call(p, f[0])) { return; }
      var tr = el("tr");
      tr.appendChild(el("th", null, f[1]));
      tr.appendChild(el("td", null, fmt(p[f[0]], f[2])));
      t.appendChild(tr);
    });
    box.appendChild(t);
    return box;
  }
  function addLayer(map, spec) {
    var styles = spec.styles;
    function styleOf(f) { return styles[(f.properties && f.properties._s) || 0] || {}; }
    var gj = L.geoJSON(ZA_COMPARE_DATA[spec.id], {
      style: styleOf,
      pointToLayer: function (f, ll) { return L.circleMarker(ll, L.extend({radius: 4}, styleOf(f))); },
      onEachFeature: function (f, layer) {
        var p = f.properties || {};
        if (spec.tooltip && spec.tooltip.length) {
          layer.bindTooltip(function () { return tip(p, spec.tooltip, spec.titleField ? p[spec.titleField] : null); },
                            {sticky: true});
        }
      }
    });
    ZA.overlays[spec.id] = gj;
    ZA.counts[spec.id] = spec.count;
    return gj;
  }
  var Legend = L.Control.extend({
    options: {position: "bottomright"},
    initialize: function (specs) { this._specs = specs; },
    onAdd: function (map) {
      var box = el("div", "za-panel za-legend"), self = this;
      this._nodes = this._specs.filter(function (s) { return s.legend; }).map(function (s) {
        var d = el("div", "za-legend-section");
        d.innerHTML = s.legend;  // built and escaped in Python (geo.webmap.compare)
        box.appendChild(d);
        return [d, s.id];
      });
      map.on("layeradd layerremove", function () { setTimeout(function () { self.refresh(); }, 0); });
      this.refresh();
      L.DomEvent.disableScrollPropagation(box);
      return box;
    },
    refresh: function () {
      var map = this._map;
      this._nodes.forEach(function (n) { n[0].style.display = map.hasLayer(ZA.overlays[n[1]]) ? "" : "none"; });
    }
  });
  function makeMap(spec) {
    var map = L.map("map-" + spec.id, {preferCanvas: false, zoomSnap: 0.25});
    if (map.attributionControl) { map.attributionControl.setPrefix("Leaflet"); }
    if (CFG.tiles.length) {
      CFG.tiles.forEach(function (t) {
        L.tileLayer(t.url, {attribution: t.attribution, maxZoom: t.maxZoom, subdomains: t.subdomains}).addTo(map);
      });
    } else { map.getContainer().classList.add("za-nobasemap"); }
    L.control.scale({imperial: false, maxWidth: 150}).addTo(map);
    var radios = {}, checks = {}, first = true;
    spec.layers.forEach(function (ls) {
      var gj = addLayer(map, ls);
      // label escaped in Python; radio layers: one change map at a time
      (ls.radio ? radios : checks)[ls.label + " (" + ls.count.toLocaleString(loc()) + ")"] = gj;
      if (ls.radio ? first : ls.show) { gj.addTo(map); }
      if (ls.radio) { first = false; }
    });
    if (spec.layers.length) {
      L.control.layers(radios, checks, {collapsed: false}).addTo(map);
      new Legend(spec.layers).addTo(map);
    }
    ZA.maps[spec.id] = map;
    return map;
  }
  function syncViews(maps) {
    var busy = false;
    maps.forEach(function (m) {
      m.on("move zoom", function () {
        if (busy) { return; }
        busy = true;
        maps.forEach(function (o) { if (o !== m) { o.setView(m.getCenter(), m.getZoom(), {animate: false}); } });
        busy = false;
      });
    });
  }
  function mirrorSwitches(a, b) {  // the same overlay on both side-by-side maps
    function other(id) { return id.indexOf("base:") === 0 ? "plan:" + id.slice(5) : "base:" + id.slice(5); }
    [a, b].forEach(function (m) {
      m.on("overlayadd overlayremove", function (e) {
        var id = Object.keys(ZA.overlays).filter(function (k) { return ZA.overlays[k] === e.layer; })[0];
        var o = id && ZA.overlays[other(id)], target = (m === a) ? b : a;
        if (!o) { return; }
        if (e.type === "overlayadd" && !target.hasLayer(o)) { target.addLayer(o); }
        if (e.type === "overlayremove" && target.hasLayer(o)) { target.removeLayer(o); }
      });
    });
  }
  var made = CFG.maps.map(makeMap);
  ZA.map = ZA.maps.base;
  if (made.length) {
    var bounds = CFG.bounds || [[-60, -170], [75, 170]];
    made.forEach(function (m) { m.fitBounds(bounds, {padding: [10, 10], animate: false}); });
    syncViews(made);
    if (ZA.maps.base && ZA.maps.plan) { mirrorSwitches(ZA.maps.base, ZA.maps.plan); }
  }
  requestAnimationFrame(function () {
    setTimeout(function () {
      ZA.ready = true;
      document.documentElement.setAttribute("data-za-ready", "1");
    }, 0);
  });
})();
"""

PAGE = """<!DOCTYPE html>
<html lang="{{ lang_attr }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ study }} — {{ t.title }}</title>
<style>{{ css }}</style>
<script>{{ leaflet }}</script>
</head>
<body>
<header>
<h1>{{ study }} — {{ t.title }}</h1>
<div class="sub">{{ t.base }}: {{ base_path }}<br>{{ t.plan }}: {{ plan_path }}{% if plan_study and plan_study != study %} ({{ plan_study }}){% endif %}</div>
</header>
<main>
{% if refused %}<section class="warn" id="parameter-differences"><h2>{{ t.config }}</h2><p class="note">{{ t.refused_note }}</p>
<table class="t"><tr><th>{{ t.param }}</th><th>{{ t.base }}</th><th>{{ t.plan }}</th></tr>
{% for d in refused %}<tr><td><code>{{ d.key }}</code></td><td>{{ d.base }}</td><td>{{ d.plan }}</td></tr>{% endfor %}
</table></section>{% endif %}
<section id="side-by-side"><h2>{{ t.side }}</h2><p class="note">{{ t.side_note }}</p>
{% if has_maps %}<div class="pair">
<div><h3>{{ t.base }}</h3><div id="map-base" class="cmap"></div></div>
<div><h3>{{ t.plan }}</h3><div id="map-plan" class="cmap"></div></div>
</div>{% else %}<p>{{ t.no_geom }}</p>{% endif %}
</section>
<section id="change-maps"><h2>{{ t.delta }}</h2><p class="note">{{ t.delta_note }}</p>
{% if has_maps %}<div id="map-delta" class="cmap wide"></div>{% endif %}
</section>
<section id="summary"><h2>{{ t.summary }}</h2>
<table class="t summary"><tr><th>{{ t.indicator }}</th><th></th><th>{{ t.base }}</th><th>{{ t.plan }}</th><th>{{ t.delta_col }}</th><th>{{ t.pct }}</th></tr>
{% for r in summary %}<tr><td>{{ r.label }}</td><td><code>{{ r.indicator }}</code></td><td class="n">{{ r.base }}</td><td class="n">{{ r.plan }}</td><td class="n {{ r.cls }}">{{ r.delta }}</td><td class="n {{ r.cls }}">{{ r.pct }}</td></tr>{% endfor %}
</table></section>
<section id="tables"><h2>{{ t.tables }}</h2>
<table class="t tables"><tr><th>{{ t.table }}</th><th>{{ t.key }}</th><th>{{ t.same }}</th><th>{{ t.changed }}</th><th>{{ t.added }}</th><th>{{ t.removed }}</th><th>{{ t.files }}</th></tr>
{% for r in tables %}<tr><td>{{ r.label }}</td><td><code>{{ r.key }}</code></td><td class="n">{{ r.same }}</td><td class="n">{{ r.changed }}</td><td class="n">{{ r.added }}</td><td class="n">{{ r.removed }}</td><td><a href="{{ r.file }}">{{ r.file }}</a></td></tr>{% endfor %}
</table>
{% if only_base %}<p class="note">{{ t.only_base }}: {{ only_base|join(", ") }}</p>{% endif %}
{% if only_plan %}<p class="note">{{ t.only_plan }}: {{ only_plan|join(", ") }}</p>{% endif %}
</section>
<section id="config"><h2>{{ t.config }}</h2>
{% if diffs %}<table class="t config"><tr><th>{{ t.param }}</th><th>{{ t.kind }}</th><th>{{ t.base }}</th><th>{{ t.plan }}</th></tr>
{% for d in diffs %}<tr><td><code>{{ d.key }}</code></td><td>{{ d.kind }}</td><td>{{ d.base }}</td><td>{{ d.plan }}</td></tr>{% endfor %}
</table>{% else %}<p>{{ t.no_diff }}</p>{% endif %}
</section>
{% if base_link or plan_link %}<section id="links"><h2>{{ t.links }}</h2><ul>
{% if base_link %}<li><a href="{{ base_link }}">{{ t.base }} — {{ t.atlas }}</a></li>{% endif %}
{% if plan_link %}<li><a href="{{ plan_link }}">{{ t.plan }} — {{ t.atlas }}</a></li>{% endif %}
</ul></section>{% endif %}
</main>
<script type="application/json" id="za-config">{{ config }}</script>
<script>{{ data }}</script>
<script>{{ runtime }}</script>
</body>
</html>
"""
