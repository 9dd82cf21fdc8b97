// chart.js: hand-written SVG charts of one deployment's metrics: the
// values sent (line and one circle per message), the observed state (a
// dashed step line) and each request's fate (a marker). No library.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const W = 720, H = 150, PAD = { l: 46, r: 8, t: 8, b: 18 };

// parseValue reads a value as sent ("0.8", "750m", "1Gi") in base units;
// NaN for one that is not a number ("gold").
const SUFFIX = { n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, Pi: 1024 ** 5, Ei: 1024 ** 6 };
function parseValue(text) {
  if (text == null) return NaN;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)([a-zA-Z]*)$/.exec(String(text).trim());
  if (!m || !(m[2] in SUFFIX)) return NaN;
  return parseFloat(m[1]) * SUFFIX[m[2]];
}

function el(name, attrs, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

function tip(e, text) { el("title", {}, e).textContent = text; }

// observedOf reads what the observed state says of metric: replicas for
// the metric named replicas, else allocation.<metric> (the judge's
// default targets); undefined when the state has none.
function observedOf(st, metric) {
  if (!st) return undefined;
  if (metric === "replicas") return st.replicas;
  return st.allocation ? st.allocation[metric] : undefined;
}

function fmtNum(v) {
  if (!isFinite(v)) return "";
  const a = Math.abs(v);
  if (a >= 1e6 || (a > 0 && a < 1e-2)) return v.toExponential(1);
  return String(+v.toFixed(3));
}

function fmtTime(ms) { return new Date(ms).toLocaleTimeString(); }

// drawMetric draws one metric of dep into a new SVG and returns it.
// dep: {points, states, fates (Map), state}; now: the server's time (ms).
function drawMetric(dep, metric, now) {
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none",
    "data-testid": "chart-metric", "data-metric": metric });
  const pts = dep.points.filter(p => p.values == null || metric in p.values);
  const sent = pts.filter(p => p.values != null);
  const fates = [...dep.fates.values()].filter(f => f.metric === metric);
  svg.setAttribute("data-points", String(sent.length));

  let t0 = Infinity, t1 = -Infinity, lo = Infinity, hi = -Infinity;
  const seeT = t => { t0 = Math.min(t0, t); t1 = Math.max(t1, t); };
  const seeV = v => { if (isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); } };
  for (const p of pts) { seeT(p.t_ms); if (p.values) seeV(parseValue(p.values[metric])); }
  for (const f of fates) { seeT(f.opened_ms); seeV(f.value); }
  for (const s of dep.states) seeV(observedOf(s, metric));
  seeV(observedOf(dep.state, metric));
  if (now) t1 = Math.max(t1, now);
  if (!isFinite(t0)) { t0 = (now || Date.now()) - 60000; t1 = now || Date.now(); }
  if (t1 - t0 < 1000) t0 = t1 - 1000;
  if (!isFinite(lo)) { lo = 0; hi = 1; }
  if (hi - lo < 1e-9) { hi += Math.max(Math.abs(hi) * 0.1, 0.5); lo -= Math.max(Math.abs(lo) * 0.1, 0.5); }
  const span = hi - lo; lo -= span * 0.08; hi += span * 0.08;
  const x = t => PAD.l + (t - t0) / (t1 - t0) * (W - PAD.l - PAD.r);
  const y = v => H - PAD.b - (v - lo) / (hi - lo) * (H - PAD.t - PAD.b);

  el("line", { class: "axis", x1: PAD.l, y1: H - PAD.b, x2: W - PAD.r, y2: H - PAD.b }, svg);
  el("line", { class: "axis", x1: PAD.l, y1: PAD.t, x2: PAD.l, y2: H - PAD.b }, svg);
  el("text", { class: "label", x: 2, y: PAD.t + 8 }, svg).textContent = fmtNum(hi);
  el("text", { class: "label", x: 2, y: H - PAD.b }, svg).textContent = fmtNum(lo);
  el("text", { class: "label", x: PAD.l, y: H - 4 }, svg).textContent = fmtTime(t0);
  el("text", { class: "label", x: W - PAD.r - 60, y: H - 4 }, svg).textContent = fmtTime(t1);

  // The observed state: a step line through the samples, to now.
  const obs = dep.states.map(s => [s.t_ms, observedOf(s, metric)]).filter(([, v]) => v !== undefined);
  if (obs.length) {
    let d = "";
    obs.forEach(([t, v], i) => {
      const tx = Math.max(x(t), PAD.l);
      d += i === 0 ? `M${tx},${y(v)}` : `H${tx}V${y(v)}`;
    });
    d += `H${x(t1)}`;
    const last = obs[obs.length - 1][1];
    tip(el("path", { class: "observed", d, "data-testid": "observed", "data-last": String(last) }, svg), `observed ${last}`);
  }

  // The values sent: a line, and a circle per message.
  const nums = sent.map(p => [p, parseValue(p.values[metric])]).filter(([, v]) => isFinite(v));
  if (nums.length > 1) {
    el("polyline", { class: "sent", points: nums.map(([p, v]) => `${x(p.t_ms)},${y(v)}`).join(" ") }, svg);
  }
  for (const p of sent) {
    const v = parseValue(p.values[metric]);
    const c = el("circle", { class: "point", r: 3, cx: x(p.t_ms), cy: isFinite(v) ? y(v) : H - PAD.b,
      "data-testid": "point", "data-seq": String(p.seq), "data-value": p.values[metric], "data-fault": p.fault || "" }, svg);
    tip(c, `seq ${p.seq}: ${p.values[metric]}${p.fault ? " (" + p.fault + ")" : ""} at ${fmtTime(p.t_ms)}`);
  }
  for (const p of pts.filter(p => p.values == null)) {
    const cx = x(p.t_ms), cy = H - PAD.b - 6;
    const m = el("path", { class: "suppressed", d: `M${cx - 4},${cy - 4}L${cx + 4},${cy + 4}M${cx - 4},${cy + 4}L${cx + 4},${cy - 4}`,
      "data-testid": "point-suppressed", "data-seq": String(p.seq), "data-fault": p.fault }, svg);
    tip(m, `seq ${p.seq}: not sent (${p.fault})`);
  }

  // Requests: a triangle where each opened; applied ones with a line to
  // when the operator applied them.
  for (const f of fates) {
    const fx = x(f.opened_ms), fy = y(f.value);
    if (f.fate === "applied" && f.ended_ms != null) {
      el("line", { class: "reaction", x1: fx, y1: fy, x2: x(f.ended_ms), y2: fy }, svg);
    }
    const m = el("path", { class: "fate-" + f.fate, d: `M${fx},${fy - 9}l-5,-8h10z`,
      "data-testid": "fate", "data-metric": f.metric, "data-fate": f.fate,
      "data-reaction": f.reaction_seconds != null ? f.reaction_seconds.toFixed(3) : "" }, svg);
    tip(m, `request ${f.value}: ${f.fate}` + (f.reaction_seconds != null ? ` after ${f.reaction_seconds.toFixed(3)} s` : ""));
  }
  return svg;
}
