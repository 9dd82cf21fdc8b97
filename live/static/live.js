// live.js: the live page. One EventSource on /v1/events
// (docs/events.md) feeds every panel; the selection travels in its query
// and in the page's own URL (?select=a&select=b).
"use strict";

const MAX_SELECTED = 16;
const $ = id => document.getElementById(id);
const byTestid = (id, root) => (root || document).querySelector(`[data-testid="${id}"]`);

let selected = new URLSearchParams(location.search).getAll("select");
let control = false, ringSize = 120, serverNow = 0, source = null;
const deps = new Map(); // name -> {points, states, fates (Map), state, doc, section}

function setText(testid, text, root) {
  const e = byTestid(testid, root);
  if (e) e.textContent = text;
  return e;
}
const secs = v => v == null ? "-" : Number(v).toFixed(3);

function setConn(state) {
  const c = $("conn");
  c.textContent = state;
  c.setAttribute("data-state", state);
}

// connect opens the stream for the current selection, closing the old.
function connect() {
  if (source) source.close();
  const q = new URLSearchParams();
  for (const name of selected) q.append("select", name);
  setConn("connecting");
  source = new EventSource("/v1/events?" + q.toString());
  source.onopen = () => setConn("connected");
  source.onerror = () => {
    setConn("disconnected"); // EventSource retries by itself after a network error,
    const failed = source;   // but gives up on an HTTP error (a proxy's 502): retry then
    if (failed.readyState === EventSource.CLOSED) setTimeout(() => { if (source === failed) connect(); }, 2000);
  };
  const on = (type, f) => source.addEventListener(type, e => f(JSON.parse(e.data)));
  on("hello", hello);
  on("run", run);
  on("judge", judge);
  on("faults", faults);
  on("deployment", deployment);
  on("points", points);
  on("end", () => setConn("disconnected"));
}

function hello(d) {
  setConn("connected");
  control = d.control;
  ringSize = d.points;
  setText("run-id", d.run);
  setText("run-seed", String(d.seed));
  setText("run-interval", String(d.interval_seconds));
  setText("run-shard", d.shard || "-");
  setText("run-deployments", String(d.deployments));
  $("judge").setAttribute("data-judged", String(d.judged));
  $("refused").textContent = (d.refused || []).map(r => `${r.name}: ${r.reason}`).join("; ");
  if (!d.started) return;
  for (const [name, dep] of deps) {
    if (!d.selected.includes(name)) { dep.section.remove(); deps.delete(name); }
  }
  for (const name of d.selected) {
    if (!deps.has(name)) deps.set(name, newDep(name));
    $("charts").appendChild(deps.get(name).section); // in the order selected
  }
  $("charts-empty").hidden = d.selected.length > 0;
  refreshList();
}

function run(d) {
  serverNow = d.now_ms;
  setText("run-uptime", secs(d.uptime_seconds));
  const b = setText("run-broker", d.broker_connected ? "connected" : "disconnected");
  b.setAttribute("data-connected", String(d.broker_connected));
  setText("run-ticks", String(d.ticks));
  setText("run-lag", secs(d.tick_lag_seconds));
  setText("run-published", String(d.published));
  setText("run-dropped", String(d.dropped));
  setText("run-unroutable", String(d.unroutable));
}

function judge(d) {
  $("judge").setAttribute("data-judged", String(d.judged));
  if (!d.judged) return;
  for (const k of ["requests", "applied", "superseded", "open", "oscillations"]) setText("judge-" + k, String(d[k]));
  setText("judge-p50", secs(d.reaction_p50_seconds));
  setText("judge-p99", secs(d.reaction_p99_seconds));
  setText("judge-max", secs(d.reaction_max_seconds));
  setText("judge-line", d.line);
}

function faults(d) {
  const rows = Object.entries(d.counts).map(([kind, n]) => {
    const tr = document.createElement("tr");
    tr.innerHTML = "<td></td><td></td>";
    tr.cells[0].textContent = kind;
    tr.cells[1].textContent = String(n);
    tr.cells[1].setAttribute("data-testid", "fault-count");
    tr.cells[1].setAttribute("data-kind", kind);
    return tr;
  });
  $("fault-counts").replaceChildren(...rows);
  const hits = d.recent.slice().reverse().map(h => {
    const li = document.createElement("li");
    li.setAttribute("data-testid", "fault-hit");
    li.setAttribute("data-app", h.app);
    li.setAttribute("data-seq", String(h.seq));
    li.setAttribute("data-kinds", h.kinds);
    li.textContent = `${new Date(h.t_ms).toLocaleTimeString()} ${h.app} seq ${h.seq}: ${h.kinds}`;
    return li;
  });
  $("fault-hits").replaceChildren(...hits);
}

function newDep(name) {
  const section = document.createElement("section");
  section.className = "chart panel";
  section.setAttribute("data-testid", "chart");
  section.setAttribute("data-name", name);
  section.innerHTML = `<h2><span class="name"></span><span class="paused" data-testid="chart-paused" data-paused="false">sending</span>
    <span class="meta"></span><span class="meta" data-testid="fate-counts"></span></h2><div class="metrics"></div>
    <div class="legend"><span style="color:#1f6fb2">● sent</span><span style="color:#e07b00">- - observed</span>
    <span style="color:#2e8540">▼ applied</span><span style="color:#8a949e">▼ superseded</span><span style="color:#e07b00">▼ open</span>
    <span style="color:#b3261e">✕ not sent (fault)</span></div>`;
  section.querySelector(".name").textContent = name;
  const dep = { name, points: [], states: [], fates: new Map(), state: null, doc: null, section, controls: null };
  if (control) {
    dep.controls = controlsFor(name, () => dep.doc ? dep.doc.metrics.map(m => m.name) : []);
    section.appendChild(dep.controls);
  }
  return dep;
}

function deployment(d) {
  const dep = deps.get(d.name);
  if (!dep) return;
  dep.doc = d;
  dep.state = d.state;
  const p = byTestid("chart-paused", dep.section);
  p.textContent = d.paused ? "paused" : "sending";
  p.setAttribute("data-paused", String(d.paused));
  const over = d.metrics.filter(m => m.override != null).map(m => m.name);
  dep.section.querySelector(".meta").textContent = `seq ${d.seq} · every ${d.interval_seconds}s · observed replicas ${d.state.replicas}` +
    (over.length ? ` · override: ${over.join(", ")}` : "") + (d.faults ? ` · faults (${d.faults_from}): ${JSON.stringify(d.faults)}` : "");
  if (dep.controls) dep.controls.refresh();
  draw(dep);
}

function points(d) {
  const dep = deps.get(d.name);
  if (!dep) return;
  if (d.reset) { dep.points = []; dep.states = []; dep.fates = new Map(); }
  dep.points.push(...d.points);
  dep.states.push(...d.states);
  for (const f of d.fates) dep.fates.set(f.metric + "\0" + f.opened_ms, f);
  dep.points = dep.points.slice(-ringSize);
  dep.states = dep.states.slice(-ringSize);
  if (dep.fates.size > ringSize) dep.fates = new Map([...dep.fates].slice(-ringSize));
  draw(dep);
}

function draw(dep) {
  const names = dep.doc ? dep.doc.metrics.map(m => m.name) : [];
  const box = dep.section.querySelector(".metrics");
  box.replaceChildren(...names.flatMap(m => {
    const label = document.createElement("div");
    label.className = "metric-name";
    label.textContent = m;
    return [label, drawMetric(dep, m, serverNow)];
  }));
  const n = { applied: 0, superseded: 0, open: 0 };
  for (const f of dep.fates.values()) n[f.fate]++;
  const fc = byTestid("fate-counts", dep.section);
  for (const k in n) fc.setAttribute("data-" + k, String(n[k]));
  fc.textContent = `requests: ${n.applied} applied, ${n.superseded} superseded, ${n.open} open`;
}

// The deployment list: at most 200 names matching the filter.
let listTimer = 0;
async function refreshList() {
  const filter = $("filter").value;
  try {
    const r = await fetch("/v1/live/deployments?limit=200&filter=" + encodeURIComponent(filter));
    const d = await r.json();
    if ($("filter").value !== filter) return; // a newer filter is on its way
    $("list-count").textContent = `shown ${d.names.length} of ${d.total}` + (d.matched > d.names.length ? ` (${d.matched} match: refine the filter)` : "");
    $("deployment-list").replaceChildren(...d.names.map(name => {
      const li = document.createElement("li");
      li.textContent = name;
      li.setAttribute("data-testid", "deployment-item");
      li.setAttribute("data-name", name);
      li.setAttribute("data-selected", String(selected.includes(name)));
      li.addEventListener("click", () => toggle(name));
      return li;
    }));
  } catch (e) { /* disconnected: the next hello refreshes it */ }
}

function toggle(name) {
  if (selected.includes(name)) selected = selected.filter(n => n !== name);
  else if (selected.length < MAX_SELECTED) selected.push(name);
  else { $("refused").textContent = `at most ${MAX_SELECTED} deployments at once`; return; }
  const q = new URLSearchParams();
  for (const n of selected) q.append("select", n);
  history.replaceState(null, "", selected.length ? "?" + q.toString() : location.pathname);
  for (const li of document.querySelectorAll('[data-testid="deployment-item"]')) {
    li.setAttribute("data-selected", String(selected.includes(li.getAttribute("data-name"))));
  }
  connect();
}

$("filter").addEventListener("input", () => { clearTimeout(listTimer); listTimer = setTimeout(refreshList, 150); });
connect();
