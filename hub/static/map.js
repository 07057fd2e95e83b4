/* Maps of the catalogue (Leaflet from the xstatic-leaflet package, no tiles from the internet).
   Everything comes from data-* attributes of #map (the Content-Security-Policy allows no inline script):
   data-geojson  URL of a FeatureCollection (the dataset's records, following the page's filters)
   data-geometry one GeoJSON geometry (a record page)
   data-base     URL of the commune boundaries drawn underneath, instead of a tile layer
   data-kind     point | polygon
   data-text-*   translated messages
   It sets data-ready (true | error) once drawn and still, and data-zoom after every zoom.
   Text from the data only ever reaches the page through textContent, never as HTML. */
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.L) { return; }
  var data = el.dataset;
  // The province's bounding box, from the schemas' latitude/longitude limits.
  var PROVINCE = [[10.5797, 106.4118], [12.3, 107.5758]];
  var status = document.getElementById("map-status");
  var CLUSTER_ABOVE = 100;  // markers drawn one by one up to this many; more are clustered
  var LABEL_ZOOM = 11;  // ward names written on the map from this zoom on (a ward is then ~100 px or more wide)

  function legend(spec) {
    // the colours of the kinds drawn (from the schema's enum labels), with their counts
    var box = document.getElementById("map-legend");
    if (!box || !spec || !spec.items || !spec.items.length) { return; }
    var title = document.createElement("p");
    title.className = "legend-title";
    title.textContent = spec.title;
    box.appendChild(title);
    var list = document.createElement("ul");
    spec.items.forEach(function (item) {
      var li = document.createElement("li");
      var swatch = document.createElement("span");
      swatch.className = "swatch c" + item.color;
      swatch.setAttribute("aria-hidden", "true");
      li.appendChild(swatch);
      li.appendChild(document.createTextNode(item.label + " (" + item.count + ")"));
      list.appendChild(li);
    });
    box.appendChild(list);
    box.hidden = false;
  }

  function say(text) { if (status) { status.textContent = text; } }
  function fill(template, n) { return (template || "").replace("{n}", String(n)); }

  var map = L.map(el, { scrollWheelZoom: false, zoomSnap: 0.25, minZoom: 6, maxZoom: 18 });  // no tile layer sets them
  map.attributionControl.setPrefix(false);
  if (data.attribution) { map.attributionControl.addAttribution(data.attribution.replace(/</g, "&lt;")); }
  map.on("zoomend", function () { el.setAttribute("data-zoom", String(map.getZoom())); });  // for tests and styles
  map.fitBounds(PROVINCE);

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/geo+json, application/json" } }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.json();
    });
  }

  function popup(props) {
    var box = document.createElement("div");
    var strong = document.createElement("strong");
    strong.textContent = props.label || props.key || "";
    box.appendChild(strong);
    (props.lines || []).forEach(function (line) {
      // [title, text, link]: the labelled summary of the record (type, stars, address, ward, phone as tel:)
      var row = document.createElement("div");
      row.className = "popup-line";
      var title = document.createElement("span");
      title.className = "popup-title";
      title.textContent = line[0] + ": ";
      row.appendChild(title);
      var value = document.createElement(line[2] ? "a" : "span");
      if (line[2]) { value.href = line[2]; }
      value.textContent = line[1];
      row.appendChild(value);
      box.appendChild(row);
    });
    if (props.url) {
      var a = document.createElement("a");
      a.href = props.url;
      a.className = "popup-open";
      a.textContent = data.textOpen || "→";
      box.appendChild(a);
    }
    return box;
  }

  function marker(feature, latlng) {
    var label = (feature.properties && (feature.properties.label || feature.properties.key)) || data.label || "";
    var m = L.marker(latlng, {
      icon: L.divIcon({ className: "hub-marker" + (feature.properties && feature.properties.color !== undefined
        ? " c" + feature.properties.color : ""), iconSize: [16, 16], iconAnchor: [8, 8], popupAnchor: [0, -8] }),
      title: label, keyboard: true, riseOnHover: true
    });
    m.on("add", function () { var icon = m.getElement(); if (icon) { icon.setAttribute("aria-label", label); } });
    return m;
  }

  function dataLayer(geojson) {
    return L.geoJSON(geojson, {
      pointToLayer: marker,
      style: function () { return { className: "hub-area", color: "#0b4f6c", weight: 1.5, fillColor: "#2f8fb5", fillOpacity: 0.25 }; },
      onEachFeature: function (feature, layer) {
        if (feature.properties && (feature.properties.label || feature.properties.url)) { layer.bindPopup(popup(feature.properties)); }
      }
    });
  }

  var base = data.base ? getJSON(data.base).catch(function () { return null; }) : Promise.resolve(null);
  var records = data.geojson ? getJSON(data.geojson)
    : Promise.resolve({ type: "FeatureCollection", features: data.geometry
      ? [{ type: "Feature", geometry: JSON.parse(data.geometry), properties: { label: data.label } }] : [] });

  function wardLabels(shapes) {
    // each ward's or commune's name written on the map once zoomed in enough for the names to fit
    var labels = L.layerGroup();
    map.createPane("hub-labels").style.zIndex = 550;  // above the ward shapes, below the records' markers
    shapes.forEach(function (item) {
      var at;
      try { at = item[0].getCenter(); } catch (e) { at = item[0].getBounds().getCenter(); }
      var mark = L.marker(at, { icon: L.divIcon({ className: "hub-ward-label", iconSize: null }),
        interactive: false, keyboard: false, pane: "hub-labels" });
      mark.on("add", function () {
        var node = mark.getElement();
        if (!node || node.firstChild) { return; }
        var text = document.createElement("span");  // centred on the ward by CSS (Leaflet moves the outer box)
        text.textContent = item[1];
        node.appendChild(text);
      });
      labels.addLayer(mark);
    });
    function follow() {
      var shown = map.hasLayer(labels);
      if (map.getZoom() >= LABEL_ZOOM && !shown) { labels.addTo(map); }
      if (map.getZoom() < LABEL_ZOOM && shown) { map.removeLayer(labels); }
    }
    map.on("zoomend", follow);
    follow();
  }

  Promise.all([base, records]).then(function (both) {
    if (both[0]) {
      // the wards and communes under the data: their names on hover, and as labels when zoomed in (text only,
      // never HTML)
      var named = [];
      L.geoJSON(both[0], { style: function () {
        return { className: "hub-boundary", color: "#7d8f9c", weight: 0.8, fillColor: "#f2f5f7", fillOpacity: 1 };
      }, onEachFeature: function (feature, shape) {
        var name = feature.properties && feature.properties.label;
        if (!name) { return; }
        var tip = document.createElement("span");
        tip.textContent = name;
        shape.bindTooltip(tip, { sticky: true, className: "hub-ward", direction: "top" });
        named.push([shape, name]);
      } }).addTo(map);
      wardLabels(named);
    }
    var fc = both[1];
    var layer = dataLayer(fc);
    var points = fc.features.filter(function (f) { return f.geometry && f.geometry.type === "Point"; }).length;
    if (points > CLUSTER_ABOVE && L.markerClusterGroup) {
      // many points (150 hotels in one ward): grouped until zoomed in, so each stays reachable
      var clusters = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40 });
      clusters.addLayer(layer);
      clusters.addTo(map);
    } else {
      layer.addTo(map);
    }
    legend(fc.legend);
    var bounds = layer.getBounds();
    if (bounds.isValid()) {
      // at once, not zoomed to in an animation: data-ready below must mean the map holds still (a popup opened
      // during the animation moved when it ended, and a click meant for its link landed on the map)
      map.fitBounds(bounds, { padding: [20, 20], maxZoom: data.geometry ? 13 : 12, animate: false });
    }
    if (data.geojson) {
      var n = fc.features.length;
      say(fill(data.textCount, n) + (fc.truncated ? " " + fill(data.textTruncated, n) : ""));
    }
    el.setAttribute("data-ready", "true");
  }).catch(function (error) {
    if (window.console) { console.error(error); }
    say(data.textError || "");
    el.setAttribute("data-ready", "error");
  });
}());
