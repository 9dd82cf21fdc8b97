// operator.js: the stand-in operator's page, fed by its /v1/events
// (one event type, operator; docs/live.md).
"use strict";

(function () {
  const conn = document.getElementById("conn");
  const setConn = s => { conn.textContent = s; conn.setAttribute("data-state", s); };
  const set = (id, v) => { document.querySelector(`[data-testid="${id}"]`).textContent = String(v); };
  const time = ms => ms == null ? "" : new Date(ms).toLocaleTimeString();
  function connect() {
    const es = new EventSource("/v1/events");
    es.onopen = () => setConn("connected");
    es.onerror = () => {
      setConn("disconnected"); // EventSource retries after a network error, not after an HTTP error
      if (es.readyState === EventSource.CLOSED) setTimeout(connect, 2000);
    };
    es.addEventListener("operator", show);
  }
  connect();
  function show(e) {
    const d = JSON.parse(e.data);
    setConn("connected");
    set("op-policy", d.policy);
    set("op-requests", d.requests);
    set("op-answered", d.answered);
    set("op-missed", d.missed);
    set("op-unreadable", d.unreadable);
    set("op-publish-failed", d.publish_failed);
    const rows = d.decisions.slice().reverse().map(x => {
      const tr = document.createElement("tr");
      tr.setAttribute("data-testid", "decision");
      tr.setAttribute("data-app", x.app);
      tr.setAttribute("data-outcome", x.outcome);
      const alloc = Object.entries(x.allocation).map(([k, v]) => `${k}=${v}`).join(" ");
      for (const text of [time(x.t_ms), x.app, x.outcome, x.replicas == null ? "" : x.replicas, alloc, time(x.due_ms)]) {
        const td = document.createElement("td");
        td.textContent = String(text);
        tr.appendChild(td);
      }
      return tr;
    });
    document.getElementById("decisions").replaceChildren(...rows);
  }
})();
