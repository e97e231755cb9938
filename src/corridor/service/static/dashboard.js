// Draws the interconnection points on an offline map: line width = allocated, colour = use.
(async function () {
  const el = document.getElementById("map");
  const data = document.getElementById("points-data");
  if (!el || !data || !window.Plotly) return;
  const points = JSON.parse(data.textContent);
  const geo = await (await fetch("/static/world_110m.json")).json();
  window.PlotlyGeoAssets = {topojson: {world_110m: geo}};
  const traces = [];
  const lats = [], lons = [];
  const peak = Math.max(1e-9, ...points.map(p => p.allocated));
  for (const p of points) {
    if (p.from[0] === null || p.to[0] === null) continue;
    const use = p.capacity > 0 ? p.allocated / p.capacity : 0;
    const colour = p.allocated <= 0 ? "#999" : use > 0.95 ? "#c0392b" : use > 0.7 ? "#e67e22" : "#2e86c1";
    const text = `${p.point} ${p.from_country}→${p.to_country}<br>capacity ${p.capacity.toFixed(1)}` +
      `<br>nominated ${p.nominated.toFixed(1)}<br>allocated ${p.allocated.toFixed(1)} mcm/d`;
    traces.push({type: "scattergeo", mode: "lines", lat: [p.from[0], p.to[0]], lon: [p.from[1], p.to[1]],
      line: {width: 2 + 8 * p.allocated / peak, color: colour}, hoverinfo: "text", text: [text, text],
      showlegend: false, name: p.point});
    lats.push(p.from[0], p.to[0]); lons.push(p.from[1], p.to[1]);
    traces.push({type: "scattergeo", mode: "markers+text", lat: [(p.from[0] + p.to[0]) / 2],
      lon: [(p.from[1] + p.to[1]) / 2], text: [`${p.point}: ${p.allocated.toFixed(1)}`],
      textposition: "top center", marker: {size: 6, color: colour}, hoverinfo: "skip", showlegend: false});
  }
  const pad = (a, d) => a.length ? [Math.min(...a) - d, Math.max(...a) + d] : undefined;
  const layout = {margin: {l: 0, r: 0, t: 0, b: 0}, height: 430,
    geo: {projection: {type: "natural earth"}, showcountries: true, showland: true, landcolor: "#f4f1ea",
      countrycolor: "#999", resolution: 110, scope: "world", lataxis: {range: pad(lats, 4)},
      lonaxis: {range: pad(lons, 8)}}};
  await Plotly.newPlot(el, traces, layout, {displaylogo: false, responsive: true});
  el.dataset.ready = "1";
})();
