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

const PALETTE = ["#0b62c4", "#d9480f", "#2b8a3e", "#862e9c", "#e8590c", "#1098ad", "#c2255c", "#5c940d"];

// Several runs' series of one metric on one chart: the steps are merged, and a run without a
// point at a step leaves a gap there.
async function drawOverlaid(el) {
  if (el.dataset.drawn) return;
  el.dataset.drawn = "1";
  const width = Math.max(300, Math.floor(el.clientWidth || 800));
  const wanted = JSON.parse(el.dataset.multi);
  const all = await Promise.all(wanted.map(async (s) => {
    const r = await fetch(s.url + "?points=" + width, {credentials: "same-origin"});
    return r.ok ? await r.json() : {steps: [], values: []};
  }));
  const steps = [...new Set(all.flatMap((s) => s.steps))].sort((a, b) => a - b);
  const index = new Map(steps.map((s, i) => [s, i]));
  const columns = all.map((s) => {
    const column = new Array(steps.length).fill(null);
    s.steps.forEach((step, i) => { column[index.get(step)] = s.values[i]; });
    return column;
  });
  const style = getComputedStyle(document.documentElement);
  const axis = {stroke: style.getPropertyValue("--muted").trim(), grid: {stroke: style.getPropertyValue("--line").trim()}};
  new uPlot({
    width: width, height: 300, scales: {x: {time: false}}, axes: [axis, axis],
    series: [{label: "step"}, ...wanted.map((s, i) => ({label: s.label, stroke: PALETTE[i % PALETTE.length], width: 1.5}))],
  }, [steps, ...columns], el);
  el.dataset.count = String(wanted.length);
}

function enhance(root) {
  localTimes(root);
  for (const el of root.querySelectorAll(".chart[data-series]")) drawChart(el);
  for (const el of root.querySelectorAll(".chart[data-multi]")) drawOverlaid(el);
}

document.addEventListener("DOMContentLoaded", () => enhance(document));
document.addEventListener("htmx:afterSettle", (event) => enhance(event.target));
// Every request htmx sends carries the session's CSRF token, as forms do.
document.addEventListener("htmx:configRequest", (event) => {
  const token = document.body.dataset.csrf;
  if (token) event.detail.headers["X-CSRF-Token"] = token;
});

// --- Endpoints, rollouts, promotions and monitors --------------------------------------------
// Series over time ({x: [seconds since the epoch], series: [{label, values}]}), one line a
// label, the time axis in the viewer's zone.
async function drawTimeSeries(el) {
  if (el.dataset.drawn) return;
  el.dataset.drawn = "1";
  const response = await fetch(el.dataset.timeseries, {credentials: "same-origin"});
  if (!response.ok) {
    el.textContent = "Could not load the series (" + response.status + ").";
    return;
  }
  const data = await response.json();
  el.dataset.count = String(data.series.length);
  if (!data.x.length) {
    el.textContent = "No data in this window.";
    return;
  }
  const width = Math.max(300, Math.floor(el.clientWidth || 600));
  const style = getComputedStyle(document.documentElement);
  const axis = {stroke: style.getPropertyValue("--muted").trim(), grid: {stroke: style.getPropertyValue("--line").trim()}};
  // A single evaluation or flush still gets a readable time axis: ten minutes around it.
  const span = data.range || (data.x.length > 1 ? null : [data.x[0] - 300, data.x[0] + 300]);
  new uPlot({
    width: width, height: 220, axes: [axis, axis],
    scales: span ? {x: {time: true, range: () => span}} : {x: {time: true}},
    series: [{label: "time"}, ...data.series.map((s, i) => ({
      label: s.label, stroke: PALETTE[i % PALETTE.length], width: 1.5, points: {show: data.x.length < 50},
    }))],
  }, [data.x, ...data.series.map((s) => s.values)], el);
}

// Parts of a page that change with the platform follow its events stream: an element with
// data-events (the stream's URL), data-kind and data-subject receives "mw:event" (its
// hx-trigger, which reads it again) at each event of that subject. One connection a URL, closed
// once no element wants it (the change ended, or the page moved on).
const streams = new Map();

function followEvents() {
  const wanted = [...document.querySelectorAll("[data-events]")];
  for (const el of wanted) {
    const url = el.dataset.events;
    if (!streams.has(url)) {
      const source = new EventSource(url);
      source.addEventListener(el.dataset.kind, (message) => {
        const subject = JSON.parse(message.data).subject;
        for (const target of document.querySelectorAll("[data-events][data-subject]")) {
          if (target.dataset.subject === subject) htmx.trigger(target, "mw:event");
        }
      });
      source.addEventListener("open", () => {
        for (const target of document.querySelectorAll("[data-events]")) {
          if (target.dataset.events === url) target.dataset.following = "1";
        }
      });
      streams.set(url, source);
    } else if (streams.get(url).readyState === EventSource.OPEN) {
      el.dataset.following = "1";
    }
  }
  for (const [url, source] of streams) {
    if (!wanted.some((el) => el.dataset.events === url)) {
      source.close();
      streams.delete(url);
    }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const el of document.querySelectorAll(".chart[data-timeseries]")) drawTimeSeries(el);
  followEvents();
});
document.addEventListener("htmx:afterSettle", (event) => {
  for (const el of event.target.querySelectorAll(".chart[data-timeseries]")) drawTimeSeries(el);
  followEvents();
});
