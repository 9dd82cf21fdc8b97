// control.js: the buttons of a followed deployment, present only when
// the sender runs with --enable-control; each calls the control API
// (README, "Control API") and shows its answer.
"use strict";

function button(label, testid, onclick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.setAttribute("data-testid", testid);
  b.addEventListener("click", onclick);
  return b;
}

function input(testid, value, placeholder) {
  const i = document.createElement("input");
  i.type = "text";
  i.value = value || "";
  i.placeholder = placeholder || "";
  i.setAttribute("data-testid", testid);
  return i;
}

// controlsFor returns the controls of deployment name, whose metric
// names metrics() gives when the override select opens.
function controlsFor(name, metrics) {
  const box = document.createElement("div");
  box.className = "controls";
  const result = document.createElement("span");
  result.setAttribute("data-testid", "control-result");
  const base = "/v1/deployments/" + encodeURIComponent(name);
  async function call(method, path, body) {
    result.textContent = "…";
    result.removeAttribute("data-status");
    try {
      const r = await fetch(base + path, { method, body, headers: body ? { "Content-Type": "application/json" } : {} });
      let text = r.ok ? "ok" : "";
      if (!r.ok) {
        try { text = (await r.json()).error; } catch (e) { text = r.statusText; }
      }
      result.setAttribute("data-status", String(r.status));
      result.textContent = `${method} ${path || "/"}: ${r.status} ${text}`;
    } catch (e) {
      result.setAttribute("data-status", "0");
      result.textContent = `${method} ${path}: ${e}`;
    }
  }
  const metricSel = document.createElement("select");
  metricSel.setAttribute("data-testid", "override-metric");
  const fill = () => {
    const have = [...metricSel.options].map(o => o.value).join("\0");
    const want = metrics();
    if (have === want.join("\0")) return;
    const keep = metricSel.value;
    metricSel.replaceChildren(...want.map(m => { const o = document.createElement("option"); o.value = o.textContent = m; return o; }));
    if (want.includes(keep)) metricSel.value = keep;
  };
  fill();
  metricSel.addEventListener("focus", fill);
  const value = input("override-value", "", "value, e.g. 3");
  const spec = input("fault-spec", '{"drop":{"p":0.5}}');
  const metricPath = () => "/metrics/" + encodeURIComponent(metricSel.value);
  box.append(
    button("pause", "pause", () => call("POST", "/pause")),
    button("resume", "resume", () => call("POST", "/resume")),
    metricSel, value,
    button("override", "override-set", () => call("PUT", metricPath(), JSON.stringify({ value: value.value }))),
    button("clear override", "override-clear", () => call("DELETE", metricPath())),
    spec,
    button("inject faults", "fault-inject", () => call("POST", "/faults", spec.value)),
    button("clear faults", "fault-clear", () => call("DELETE", "/faults")),
    result,
  );
  box.refresh = fill;
  return box;
}
