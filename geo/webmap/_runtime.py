"""The small JavaScript runtime and stylesheet of the zoneatlas maps (written for zoneatlas).

``window.zoneatlas`` holds the map, every overlay by id, and the controls written here
(grouped layer control, legend, zone-name search, fullscreen, title). All attribute
text reaches the page through ``textContent``; legend HTML is escaped in Python.
When the map has drawn its initial overlays it sets ``zoneatlas.ready = true`` (the
tests and the benchmark wait for it).
"""

RUNTIME_CSS = r"""
html, body { width: 100%; height: 100%; margin: 0; padding: 0; }
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", "PingFang SC", system-ui, sans-serif; }
.folium-map { position: absolute; inset: 0; }
.leaflet-container.za-nobasemap { background: #f2f1ec; }
.za-fs { position: fixed !important; inset: 0 !important; width: 100vw !important; height: 100vh !important; z-index: 10000; }
.za-title { position: absolute; top: 10px; left: 50%; transform: translateX(-50%); z-index: 650;
  background: rgba(255,255,255,.92); padding: 6px 14px; border-radius: 6px; box-shadow: 0 1px 5px rgba(0,0,0,.35);
  font-size: 15px; font-weight: 600; max-width: 60%; text-align: center; }
.za-title .za-sub { display: block; font-size: 12px; font-weight: 400; color: #555; }
.za-title a { font-size: 12px; font-weight: 400; }
.za-panel { background: #fff; padding: 6px 10px; border-radius: 5px; box-shadow: 0 1px 5px rgba(0,0,0,.4);
  font-size: 12.5px; line-height: 1.35; max-height: 70vh; overflow-y: auto; }
.za-layers { min-width: 150px; max-height: calc(50vh - 40px); }
.za-legend { max-height: calc(50vh - 50px); }
.za-layers.za-collapsed .za-groups, .za-legend.za-collapsed .za-legend-section { display: none !important; }
.za-layers-head { font-weight: 600; cursor: pointer; user-select: none; }
.za-group { margin-top: 6px; }
.za-group-title { font-weight: 600; color: #333; border-bottom: 1px solid #ddd; margin-bottom: 2px; }
.za-item { display: flex; align-items: center; gap: 5px; cursor: pointer; white-space: nowrap; }
.za-item .za-count { color: #777; }
.za-legend { max-width: 260px; }
.za-legend-section { margin: 4px 0 6px; }
.za-legend-title { font-weight: 600; margin-bottom: 2px; }
.za-legend-row { display: flex; align-items: center; gap: 6px; }
.za-legend-note { color: #666; font-size: 11.5px; }
.za-sw { display: inline-block; width: 18px; height: 12px; flex: none; box-sizing: border-box; }
.za-sw-line { display: inline-block; width: 26px; flex: none; }
.za-search { position: relative; }
.za-search input { width: 190px; padding: 5px 7px; border: 0; border-radius: 4px; font-size: 13px; }
.za-search-results { background: #fff; max-height: 240px; overflow-y: auto; }
.za-search-hit { display: block; width: 100%; text-align: left; border: 0; border-top: 1px solid #eee;
  background: #fff; padding: 4px 7px; cursor: pointer; font-size: 12.5px; }
.za-search-hit:hover { background: #eef4fb; }
.za-search-none { padding: 4px 7px; color: #777; font-size: 12px; }
.za-btn { display: flex; align-items: center; justify-content: center; width: 30px; height: 30px; text-align: center; background: #fff;
  border: 0; cursor: pointer; font-size: 16px; padding: 0; }
.za-popup table { border-collapse: collapse; }
.za-popup th { text-align: left; font-weight: 500; color: #555; padding: 1px 8px 1px 0; vertical-align: top; }
.za-popup td { padding: 1px 0; }
.za-popup-title { font-weight: 700; margin-bottom: 3px; font-size: 13.5px; }
.za-star { background: none; border: 0; }
"""

RUNTIME_JS = r"""
(function () {
  "use strict";
  var ZA = window.zoneatlas = {overlays: {}, counts: {}, searchables: [], ready: false, hooks: {}};

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  ZA.el = el;
  function isNum(v) { return typeof v === "number" && isFinite(v); }
  function loc() { return ZA.lang === "zh" ? "zh-CN" : "en"; }
  function has(obj, key) { return Object.prototype.hasOwnProperty.call(obj, key); }

  ZA.fmt = function (v, f) {
    if (v === null || v === undefined || v === "" || (typeof v === "number" && !isFinite(v))) { return "\u2014"; }
    var zh = ZA.lang === "zh";
    switch (f) {
      case "int": return isNum(v) ? Math.round(v).toLocaleString(loc()) : String(v);
      case "people": return isNum(v) ? Math.round(v).toLocaleString(loc()) + (zh ? " \u4eba" : " people") : String(v);
      case "km": return isNum(v) ? (v / 1000).toLocaleString(loc(), {maximumFractionDigits: v < 10000 ? 2 : 1}) + (zh ? " \u516c\u91cc" : " km") : String(v);
      case "min": return isNum(v) ? v.toLocaleString(loc(), {maximumFractionDigits: 1}) + (zh ? " \u5206\u949f" : " min") : String(v);
      case "pct": return isNum(v) ? (v * 100).toLocaleString(loc(), {maximumFractionDigits: 1}) + "%" : String(v);
      case "ratio": return isNum(v) ? v.toLocaleString(loc(), {minimumFractionDigits: 2, maximumFractionDigits: 2}) : String(v);
      case "num": return isNum(v) ? v.toLocaleString(loc(), {maximumSignificantDigits: 4}) : String(v);
      case "cat": return has(ZA.labels, String(v)) ? ZA.labels[String(v)] : String(v);
      case "bool": return v ? (zh ? "\u662f" : "yes") : (zh ? "\u5426" : "no");
      default: return String(v);
    }
  };

  ZA.table = function (p, fields, title) {
    var box = el("div", "za-popup");
    if (title !== undefined && title !== null && title !== "") { box.appendChild(el("div", "za-popup-title", title)); }
    var t = el("table");
    fields.forEach(function (f) {
      if (!has(p, f[0])) { return; }
      var tr = el("tr");
      tr.appendChild(el("th", null, f[1]));
      tr.appendChild(el("td", null, ZA.fmt(p[f[0]], f[2])));
      t.appendChild(tr);
    });
    box.appendChild(t);
    return box;
  };

  ZA.init = function (map, cfg) {
    ZA.map = map; ZA.cfg = cfg; ZA.lang = cfg.lang; ZA.labels = cfg.labels || {};
    if (map.attributionControl) { map.attributionControl.setPrefix("Leaflet"); }
    [["zaBack", 380], ["zaFill", 400], ["zaLine", 430], ["zaTop", 450]].forEach(function (p) {
      map.createPane(p[0]).style.zIndex = p[1];
    });
    if (!cfg.basemap) { map.getContainer().classList.add("za-nobasemap"); }
    ZA.selection = L.layerGroup().addTo(map);
    L.control.scale({imperial: false, maxWidth: 150}).addTo(map);
  };

  function starIcon(color, size) {
    size = size || 24;
    var star = '<path d="M12 1.8l3.1 6.6 7.2.9-5.3 5 1.4 7.1L12 17.9l-6.4 3.5 1.4-7.1-5.3-5 7.2-.9z" ';
    var svg = '<svg width="' + size + '" height="' + size + '" viewBox="-1 -1 26 26">' +
      star + 'fill="none" stroke="#000" stroke-width="2.8" stroke-linejoin="round"/>' +
      star + 'fill="' + color + '" stroke="#fff" stroke-width="0.8" stroke-linejoin="round"/></svg>';
    return L.divIcon({className: "za-star", html: svg, iconSize: [size, size], iconAnchor: [size / 2, size / 2]});
  }

  ZA.addGeoJSON = function (spec) {
    var map = ZA.map, styles = spec.styles;
    function notTitle(f) { return f[0] !== spec.titleField; }  // the title already shows it
    var popupFields = (spec.popup || []).filter(notTitle), tooltipFields = (spec.tooltip || []).filter(notTitle);
    function styleOf(f) { return styles[(f.properties && f.properties._s) || 0]; }
    var opts = {
      pane: spec.pane || "zaFill",
      className: "za-l-" + spec.id,
      interactive: spec.interactive !== false,
      style: styleOf,
      pointToLayer: function (f, latlng) {
        var s = styleOf(f);
        if (spec.marker === "star") {
          var size = (typeof s.size === "number" && s.size > 4 && s.size < 64) ? s.size : 24;
          return L.marker(latlng, {icon: starIcon(/^#[0-9a-fA-F]{3,8}$/.test(s.fillColor) ? s.fillColor : "#000", size),
                                   pane: "zaTop", keyboard: false});
        }
        return L.circleMarker(latlng, L.extend({radius: s.radius || 6, pane: "zaTop"}, s));
      },
      onEachFeature: function (f, layer) {
        var p = f.properties || {};
        var title = spec.titleJoin ? spec.titleJoin.map(function (k) { return p[k]; }).join(" \u2014 ")
          : (spec.titleField ? p[spec.titleField] : null);
        if (spec.tooltip) {
          layer.bindTooltip(function () { return ZA.table(p, tooltipFields, title); }, {sticky: !spec.marker});
        }
        if (spec.popup) {
          layer.bindPopup(function () { return ZA.table(p, popupFields, title); },
                          {maxWidth: 360, autoPanPaddingTopLeft: [50, 95], autoPanPaddingBottomRight: [20, 20]});
        }
        if (spec.onClick && ZA.hooks[spec.onClick]) {
          layer.on("click", function () { ZA.hooks[spec.onClick](f, layer); });
        }
      }
    };
    if (spec.canvas) { opts.renderer = L.canvas({pane: opts.pane, padding: 0.3}); }
    var gj = L.geoJSON(spec.data, opts);
    ZA.overlays[spec.id] = gj;
    ZA.counts[spec.id] = spec.data.features.length;
    if (spec.searchField) { ZA.searchables.push({id: spec.id, field: spec.searchField, idField: spec.idField}); }
    if (spec.show) { gj.addTo(map); }
    return gj;
  };

  ZA.layer = function (id) { return ZA.overlays[id]; };

  ZA.focus = function (id, layer) {
    var map = ZA.map, gj = ZA.overlays[id];
    if (layer.getBounds) { map.fitBounds(layer.getBounds(), {maxZoom: 14, padding: [40, 40]}); }
    else if (layer.getLatLng) { map.setView(layer.getLatLng(), Math.max(map.getZoom(), 13)); }
    if (map.hasLayer(gj)) { layer.openPopup(); }
    else {
      var spec = ZA.cfg.layers[id] || {}, p = layer.feature.properties;
      var at = layer.getBounds ? layer.getBounds().getCenter() : layer.getLatLng();
      L.popup().setLatLng(at).setContent(ZA.table(p, spec.popup || [], spec.titleField ? p[spec.titleField] : null)).openOn(map);
    }
  };

  ZA.LayerControl = L.Control.extend({
    options: {position: "topright"},
    initialize: function (groups, options) { this._groups = groups; L.setOptions(this, options); },
    onAdd: function (map) {
      var box = el("div", "za-panel za-layers leaflet-control-layers-expanded");
      var head = el("div", "za-layers-head", ZA.cfg.text.layers + " \u25be");
      head.addEventListener("click", function () { box.classList.toggle("za-collapsed"); });
      if (window.innerWidth < 700) { box.classList.add("za-collapsed"); }
      box.appendChild(head);
      var wrap = el("div", "za-groups");
      this._groups.forEach(function (g, gi) {
        var sec = el("div", "za-group");
        sec.appendChild(el("div", "za-group-title", g.title));
        g.items.forEach(function (it) {
          var layer = ZA.overlays[it.id];
          if (!layer) { return; }
          var lab = el("label", "za-item");
          var inp = document.createElement("input");
          inp.type = g.exclusive ? "radio" : "checkbox";
          inp.name = "za-group-" + gi;
          inp.checked = map.hasLayer(layer);
          inp.setAttribute("data-layer", it.id);
          inp.addEventListener("change", function () {
            if (g.exclusive) {
              g.items.forEach(function (o) {
                var l = ZA.overlays[o.id];
                if (o.id !== it.id && l && map.hasLayer(l)) { map.removeLayer(l); }
              });
            }
            if (inp.checked) { map.addLayer(layer); } else { map.removeLayer(layer); }
            map.fire("za:toggle", {id: it.id});
          });
          lab.appendChild(inp);
          lab.appendChild(el("span", null, it.label));
          var n = typeof it.count === "number" ? it.count : ZA.counts[it.id];
          if (n !== undefined) {
            lab.appendChild(el("span", "za-count", "(" + n.toLocaleString(loc()) + ")"));
          }
          sec.appendChild(lab);
        });
        wrap.appendChild(sec);
      });
      box.appendChild(wrap);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    }
  });

  ZA.Legend = L.Control.extend({
    options: {position: "bottomleft"},
    initialize: function (sections, options) { this._sections = sections; L.setOptions(this, options); },
    onAdd: function (map) {
      var box = el("div", "za-panel za-legend");
      var head = el("div", "za-layers-head", ZA.cfg.text.legend + " \u25be");
      head.addEventListener("click", function () { box.classList.toggle("za-collapsed"); });
      if (window.innerWidth < 700) { box.classList.add("za-collapsed"); }
      box.appendChild(head);
      this._nodes = this._sections.map(function (s) {
        var d = el("div", "za-legend-section");
        d.setAttribute("data-layers", s.layers.join(" "));
        d.innerHTML = s.html;  // built and escaped in Python (geo.webmap._controls)
        box.appendChild(d);
        return [d, s.layers];
      });
      var self = this, pending = false;
      map.on("layeradd layerremove", function () {
        if (pending) { return; }
        pending = true;
        setTimeout(function () { pending = false; self.refresh(); }, 0);
      });
      this.refresh();
      L.DomEvent.disableScrollPropagation(box);
      return box;
    },
    refresh: function () {
      var map = this._map;
      this._nodes.forEach(function (n) {
        var on = n[1].length === 0 || n[1].some(function (id) { return ZA.overlays[id] && map.hasLayer(ZA.overlays[id]); });
        n[0].style.display = on ? "" : "none";
      });
    }
  });

  ZA.Search = L.Control.extend({
    options: {position: "topleft"},
    onAdd: function (map) {
      var box = el("div", "za-search leaflet-bar");
      var inp = document.createElement("input");
      inp.type = "search";
      inp.placeholder = ZA.cfg.text.search;
      inp.setAttribute("aria-label", ZA.cfg.text.search);
      var list = el("div", "za-search-results");
      inp.addEventListener("input", function () {
        var q = inp.value.trim().toLowerCase(), n = 0;
        list.textContent = "";
        if (!q) { return; }
        ZA.searchables.forEach(function (s) {
          ZA.overlays[s.id].eachLayer(function (l) {
            if (n >= 12) { return; }
            var p = l.feature.properties;
            var name = String(p[s.field] === undefined || p[s.field] === null ? "" : p[s.field]);
            var fid = String(p[s.idField] === undefined || p[s.idField] === null ? "" : p[s.idField]);
            if (name.toLowerCase().indexOf(q) >= 0 || fid.toLowerCase() === q) {
              n += 1;
              var b = el("button", "za-search-hit", name + (fid ? " (" + fid + ")" : ""));
              b.type = "button";
              b.addEventListener("click", function () { ZA.focus(s.id, l); });
              list.appendChild(b);
            }
          });
        });
        if (!n) { list.appendChild(el("div", "za-search-none", ZA.cfg.text.noMatch)); }
      });
      box.appendChild(inp);
      box.appendChild(list);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    }
  });

  ZA.Fullscreen = L.Control.extend({
    options: {position: "topleft"},
    onAdd: function (map) {
      var box = el("div", "leaflet-bar");
      var b = el("button", "za-btn za-fullscreen");
      b.type = "button";
      b.innerHTML = '<svg width="16" height="16" viewBox="0 0 16 16" fill="none" stroke="#333" stroke-width="2">' +
        '<path d="M1 6V1h5M10 1h5v5M15 10v5h-5M6 15H1v-5"/></svg>';  // constant markup, no data
      b.title = ZA.cfg.text.fullscreen;
      b.setAttribute("aria-label", ZA.cfg.text.fullscreen);
      b.addEventListener("click", function () { ZA.toggleFullscreen(); });
      box.appendChild(b);
      L.DomEvent.disableClickPropagation(box);
      return box;
    }
  });

  ZA.toggleFullscreen = function () {
    var c = ZA.map.getContainer(), on = !c.classList.contains("za-fs");
    c.classList.toggle("za-fs", on);
    try {
      if (on && c.requestFullscreen) { c.requestFullscreen().catch(function () {}); }
      else if (!on && document.fullscreenElement && document.exitFullscreen) { document.exitFullscreen().catch(function () {}); }
    } catch (e) { /* CSS fallback is enough */ }
    setTimeout(function () { ZA.map.invalidateSize(); }, 50);
    return on;
  };

  ZA.addTitle = function (title, sub, back) {
    var d = el("div", "za-title", title);
    var line = el("span", "za-sub", sub || "");
    if (back) {
      var a = el("a", null, back.text);
      a.href = back.href;
      if (sub) { line.appendChild(document.createTextNode(" \u00b7 ")); }
      line.appendChild(a);
    }
    d.appendChild(line);
    L.DomEvent.disableClickPropagation(d);
    ZA.map.getContainer().appendChild(d);
  };

  ZA.hooks.catchment = function (f) {
    var rings = ZA.overlays[ZA.cfg.ringLayer];
    ZA.selection.clearLayers();
    if (!rings) { return; }
    rings.eachLayer(function (l) {
      if (l.feature.properties.workplace_id === f.properties.workplace_id) {
        L.geoJSON(l.feature, {pane: "zaBack", interactive: false,
          style: {color: "#222", weight: 2, dashArray: "6 4", fill: true, fillOpacity: 0.06}}).addTo(ZA.selection);
      }
    });
  };

  // Pairs follow the chain overlays: a pair is drawn only while its chain's zones are.
  ZA.linkChains = function (chainLayers, pairLayers) {
    var hidden = {};
    function refresh() {
      var visible = {};
      Object.keys(chainLayers).forEach(function (id) {
        if (ZA.overlays[id] && ZA.map.hasLayer(ZA.overlays[id])) { visible[chainLayers[id]] = true; }
      });
      pairLayers.forEach(function (pid) {
        var gj = ZA.overlays[pid];
        if (!gj) { return; }
        var store = hidden[pid] || [];
        gj.eachLayer(function (l) { if (!visible[l.feature.properties.chain]) { store.push(l); } });
        store.forEach(function (l) { if (gj.hasLayer(l)) { gj.removeLayer(l); } });
        hidden[pid] = store.filter(function (l) {
          if (visible[l.feature.properties.chain]) { gj.addLayer(l); return false; }
          return true;
        });
      });
    }
    ZA.map.on("za:toggle", refresh);
  };

  ZA.showAll = function () {
    Object.keys(ZA.overlays).forEach(function (id) { ZA.map.addLayer(ZA.overlays[id]); });
  };

  // fit the view to the study beside the panels; again (ZA.refit) when a page adds a panel later
  ZA.refit = function () {
    if (ZA.fitStudy && ZA.studyBounds) { ZA.sizePanels(); ZA.fitStudy(ZA.studyBounds); ZA.placeLabels(); }
  };

  ZA.finish = function (bounds) {
    ZA.studyBounds = bounds;
    if (ZA.fitStudy) { ZA.refit(); }
    else { ZA.map.fitBounds(bounds, {padding: [20, 20]}); }
    requestAnimationFrame(function () {
      setTimeout(function () {
        ZA.ready = true;
        ZA.readyMs = performance.now();
        document.documentElement.setAttribute("data-za-ready", "1");
      }, 0);
    });
  };
})();
"""
