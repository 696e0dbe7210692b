// tuneful dashboard: one page, plain JavaScript, no build step.
//
// Every stored string (study names, parameters, attributes, errors) reaches the page through
// textContent or a plotly figure, never through innerHTML: nothing stored can run as markup.
//
// Live updates: while a study is shown, the page asks `api/changes?since=VERSION` each second
// and patches what changed (the table's page, an open trial, the figure). The server applies
// only the events logged since its last look, at most every half second whatever the number
// of pages asking, so polling costs the storage almost nothing.
"use strict";

const POLL_MS = 1000;
const LIST_POLL_MS = 2000;
const PLOT_REFRESH_MS = 2000;
const STATES = ["COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING"];
const COMPARABLE = ["history", "edf", "pareto", "hypervolume"];
const WITH_PARAMS = ["parallel", "slice", "contour", "importance"];
const MAX_PARAM_COLUMNS = 8;

const app = { run: null, kinds: [], stop: null, info: null };

// -- small helpers -------------------------------------------------------------------------
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  return put(node, ...children);
}

// Appends children, skipping null, undefined and false (the DOM's own append would write
// them as the text "null"); anything not a node goes in as text, never as markup.
function put(node, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

class ApiError extends Error {}

async function api(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (Array.isArray(value)) value.forEach((v) => query.append(key, v));
    else if (value !== undefined && value !== null && value !== "") query.set(key, value);
  }
  const response = await fetch(`api/${path}?${query}`, { credentials: "same-origin" });
  let body = null;
  try {
    body = await response.json();
  } catch (error) {
    body = { error: `the server answered ${response.status} without JSON` };
  }
  if (!response.ok) throw new ApiError(body.error || `the server answered ${response.status}`);
  return body;
}

function fmt(value) {
  if (value === null || value === undefined) return "–";
  if (typeof value === "number") {
    if (Number.isInteger(value)) return value.toLocaleString("en-US").replace(/,/g, " ");
    const abs = Math.abs(value);
    if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return value.toExponential(3);
    return String(Number(value.toPrecision(5)));
  }
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function fmtValues(values) {
  if (!values) return "–";
  return values.map(fmt).join(", ");
}

function fmtTime(seconds) {
  if (seconds === null || seconds === undefined || typeof seconds !== "number") return "–";
  const d = new Date(seconds * 1000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function fmtAgo(seconds) {
  if (typeof seconds !== "number") return "–";
  const ago = Math.max(0, Date.now() / 1000 - seconds);
  if (ago < 60) return `${Math.round(ago)} s ago`;
  if (ago < 3600) return `${Math.round(ago / 60)} min ago`;
  if (ago < 86400) return `${(ago / 3600).toFixed(1)} h ago`;
  return fmtTime(seconds);
}

function fmtDuration(seconds) {
  if (typeof seconds !== "number") return "–";
  if (seconds < 1) return `${(seconds * 1000).toFixed(0)} ms`;
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function stateBadge(state) {
  return el("span", { class: `state state-${String(state).toLowerCase()}`, text: state });
}

function message(text, kind) {
  return el("p", { class: kind === "error" ? "error-text" : "muted", text });
}

function setLive(text, ok) {
  const node = document.getElementById("live");
  node.textContent = text;
  node.className = ok ? "live ok" : "live stale";
}

// A loop that calls `tick` every `ms` until stopped; a failed tick shows on the live badge.
function poller(tick, ms) {
  let stopped = false;
  let timer = null;
  const loop = async () => {
    if (stopped) return;
    try {
      await tick();
      setLive(`live · ${new Date().toLocaleTimeString()}`, true);
    } catch (error) {
      setLive(`not updating: ${error.message}`, false);
    }
    if (!stopped) timer = setTimeout(loop, ms);
  };
  timer = setTimeout(loop, ms);
  return () => { stopped = true; clearTimeout(timer); };
}

// A figure's notes are shown as text under it, so the copy drawn inside it is left out.
function drawFigure(node, figure, height, notes) {
  const layout = Object.assign({}, figure.layout || {}, { uirevision: "keep" });
  if (notes && notes.length && Array.isArray(layout.annotations)) {
    const drawn = notes.join("<br>");
    const kept = layout.annotations.filter((a) => a.text !== drawn);
    if (kept.length < layout.annotations.length && layout.margin) {
      layout.margin = Object.assign({}, layout.margin, { b: 60 });
    }
    layout.annotations = kept;
  }
  if (height) layout.height = height;
  return Plotly.react(node, figure.data || [], layout, {
    responsive: true, displaylogo: false, modeBarButtonsToRemove: ["sendDataToCloud"],
  });
}

function crumbs(...parts) {
  const nav = clear(document.getElementById("crumbs"));
  parts.forEach(([text, href]) => {
    nav.append(el("span", { class: "sep", text: "/" }));
    nav.append(href ? el("a", { href, text }) : el("span", { text }));
  });
}

function studyHref(name, tab) {
  return `#/study/${encodeURIComponent(name)}${tab ? `/${tab}` : ""}`;
}

// -- the list of studies ---------------------------------------------------------------------
function studiesView(main) {
  crumbs();
  const selected = new Set();
  const kind = el("select", { "aria-label": "figure kind" },
    COMPARABLE.filter((k) => app.kinds.includes(k)).map((k) => el("option", { value: k, text: k })));
  const compare = el("button", {
    text: "Compare selected", disabled: true,
    onclick: () => {
      location.hash = `#/compare/${kind.value}/${[...selected].map(encodeURIComponent).join("/")}`;
    },
  });
  const body = el("tbody");
  const table = el("table", { class: "grid studies" },
    el("thead", {}, el("tr", {},
      ["", "study", "directions", "trials", "complete", "pruned", "fail", "running", "waiting",
        "best", "last activity"].map((h, i) => el("th", { text: h,
        class: i >= 3 && i <= 9 ? "num" : null })))),
    body);
  const empty = message("");
  main.append(el("section", {},
    el("div", { class: "bar" }, el("h1", { text: "Studies" }), el("span", { class: "grow" }),
      el("label", {}, "compare on one figure: ", kind), compare),
    table, empty));

  const render = (studies) => {
    clear(body);
    empty.textContent = studies.length ? "" : "No studies in this storage yet.";
    for (const s of studies) {
      const box = el("input", {
        type: "checkbox", checked: selected.has(s.name), "aria-label": `select ${s.name}`,
        onchange: () => {
          if (box.checked) selected.add(s.name); else selected.delete(s.name);
          compare.disabled = selected.size < 1;
        },
      });
      const best = s.best ? fmtValues(s.best) :
        (s.pareto_size ? `Pareto front: ${s.pareto_size}` :
          (s.constrained && !s.n_feasible ? "no feasible trial" : "–"));
      body.append(el("tr", { dataset: { study: s.name } },
        el("td", {}, box),
        el("td", {}, el("a", { href: studyHref(s.name), text: s.name })),
        el("td", { text: s.directions.join(", ") }),
        el("td", { class: "num", text: fmt(s.n_trials) }),
        STATES.map((st) => el("td", { class: "num", text: fmt(s.counts[st] || 0) })),
        el("td", { class: "num", text: best }),
        el("td", { text: fmtAgo(s.last_activity), title: fmtTime(s.last_activity) })));
    }
  };
  const load = async () => render((await api("studies")).studies);
  load().then(() => setLive(`live · ${new Date().toLocaleTimeString()}`, true))
    .catch((error) => { empty.textContent = error.message; empty.className = "error-text"; });
  return poller(load, LIST_POLL_MS);
}

// -- one study -------------------------------------------------------------------------------
function summaryLine(summary) {
  const parts = [el("span", { class: "muted", text: summary.directions.join(", ") })];
  for (const st of STATES) {
    if (summary.counts[st]) {
      parts.push(el("span", { class: "count" }, stateBadge(st), ` ${fmt(summary.counts[st])}`));
    }
  }
  if (summary.best) parts.push(el("span", { class: "best", text: `best ${fmtValues(summary.best)}` }));
  if (summary.pareto_size) {
    parts.push(el("span", { class: "best", text: `Pareto front: ${summary.pareto_size} trials` }));
  }
  if (summary.constrained) {
    const complete = summary.counts.COMPLETE || 0;
    parts.push(el("span", { class: summary.n_feasible ? "muted" : "error-text",
      text: `feasible ${fmt(summary.n_feasible)} of ${fmt(complete)} complete` }));
  }
  const strategy = [summary.optimizer && `optimizer ${summary.optimizer}`,
    summary.scheduler && `scheduler ${summary.scheduler}`].filter(Boolean).join(" · ");
  if (strategy) parts.push(el("span", { class: "muted", text: strategy }));
  parts.push(el("span", { class: "muted", text: `last activity ${fmtAgo(summary.last_activity)}` }));
  return parts;
}

function studyView(main, name, tab, trialNumber) {
  crumbs([name, studyHref(name)]);
  const view = { name, summary: null, version: null, listeners: [] };
  const head = el("div", { class: "summary" });
  const tabs = el("div", { class: "tabs", role: "tablist" },
    [["trials", "Trials"], ["plots", "Plots"], ["importance", "Importance"]].map(([id, label]) =>
      el("a", { href: studyHref(name, id), class: tab === id ? "tab active" : "tab", text: label })));
  const body = el("div", { class: "tab-body" });
  main.append(el("section", {}, el("h1", { class: "study-name", text: name }), head, tabs, body));

  const showSummary = (summary) => {
    view.summary = summary;
    clear(head).append(...summaryLine(summary));
  };
  const start = async () => {
    const summary = await api("study", { study: name });
    view.version = summary.version;
    app.run = summary.run;
    showSummary(summary);
    if (tab === "plots") plotsTab(body, view);
    else if (tab === "importance") importanceTab(body, view);
    else trialsTab(body, view, trialNumber);
  };
  start().catch((error) => clear(body).append(message(error.message, "error")));

  return poller(async () => {
    if (view.version === null) return;
    const changes = await api("changes", { study: name, since: view.version, run: app.run });
    app.run = changes.run;
    const changed = changes.reset || changes.changed.length > 0 || changes.version !== view.version;
    view.version = changes.version;
    showSummary(changes.summary);
    if (changed) view.listeners.forEach((listener) => listener(changes));
  }, POLL_MS);
}

// -- the trials tab: filters, sortable table, pager, the opened trial -------------------------
function trialsTab(body, view, trialNumber) {
  const summary = view.summary;
  const query = { sort: "number", order: "desc", offset: 0, limit: 50, states: [], q: "",
    value_min: "", value_max: "" };
  const params = summary.params.slice(0, MAX_PARAM_COLUMNS);
  const nObjectives = summary.directions.length;
  let opened = trialNumber === undefined ? null : trialNumber;

  const stateBoxes = STATES.map((st) => {
    const box = el("input", { type: "checkbox", value: st, onchange: () => reload(true) });
    return el("label", { class: "check" }, box, stateBadge(st));
  });
  const minInput = el("input", { type: "number", step: "any", placeholder: "min",
    "aria-label": "value at least", onchange: () => reload(true) });
  const maxInput = el("input", { type: "number", step: "any", placeholder: "max",
    "aria-label": "value at most", onchange: () => reload(true) });
  let typing = null;
  const textInput = el("input", { type: "search", placeholder: "params: lr<0.01 adam",
    "aria-label": "filter on parameters", class: "wide",
    oninput: () => { clearTimeout(typing); typing = setTimeout(() => reload(true), 300); } });
  const pageSize = el("select", { "aria-label": "rows per page",
    onchange: () => { query.limit = Number(pageSize.value); reload(true); } },
    [25, 50, 100, 200].map((n) => el("option", { value: n, text: `${n} rows`, selected: n === 50 })));

  const headRow = el("tr");
  const tbody = el("tbody");
  const table = el("table", { class: "grid trials" }, el("thead", {}, headRow), tbody);
  const pagerText = el("span", { class: "muted" });
  const prev = el("button", { text: "‹ Prev", onclick: () => { query.offset = Math.max(0,
    query.offset - query.limit); reload(false); } });
  const next = el("button", { text: "Next ›", onclick: () => { query.offset += query.limit;
    reload(false); } });
  const status = message("");
  const detail = el("aside", { class: "detail", hidden: true });
  body.append(
    el("div", { class: "bar filters" }, el("span", { class: "label", text: "state" }), stateBoxes,
      el("span", { class: "label", text: nObjectives > 1 ? "value 1" : "value" }), minInput, "–",
      maxInput, textInput, pageSize),
    el("div", { class: "split" },
      el("div", { class: "table-wrap" }, table,
        el("div", { class: "bar pager" }, prev, next, pagerText), status),
      detail));

  const columns = [["number", "#"], ["state", "state"]];
  for (let i = 0; i < nObjectives; i += 1) {
    columns.push([i === 0 ? "value" : `value.${i}`, nObjectives > 1 ? `value ${i + 1}` : "value"]);
  }
  if (summary.constrained) columns.push(["feasible", null]);
  columns.push(["duration", "duration"], ["optimizer", null]);
  params.forEach((p) => columns.push([`param.${p}`, p]));
  columns.push(["finished", "finished"]);

  const renderHead = () => {
    clear(headRow);
    for (const [key, label] of columns) {
      if (label === null) {
        headRow.append(el("th", { text: key === "feasible" ? "feasible" : "proposed by",
          title: key === "feasible" ? "every constraint <= 0" : null }));
        continue;
      }
      const arrow = query.sort === key ? (query.order === "asc" ? " ▲" : " ▼") : "";
      headRow.append(el("th", { class: "sortable", text: label + arrow, title: `sort by ${label}`,
        onclick: () => {
          query.order = query.sort === key && query.order === "asc" ? "desc" : "asc";
          query.sort = key;
          reload(true);
        } }));
    }
    if (summary.params.length > params.length) {
      headRow.append(el("th", { text: `+${summary.params.length - params.length} params` }));
    }
  };

  const renderRows = (page) => {
    clear(tbody);
    for (const row of page.rows) {
      const values = [];
      for (let i = 0; i < nObjectives; i += 1) {
        values.push(el("td", { class: "num", text: row.values ? fmt(row.values[i]) : "–" }));
      }
      const tr = el("tr", {
        class: row.number === opened ? "row open" : "row", dataset: { number: row.number },
        tabindex: 0, onclick: () => openTrial(row.number),
        onkeydown: (e) => { if (e.key === "Enter") openTrial(row.number); },
      },
      el("td", { class: "num", text: row.number }),
      el("td", {}, stateBadge(row.state),
        row.pruned_step !== null ? el("span", { class: "muted", text: ` @${row.pruned_step}` }) : null),
      values,
      summary.constrained ? feasibleCell(row) : null,
      el("td", { class: "num", text: fmtDuration(row.duration) }),
      el("td", { text: fmt(row.optimizer) }),
      params.map((p) => el("td", { class: "num", text: p in row.params ? fmt(row.params[p]) : "·" })),
      el("td", { text: fmtTime(row.finished_at) }));
      tbody.append(tr);
    }
    const first = page.total ? page.offset + 1 : 0;
    const last = Math.min(page.offset + page.limit, page.total);
    const filtered = page.total !== page.n_trials ? ` (filtered from ${fmt(page.n_trials)})` : "";
    pagerText.textContent = `rows ${fmt(first)}–${fmt(last)} of ${fmt(page.total)}${filtered}`;
    prev.disabled = page.offset === 0;
    next.disabled = last >= page.total;
    status.textContent = page.total ? "" : "No trial matches.";
  };

  let loading = null;
  const reload = (toFirstPage) => {
    if (toFirstPage) query.offset = 0;
    query.states = stateBoxes.map((l) => l.firstChild).filter((b) => b.checked).map((b) => b.value);
    query.value_min = minInput.value;
    query.value_max = maxInput.value;
    query.q = textInput.value;
    renderHead();
    const params = Object.assign({ study: view.name }, query, { states: query.states.join(",") });
    const request = api("trials", params).then((page) => {
      if (request === loading) renderRows(page);
    }).catch((error) => {
      status.textContent = error.message;
      status.className = "error-text";
    });
    loading = request;
    return request;
  };

  const openTrial = (number) => {
    opened = number;
    history.replaceState(null, "", `${studyHref(view.name)}/trial/${number}`);
    tbody.querySelectorAll("tr.row").forEach((tr) => {
      tr.classList.toggle("open", Number(tr.dataset.number) === number);
    });
    loadDetail();
  };
  const loadDetail = () => {
    if (opened === null) return Promise.resolve();
    return api("trial", { study: view.name, number: opened })
      .then((trial) => renderDetail(detail, trial, () => {
        opened = null;
        detail.hidden = true;
        history.replaceState(null, "", studyHref(view.name));
      }))
      .catch((error) => { detail.hidden = false; clear(detail).append(message(error.message, "error")); });
  };

  view.listeners.push((changes) => {
    if (query.offset === 0 || changes.reset) reload(false);
    else if (changes.changed.some((n) => tbody.querySelector(`tr[data-number="${n}"]`))) reload(false);
    if (opened !== null && (changes.reset || changes.changed.includes(opened))) loadDetail();
  });
  reload(true);
  loadDetail();
}

function keyValueTable(entries, empty) {
  if (!entries.length) return message(empty);
  return el("table", { class: "kv" }, el("tbody", {}, entries.map(([k, v]) =>
    el("tr", {}, el("th", { text: k }), el("td", { text: fmt(v) })))));
}

function schedulerSection(trial) {
  const s = trial.scheduler;
  const items = [];
  if (s.bracket !== null && s.bracket !== undefined) items.push(el("li", { text: `bracket ${fmt(s.bracket)}` }));
  for (const rung of s.rungs) {
    const verdict = rung.passed ? "passed" : "stopped";
    let detail = rung.rule === "model" ? `predicted final ${fmt(rung.predicted)} ± ${fmt(rung.std)}, ` +
      `P(better) ${fmt(rung.p_improve)}` : `rank ${fmt(rung.rank)} of ${fmt(rung.of)}, best ${fmt(rung.keep)} go on`;
    if (rung.rule === "none") detail = "too few completed curves to judge";
    items.push(el("li", { text: `rung ${rung.rung}: ${verdict} (${detail})` }));
  }
  if (s.pruned) {
    items.push(el("li", { class: "pruned", text: `stopped at step ${fmt(s.pruned.step)}: ${fmt(s.pruned.reason)}` }));
  }
  const who = s.name ? `The study's scheduler: ${s.name}. ` : "";
  if (!items.length) return message(`${who}No decision recorded: the trial was not stopped.`);
  return el("div", {}, who ? message(who) : null, el("ul", { class: "decisions" }, items));
}

function constraintRows(trial) {
  if (!trial.constraints) return [];
  return [["constraints (<= 0 satisfied)", fmtValues(trial.constraints)],
    ["feasible", trial.feasible ? "yes" : `no (violation ${fmt(trial.violation)})`]];
}

function feasibleCell(row) {
  if (row.feasible === null) return el("td", { class: "muted", text: "–" });
  return el("td", { class: row.feasible ? "feasible" : "infeasible",
    text: row.feasible ? "yes" : `no (${fmt(row.violation)})`,
    title: `constraints ${fmtValues(row.constraints)} (<= 0 satisfied)` });
}

function renderDetail(node, trial, close) {
  node.hidden = false;
  clear(node);
  const values = trial.values ? trial.values.map((v, i) => [
    trial.directions.length > 1 ? `value ${i + 1} (${trial.directions[i]})` : `value (${trial.directions[0]})`, v]) : [];
  const curve = el("div", { class: "curve" });
  const pruned = trial.scheduler.pruned;
  put(node,
    el("div", { class: "bar" }, el("h2", {}, `Trial ${trial.number} `, stateBadge(trial.state)),
      el("span", { class: "grow" }), el("button", { text: "×", title: "close", "aria-label": "close", onclick: close })),
    keyValueTable([...values, ...constraintRows(trial), ["proposed by", trial.optimizer],
      ["worker", trial.worker],
      ["started", fmtTime(trial.started_at)], ["finished", fmtTime(trial.finished_at)],
      ["duration", fmtDuration(trial.duration)]], ""),
    el("h3", { text: "Parameters" }), keyValueTable(Object.entries(trial.params), "No parameters."),
    el("h3", { text: "Scheduler" }), schedulerSection(trial),
    el("h3", { text: "Learning curve" }),
    trial.intermediate.length ? curve : message("No intermediate values reported."),
    trial.error ? el("h3", { text: "Error" }) : null,
    trial.error ? el("pre", { class: "error-box", text: trial.error }) : null,
    el("h3", { text: "User attributes" }), keyValueTable(Object.entries(trial.user_attrs), "None."),
    el("details", {}, el("summary", { text: "System attributes" }),
      keyValueTable(Object.entries(trial.system_attrs), "None.")));
  if (trial.intermediate.length) {
    const steps = trial.intermediate.map((p) => p[0]);
    const ys = trial.intermediate.map((p) => (typeof p[1] === "number" ? p[1] : null));
    const data = [{ x: steps, y: ys, mode: "lines+markers", name: "reported", line: { color: "#2d5b8a" } }];
    if (pruned && typeof pruned.step === "number") {
      const at = steps.indexOf(pruned.step);
      data.push({ x: [pruned.step], y: [at >= 0 ? ys[at] : ys[ys.length - 1]], mode: "markers",
        name: "stopped here", marker: { symbol: "x", size: 12, color: "#c0392b" } });
    }
    drawFigure(curve, { data, layout: { margin: { l: 50, r: 10, t: 10, b: 40 },
      xaxis: { title: { text: "step" }, tickformat: "d" }, showlegend: data.length > 1,
      legend: { orientation: "h" } } }, 220);
  }
}

// -- plots -----------------------------------------------------------------------------------
function plotPanel(names, initial) {
  const state = Object.assign({ kind: "history", params: [], objective: 0, max_trials: "" }, initial);
  const figure = el("div", { class: "figure" });
  const notes = el("ul", { class: "notes" });
  const status = message("");
  let drawnAt = 0;
  let pending = null;
  const draw = async () => {
    status.textContent = "Drawing…";
    status.className = "muted";
    try {
      const result = await api("plot", { kind: state.kind, study: names, objective: state.objective,
        params: state.params.join(","), max_trials: state.max_trials });
      status.textContent = "";
      figure.hidden = false;
      clear(notes).append(...result.notes.map((n) => el("li", { text: n })));
      await drawFigure(figure, result.figure, null, result.notes);
      drawnAt = Date.now();
    } catch (error) {
      figure.hidden = true;
      clear(notes);
      status.textContent = error.message;
      status.className = "error-text";
    }
  };
  const refresh = () => {  // on live changes: at most one redraw every PLOT_REFRESH_MS
    if (pending) return;
    const wait = Math.max(0, PLOT_REFRESH_MS - (Date.now() - drawnAt));
    pending = setTimeout(() => { pending = null; draw(); }, wait);
  };
  return { state, figure, notes, status, draw, refresh };
}

function plotsTab(body, view) {
  const summary = view.summary;
  const panel = plotPanel([view.name], { kind: summary.directions.length > 1 ? "pareto" : "history" });
  const kind = el("select", { "aria-label": "plot kind", onchange: () => {
    panel.state.kind = kind.value;
    paramsLabel.hidden = !WITH_PARAMS.includes(kind.value);
    panel.draw();
  } },
    app.kinds.map((k) => el("option", { value: k, text: k, selected: k === panel.state.kind })));
  const params = el("select", { multiple: true, size: Math.min(4, Math.max(2, summary.params.length)),
    "aria-label": "parameters", title: "parameters to draw (none: the plot's own choice)",
    onchange: () => { panel.state.params = [...params.selectedOptions].map((o) => o.value); panel.draw(); } },
    summary.params.map((p) => el("option", { value: p, text: p })));
  const objective = el("select", { "aria-label": "objective", onchange: () => { panel.state.objective = Number(objective.value); panel.draw(); } },
    summary.directions.map((d, i) => el("option", { value: i, text: `objective ${i + 1} (${d})` })));
  const maxTrials = el("input", { type: "number", min: 1, step: 1000, placeholder: "default",
    "aria-label": "most trials drawn", title: "most trials drawn (empty: the plot's default)",
    onchange: () => { panel.state.max_trials = maxTrials.value; panel.draw(); } });
  const paramsLabel = el("label", { class: "params", hidden: !WITH_PARAMS.includes(panel.state.kind) },
    "params ", params);
  body.append(el("div", { class: "bar" }, el("label", {}, "kind ", kind), paramsLabel,
    summary.directions.length > 1 ? el("label", {}, "", objective) : null,
    el("label", {}, "at most ", maxTrials, " trials")), panel.status, panel.figure, panel.notes);
  view.listeners.push(() => panel.refresh());
  panel.draw();
}

function importanceTab(body, view) {
  const method = el("select", { "aria-label": "method", onchange: () => load() },
    ["fanova", "ped-anova"].map((m) => el("option", { value: m, text: m })));
  const objective = el("select", { "aria-label": "objective", onchange: () => load() },
    view.summary.directions.map((d, i) => el("option", { value: i, text: `objective ${i + 1} (${d})` })));
  const stale = el("span", { class: "muted" });
  const again = el("button", { text: "Recompute", onclick: () => load() });
  const figure = el("div", { class: "figure" });
  const out = el("div");
  let computedAt = null;
  body.append(el("div", { class: "bar" }, el("label", {}, "method ", method),
    view.summary.directions.length > 1 ? objective : null, again, stale), figure, out);
  const load = async () => {
    clear(out).append(message("Computing…"));
    stale.textContent = "";
    try {
      const result = await api("importance", { study: view.name, method: method.value, objective: objective.value });
      computedAt = result.version;
      const names = result.params.map((p) => p.name).reverse();
      const shares = result.params.map((p) => p.share).reverse();
      const errors = result.params.map((p) => p.std).reverse();
      figure.hidden = false;
      await drawFigure(figure, { data: [{ type: "bar", orientation: "h", x: shares, y: names,
        error_x: { type: "data", array: errors, visible: true }, marker: { color: "#2d5b8a" } }],
      layout: { margin: { l: 140, r: 20, t: 30, b: 40 }, title: { text: `${result.method}: ${result.n_trials} trials` },
        xaxis: { title: { text: "share" } } } }, Math.max(220, 40 + 28 * names.length));
      put(clear(out),
        keyValueTable(result.params.map((p) => [p.name, `${fmt(p.share)} ± ${fmt(p.std)}`]), "No parameters."),
        result.pairs.length ? el("h3", { text: "Pairs" }) : null,
        result.pairs.length ? keyValueTable(result.pairs.map((p) => [p.names.join(" × "), `${fmt(p.share)} ± ${fmt(p.std)}`]), "") : null,
        el("ul", { class: "notes" }, result.notes.map((n) => el("li", { text: n }))));
    } catch (error) {
      figure.hidden = true;
      clear(out).append(message(error.message, "error"));
    }
  };
  view.listeners.push((changes) => {
    if (computedAt !== null && changes.version !== computedAt) {
      stale.textContent = "The study changed since: recompute to include the new trials.";
    }
  });
  load();
}

// -- several studies on one figure -----------------------------------------------------------
function compareView(main, kind, names) {
  crumbs(["compare", null]);
  const panel = plotPanel(names, { kind });
  const select = el("select", { "aria-label": "figure kind", onchange: () => {
    location.hash = `#/compare/${select.value}/${names.map(encodeURIComponent).join("/")}`;
  } }, COMPARABLE.filter((k) => app.kinds.includes(k)).map((k) => el("option", { value: k, text: k, selected: k === kind })));
  main.append(el("section", {}, el("h1", { text: `Compare ${names.length} studies` }),
    el("div", { class: "bar" }, el("label", {}, "kind ", select),
      el("span", { class: "muted" }, "studies: ", names.map((n, i) => [i ? ", " : "", el("a", { href: studyHref(n), text: n })]))),
    panel.status, panel.figure, panel.notes));
  let versions = null;
  panel.draw();
  return poller(async () => {
    const { studies } = await api("studies");
    const now = studies.filter((s) => names.includes(s.name)).map((s) => s.version).join(",");
    if (versions !== null && now !== versions) panel.refresh();
    versions = now;
  }, LIST_POLL_MS);
}

// -- routing ---------------------------------------------------------------------------------
function route() {
  if (app.stop) app.stop();
  app.stop = null;
  const main = clear(document.getElementById("main"));
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter((p) => p !== "").map(decodeURIComponent);
  if (parts[0] === "study" && parts.length >= 2) {
    const tab = parts[2] === "trial" ? "trials" : parts[2] || "trials";
    const number = parts[2] === "trial" ? Number(parts[3]) : undefined;
    app.stop = studyView(main, parts[1], tab, Number.isInteger(number) ? number : undefined);
  } else if (parts[0] === "compare" && parts.length >= 3) {
    app.stop = compareView(main, parts[1], parts.slice(2));
  } else {
    app.stop = studiesView(main);
  }
}

async function boot() {
  try {
    app.info = await api("info");
  } catch (error) {
    clear(document.getElementById("main")).append(message(error.message, "error"));
    return;
  }
  app.run = app.info.run;
  app.kinds = app.info.kinds;
  document.getElementById("storage").textContent = app.info.storage;
  window.addEventListener("hashchange", route);
  route();
}

boot();
