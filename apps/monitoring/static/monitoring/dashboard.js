// The operators' dashboard: asks the monitoring JSON endpoints with the admin key kept in this tab's
// sessionStorage, draws the charts with Chart.js (served from this service's static files) and refreshes.
"use strict";

const KEY = "aitbc.monitoring.key";
const COLORS = ["#0969da", "#1a7f37", "#cf222e", "#9a6700", "#8250df", "#bf3989", "#1b7c83", "#57606a"];
const STATE_COLORS = {
  submitted: "#0969da", started: "#8250df", COMPLETED: "#1a7f37", FAILED: "#cf222e", CANCELED: "#9a6700", EXPIRED: "#57606a",
};
const $ = (id) => document.getElementById(id);
const charts = {};
let timer = null;

function keyFromFragment() {
  // a link may carry the key as #key=...: the fragment never reaches a server; it is moved out of the address bar
  const match = location.hash.match(/key=([^&]+)/);
  if (match) {
    sessionStorage.setItem(KEY, decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
}

function showError(text) {
  $("error").textContent = text || "";
  $("error").hidden = !text;
}

function signedOut(message) {
  clearTimeout(timer);
  sessionStorage.removeItem(KEY);
  $("board").hidden = true;
  $("sign-out").hidden = true;
  $("login").hidden = false;
  $("overall").textContent = "not signed in";
  $("overall").className = "pill";
  showError(message);
}

async function getJson(path) {
  const response = await fetch(path, { headers: { Authorization: "Bearer " + sessionStorage.getItem(KEY) } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.detail || "HTTP " + response.status);
    error.status = response.status;
    throw error;
  }
  return body;
}

function hhmm(iso) {
  return iso.slice(11, 16);
}

function shortQueue(name) {
  return name.startsWith("gpu.") ? "gpu." + name.slice(4, 12) + "…" : name;
}

function chart(id, type, options) {
  if (!charts[id]) {
    charts[id] = new Chart($(id), {
      type,
      data: { labels: [], datasets: [] },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false, spanGaps: true,
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
        scales: { y: { beginAtZero: true, ...(options.y || {}) } },
      },
    });
  }
  return charts[id];
}

function draw(id, type, labels, datasets, options = {}) {
  const c = chart(id, type, options);
  c.data.labels = labels;
  c.data.datasets = datasets;
  c.update("none");
  // what the tests (and a curious operator) can read off the page: how much data each chart holds
  const values = datasets.flatMap((d) => d.data).filter((v) => v !== null && v !== undefined);
  const canvas = $(id);
  canvas.dataset.datasets = datasets.length;
  canvas.dataset.points = values.length;
  canvas.dataset.nonzero = values.filter((v) => v > 0).length;
}

function series(perMinute, colorOf) {
  return Object.entries(perMinute.series).map(([name, data], i) => ({
    label: name, data, borderColor: colorOf(name, i), backgroundColor: colorOf(name, i), tension: 0.25, pointRadius: 2,
  }));
}

function rows(tableId, cells) {
  const body = $(tableId).querySelector("tbody");
  body.replaceChildren(...cells.map((row) => {
    const tr = document.createElement("tr");
    for (const cell of row) {
      const td = document.createElement("td");
      const [text, cls] = Array.isArray(cell) ? cell : [cell, ""];
      td.textContent = text === null || text === undefined ? "–" : String(text);
      if (cls) td.className = cls;
      tr.append(td);
    }
    return tr;
  }));
}

function render(dashboard, host) {
  const s = dashboard.summary;
  $("overall").textContent = dashboard.status === "ok" ? "all services up" : "down: " + dashboard.down.join(", ");
  $("overall").className = "pill " + dashboard.status;
  $("updated").textContent = "updated " + new Date().toLocaleTimeString();
  $("jobs-queued").textContent = s.jobs.by_state.QUEUED + s.jobs.by_state.ASSIGNED;
  $("jobs-running").textContent = s.jobs.by_state.RUNNING;
  $("miners-online").textContent = s.miners.online + " / " + s.miners.registered;
  $("queue-total").textContent = s.queues.total === null ? "broker down" : s.queues.total;
  $("block-height").textContent = s.blocks.height === null ? "none yet" : s.blocks.height;
  $("open-orders").textContent = s.orders.offers + " offers, " + s.orders.bids + " bids";
  $("escrow-held").textContent = s.ledger.escrow_held;
  $("host").textContent = `CPU ${host.cpu.percent}% · mem ${host.memory.percent}% · disk ${host.disk.percent}%`;

  const jobs = s.jobs.per_minute;
  draw("chart-jobs", "line", jobs.minutes.map(hhmm), series(jobs, (name) => STATE_COLORS[name]));
  // queue depth and latency: line charts over the stored samples (monitoring.sample_health, every 15 s)
  const depths = s.queues.depth_per_minute;
  draw("chart-queues", "line", depths.minutes.map(hhmm),
    series(depths, (name, i) => COLORS[i % COLORS.length]).map((d) => ({ ...d, label: shortQueue(d.label) })));
  const gpus = s.gpus.utilization_per_minute;
  draw("chart-gpus", "line", gpus.minutes.map(hhmm), series(gpus, (name, i) => COLORS[i % COLORS.length]),
    { y: { max: 100 } });
  const latency = s.services.latency_per_minute;
  draw("chart-latency", "line", latency.minutes.map(hhmm), series(latency, (name, i) => COLORS[i % COLORS.length]));

  rows("services", dashboard.services.map((c) => [
    c.name, [c.status, c.status], c.latency_ms.toFixed(1) + " ms", [c.error || "", "error"],
  ]));
  rows("jobs", Object.entries(s.jobs.by_state));
  rows("gpus", s.gpus.by_model.map((g) => [g.model, g.online + " / " + g.count, g.utilization_avg, g.temperature_c_avg]));
  rows("ledger", [
    ["supply", s.ledger.supply], ["treasury", s.ledger.treasury], ["fees", s.ledger.fees],
    ["in accounts", s.ledger.principals], ["escrow held", s.ledger.escrow_held], ["entries", s.ledger.entries],
    ["jobs settled", s.settlements.jobs], ["unsealed rows", s.blocks.unsealed],
  ]);
  rows("workers", s.workers.map((w) => [w.hostname, w.pid, hhmm(w.last_seen)]));
  document.body.dataset.refreshed = Number(document.body.dataset.refreshed) + 1;
}

async function refresh() {
  clearTimeout(timer);
  try {
    const [dashboard, host] = await Promise.all([getJson("v1/dashboard"), getJson("v1/dashboard/metrics")]);
    showError("");
    $("login").hidden = true;
    $("board").hidden = false;
    $("sign-out").hidden = false;
    render(dashboard, host);
  } catch (error) {
    if (error.status === 401 || error.status === 403) {
      signedOut(error.status === 403 ? "that key is not an admin key" : "unknown or revoked key");
      return;
    }
    showError("could not refresh: " + error.message);
  }
  timer = setTimeout(refresh, Number(document.body.dataset.refreshSeconds) * 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  keyFromFragment();
  $("login").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, $("key").value.trim());
    $("key").value = "";
    refresh();
  });
  $("sign-out").addEventListener("click", () => signedOut(""));
  if (sessionStorage.getItem(KEY)) {
    refresh();
  } else {
    signedOut("");
  }
});
