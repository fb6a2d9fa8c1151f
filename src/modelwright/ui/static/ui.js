// The UI's only script: local times, charts, and the CSRF header on htmx's requests.
// No inline script anywhere (the pages' CSP forbids it).
"use strict";

function localTimes(root) {
  for (const el of root.querySelectorAll("time[datetime]")) {
    const when = new Date(el.getAttribute("datetime"));
    if (!isNaN(when)) {
      el.textContent = when.toLocaleString();
      el.title = el.getAttribute("datetime");
    }
  }
}

async function drawChart(el) {
  if (el.dataset.drawn) return;
  el.dataset.drawn = "1";
  const width = Math.max(300, Math.floor(el.clientWidth || 600));
  const response = await fetch(el.dataset.series + "?points=" + width, {credentials: "same-origin"});
  if (!response.ok) {
    el.textContent = "Could not load the series (" + response.status + ").";
    return;
  }
  const series = await response.json();
  const style = getComputedStyle(document.documentElement);
  const stroke = style.getPropertyValue("--accent").trim() || "#0b62c4";
  const axis = {stroke: style.getPropertyValue("--muted").trim(), grid: {stroke: style.getPropertyValue("--line").trim()}};
  const options = {
    width: width, height: 220,
    scales: {x: {time: false}},
    axes: [axis, axis],
    series: [{label: "step"}, {label: el.dataset.label, stroke: stroke, width: 1.5, spanGaps: false}],
  };
  new uPlot(options, [series.steps, series.values], el);
  el.dataset.points = String(series.steps.length);
  el.dataset.total = String(series.total);
}

function enhance(root) {
  localTimes(root);
  for (const el of root.querySelectorAll(".chart[data-series]")) drawChart(el);
}

document.addEventListener("DOMContentLoaded", () => enhance(document));
document.addEventListener("htmx:afterSettle", (event) => enhance(event.target));
// Every request htmx sends carries the session's CSRF token, as forms do.
document.addEventListener("htmx:configRequest", (event) => {
  const token = document.body.dataset.csrf;
  if (token) event.detail.headers["X-CSRF-Token"] = token;
});
