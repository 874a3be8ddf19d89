// Weft's dashboard: a topology graph per namespace (drawn as SVG by this file), the same nodes
// and edges as tables, a service page, the proxies' sync state and the control plane's analysis
// messages (istioctl analyze's, in its log format). No third-party code; every
// text from the server is set with textContent (never parsed as HTML).
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const params = new URLSearchParams(location.search);
const refreshSeconds = Number(params.get("refresh") || 5);
let timer = null;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : String(c));
  return e;
}

async function getJson(path) {
  const r = await fetch(path, { cache: "no-store" });
  const body = await r.json();
  if (!r.ok) throw new Error((body.errors && body.errors[0] && body.errors[0].message) || r.status);
  return body;
}

function fmtRate(r) { return r >= 10 ? r.toFixed(1) : r.toFixed(2); }
function fmtPct(p) { return (p >= 10 || p === 0 ? p.toFixed(0) : p.toFixed(1)) + "%"; }
function fmtMs(ms) { return ms === null || ms === undefined ? "–" : (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1)) + " ms"; }
function lock(e) { return e.mtls ? (e.mtlsPercent >= 100 ? "mTLS" : "mTLS " + fmtPct(e.mtlsPercent)) : "plaintext"; }

function setStatus(text) { document.getElementById("status").textContent = text; }

function route() {
  const h = location.hash.replace(/^#\/?/, "");
  const parts = h.split("/").filter(Boolean).map(decodeURIComponent);
  return parts.length ? parts : ["graph"];
}

function namespace() { return document.getElementById("namespace").value; }

async function loadNamespaces() {
  const sel = document.getElementById("namespace");
  const { namespaces } = await getJson("/api/v1/namespaces");
  const wanted = params.get("namespace") || sel.value
    || namespaces.find(n => n !== "istio-system") || namespaces[0] || "default";
  sel.replaceChildren(...namespaces.map(n => el("option", { value: n }, n)));
  if (!namespaces.includes(wanted)) sel.append(el("option", { value: wanted }, wanted));
  sel.value = wanted;
}

async function render() {
  clearTimeout(timer);
  const [view, ...rest] = route();
  for (const v of ["graph", "services", "proxies", "analysis"]) {
    document.getElementById("nav-" + v).classList.toggle("active", view === v || (v === "services" && view === "service"));
  }
  const main = document.getElementById("main");
  try {
    if (view === "service") await renderService(main, rest[0], rest[1]);
    else if (view === "services") await renderServices(main);
    else if (view === "proxies") await renderProxies(main);
    else if (view === "analysis") await renderAnalysis(main, await analysisBadge());
    else await renderGraph(main);
    if (view !== "analysis") await analysisBadge();
    setStatus("Updated " + new Date().toLocaleTimeString() + (refreshSeconds > 0 ? " · refresh every " + refreshSeconds + " s" : ""));
  } catch (e) {
    setStatus("Error: " + e.message);
  }
  if (refreshSeconds > 0) timer = setTimeout(render, refreshSeconds * 1000);
}

// ---- graph ----

function layout(nodes, edges) {
  // Columns by longest path from a node without incoming edges (cycles broken by visit order).
  const incoming = new Map(nodes.map(n => [n.id, 0]));
  const out = new Map(nodes.map(n => [n.id, []]));
  for (const e of edges) {
    if (out.has(e.source) && incoming.has(e.target)) {
      out.get(e.source).push(e.target);
      incoming.set(e.target, incoming.get(e.target) + 1);
    }
  }
  const layer = new Map();
  const roots = nodes.filter(n => incoming.get(n.id) === 0).map(n => n.id);
  const queue = roots.map(id => [id, 0]);
  let steps = 0;
  while (queue.length && steps++ < 10000) {
    const [id, d] = queue.shift();
    if ((layer.get(id) ?? -1) >= d || d > nodes.length) continue;
    layer.set(id, d);
    for (const t of out.get(id)) queue.push([t, d + 1]);
  }
  for (const n of nodes) if (!layer.has(n.id)) layer.set(n.id, n.type === "service" ? 1 : 0);
  const columns = new Map();
  for (const n of nodes) {
    const l = layer.get(n.id);
    if (!columns.has(l)) columns.set(l, []);
    columns.get(l).push(n);
  }
  const pos = new Map();
  let rows = 1;
  for (const [l, col] of columns) {
    rows = Math.max(rows, col.length);
    col.forEach((n, i) => pos.set(n.id, { x: 110 + l * 260, y: 70 + i * 110 }));
  }
  const width = 220 + Math.max(...[...columns.keys(), 0]) * 260;
  return { pos, width: Math.max(width, 600), height: Math.max(140, 40 + rows * 110) };
}

// A padlock drawn at (x, y), 10 × 13: where the edge's traffic is mTLS.
function lockIcon(x, y) {
  return svg("g", { class: "lock", transform: `translate(${x},${y})` },
    svg("title", {}, "mTLS"),
    svg("path", { d: "M2 6 V4 a3 3 0 0 1 6 0 V6", fill: "none" }),
    svg("rect", { x: 0, y: 6, width: 10, height: 7, rx: 1 }));
}

function drawGraph(g) {
  const { pos, width, height } = layout(g.nodes, g.edges);
  const byId = new Map(g.nodes.map(n => [n.id, n]));
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `Traffic graph of namespace ${g.namespace}: ${g.nodes.length} nodes, ${g.edges.length} edges; the tables list them` });
  root.append(svg("defs", {}, svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5",
    markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" }, svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#5a6b7d" }))));
  for (const e of g.edges) {
    const a = pos.get(e.source), b = pos.get(e.target);
    if (!a || !b) continue;
    const dx = b.x - a.x, dy = b.y - a.y, len = Math.hypot(dx, dy) || 1;
    const r = 26;
    const x1 = a.x + dx / len * r, y1 = a.y + dy / len * r, x2 = b.x - dx / len * (r + 2), y2 = b.y - dy / len * (r + 2);
    const cls = "edge" + (e.idle ? " idle" : "") + (e.errorRate > 0 ? " failing" : "");
    const label = (e.idle ? "idle" : fmtRate(e.rate) + " rps") + " · " + fmtPct(e.percent)
      + (e.errorRate > 0 ? " · " + fmtPct(e.errorRate * 100) + " err" : "");
    const mx = (x1 + x2) / 2, my = (y1 + y2) / 2 - 6;
    const parts = [svg("title", {}, `${byId.get(e.source).label} → ${byId.get(e.target).label}: ${label}, p99 ${fmtMs(e.p99)}, ${lock(e)}`),
      svg("line", { x1, y1, x2, y2, "marker-end": "url(#arrow)" }),
      svg("text", { x: mx, y: my, "text-anchor": "middle" }, label)];
    if (e.mtls) parts.push(lockIcon(mx - 5, my + 5));
    root.append(svg("g", { class: cls }, ...parts));
  }
  for (const n of g.nodes) {
    const p = pos.get(n.id);
    let shape;
    if (n.type === "gateway") shape = svg("rect", { x: p.x - 24, y: p.y - 18, width: 48, height: 36, rx: 6 });
    else if (n.type === "service") shape = svg("polygon", { points: `${p.x},${p.y - 24} ${p.x + 24},${p.y + 18} ${p.x - 24},${p.y + 18}` });
    else shape = svg("circle", { cx: p.x, cy: p.y, r: 22 });
    const inner = [svg("title", {}, `${n.type} ${n.namespace}/${n.name}`), shape,
      svg("text", { x: p.x, y: p.y + 40, "text-anchor": "middle" }, n.label)];
    const g2 = svg("g", { class: "node node-" + n.type });
    if (n.type === "service") {
      g2.append(svg("a", { href: `#/service/${encodeURIComponent(n.namespace)}/${encodeURIComponent(n.name)}` }, ...inner));
    } else {
      g2.append(...inner);
    }
    root.append(g2);
  }
  return root;
}

function edgeTable(g, caption) {
  const byId = new Map(g.nodes.map(n => [n.id, n]));
  const name = id => byId.has(id) ? (byId.get(id).type === "service" ? byId.get(id).name + " (service)" : byId.get(id).label) : id;
  const rows = g.edges.map(e => el("tr", { class: e.idle ? "edge-row idle" : "edge-row", "data-source": e.source, "data-target": e.target,
      "data-percent": e.percent, "data-rate": e.rate, "data-mtls": e.mtls },
    el("td", {}, name(e.source)), el("td", {}, name(e.target)),
    el("td", { class: "num" }, e.idle ? "idle" : fmtRate(e.rate)),
    el("td", { class: "num" }, fmtPct(e.percent)),
    el("td", { class: "num" + (e.errorRate > 0 ? " err" : "") }, fmtPct(e.errorRate * 100)),
    el("td", { class: "num" }, fmtMs(e.p99)),
    el("td", {}, lock(e)),
    el("td", { class: "num" }, e.requests)));
  return el("table", { id: "edges" }, el("caption", {}, caption),
    el("thead", {}, el("tr", {}, ...["From", "To", "Requests/s", "Share", "Errors", "p99", "Security", "Requests"].map(h => el("th", { scope: "col" }, h)))),
    el("tbody", {}, ...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 8 }, "No traffic seen yet."))])));
}

function legend() {
  const icon = svg("svg", { width: 12, height: 15, viewBox: "-1 -1 12 15", "aria-hidden": "true" }, lockIcon(0, 0));
  return el("div", { class: "legend" }, "▭ gateway · △ service · ○ workload · edge: requests/s · share of the source's requests · ",
    icon, " mTLS · dashed: idle (numbers since the proxies started)");
}

async function renderGraph(main) {
  const ns = namespace();
  const g = await getJson("/api/v1/graph?namespace=" + encodeURIComponent(ns));
  const span = g.windowSeconds > 0 ? `last ${Math.round(g.windowSeconds)} s` : "no rate yet";
  const nodeRows = g.nodes.map(n => el("tr", { class: "node-row", "data-id": n.id },
    el("td", {}, n.type), el("td", {}, n.namespace),
    el("td", {}, n.type === "service" ? el("a", { href: `#/service/${encodeURIComponent(n.namespace)}/${encodeURIComponent(n.name)}` }, n.name) : n.name),
    el("td", {}, n.app), el("td", {}, n.version)));
  const side = el("div", { class: "side" },
    edgeTable(g, `Edges in ${ns} (${span}, from ${g.source})`),
    el("table", { id: "nodes" }, el("caption", {}, "Nodes"),
      el("thead", {}, el("tr", {}, ...["Type", "Namespace", "Name", "App", "Version"].map(h => el("th", { scope: "col" }, h)))),
      el("tbody", {}, ...nodeRows)),
    ...(g.errors.length ? [el("ul", { class: "err", id: "errors" }, ...g.errors.map(m => el("li", {}, m)))] : []));
  main.replaceChildren(el("h2", {}, "Traffic graph: " + ns),
    el("div", { class: "graph-view" },
      el("div", { class: "graph-box" }, drawGraph(g),
        legend()),
      side));
}

// ---- services ----

async function renderServices(main) {
  const ns = namespace();
  const g = await getJson("/api/v1/graph?namespace=" + encodeURIComponent(ns));
  const services = g.nodes.filter(n => n.type === "service" && n.namespace === ns);
  main.replaceChildren(el("h2", {}, "Services in " + ns),
    el("ul", {}, ...services.map(s => el("li", {}, el("a", { href: `#/service/${encodeURIComponent(s.namespace)}/${encodeURIComponent(s.name)}` }, s.name)))));
}

function table(caption, headers, rows, id) {
  return el("table", id ? { id } : {}, el("caption", {}, caption),
    el("thead", {}, el("tr", {}, ...headers.map(h => el("th", { scope: "col" }, h)))),
    el("tbody", {}, ...(rows.length ? rows.map(r => el("tr", {}, ...r.map(c => el("td", {}, c)))) : [el("tr", {}, el("td", { colspan: headers.length }, "none"))])));
}

function labels(m) { return Object.entries(m || {}).map(([k, v]) => k + "=" + v).join(", "); }
function sync(p) { return p ? Object.entries(p.sync).map(([t, s]) => t + " " + s).join(", ") + (p.connected ? "" : " (disconnected)") : "no proxy"; }

async function renderService(main, ns, name) {
  const s = await getJson(`/api/v1/service?namespace=${encodeURIComponent(ns)}&name=${encodeURIComponent(name)}`);
  const routes = [];
  for (const vs of s.virtualServices) {
    for (const r of vs.routes) {
      for (const d of r.destinations) {
        routes.push([vs.namespace + "/" + vs.name, r.match, d.host + (d.subset ? " subset " + d.subset : ""), d.weight + "%", r.features.join("; ")]);
      }
    }
  }
  const nodes = new Map();
  const g = { nodes: [], edges: s.edges };
  for (const e of s.edges) for (const id of [e.source, e.target]) {
    if (!nodes.has(id)) {
      const [type, rest] = id.includes(":") ? id.split(":") : ["unknown", id];
      const [nns, nn] = rest.includes("/") ? rest.split("/") : ["", rest];
      nodes.set(id, { id, type: type === "workload" ? "workload" : type, namespace: nns, name: nn, label: nn });
    }
  }
  g.nodes = [...nodes.values()];
  main.replaceChildren(el("h2", {}, "Service " + ns + "/" + name),
    el("dl", {}, el("dt", {}, "Host"), el("dd", {}, s.host),
      el("dt", {}, "Ports"), el("dd", {}, s.ports.map(p => `${p.name || "(unnamed)"} ${p.port} ${p.protocol}`).join(", ")),
      el("dt", {}, "Selector"), el("dd", {}, labels(s.selector)),
      el("dt", {}, "mTLS (namespace)"), el("dd", {}, s.namespaceMtlsMode)),
    table("Routes (VirtualServices)", ["VirtualService", "Match", "Destination", "Weight", "Also"], routes, "routes"),
    table("Subsets (DestinationRule" + (s.destinationRule ? " " + s.destinationRule.namespace + "/" + s.destinationRule.name : ": none") + ")",
      ["Subset", "Labels", "Workloads", "Traffic policy"],
      (s.destinationRule ? s.destinationRule.subsets : []).map(x => [x.name, labels(x.labels), String(x.workloads), x.trafficPolicy || (s.destinationRule.trafficPolicy ? "rule: " + s.destinationRule.trafficPolicy : "")]), "subsets"),
    table("Workloads and their proxies", ["Workload", "Labels", "Address", "mTLS mode", "Proxy sync"],
      s.workloads.map(w => [w.name, labels(w.labels), w.address, w.mtlsMode, sync(w.proxy)]), "workloads"),
    table("Policies", ["Kind", "Name", "Summary"], s.policies.map(p => [p.kind, p.namespace + "/" + p.name, p.summary]), "policies"),
    el("h3", {}, "Analysis messages about these resources"),
    messageList(s.analysis, "service-analysis"),
    edgeTable(g, "Traffic"));
}

// ---- proxies ----

async function renderProxies(main) {
  const { proxies } = await getJson("/api/v1/proxies");
  main.replaceChildren(el("h2", {}, "Proxies"),
    table("Proxy sync status (what the control plane sent, and whether each proxy ACKed it)",
      ["Proxy", "Type", "Connected", "Sync"], proxies.map(p => [p.name, p.type, p.connected ? "yes" : "no", sync(p)]), "proxies"));
}

// ---- analysis ----

// The most severe level among counts ({"Error": n, "Warning": n, "Info": n}), for styling.
function worst(counts) {
  for (const l of ["Error", "Warning", "Info"]) if (counts[l] > 0) return l.toLowerCase();
  return "none";
}

// Fetches the namespace's analysis messages and updates the navigation's count badge.
async function analysisBadge() {
  const a = await getJson("/api/v1/analysis?namespace=" + encodeURIComponent(namespace()));
  const badge = document.getElementById("analysis-count");
  badge.textContent = String(a.messages.length);
  badge.className = "badge level-" + worst(a.counts);
  badge.title = Object.entries(a.counts).map(([l, n]) => n + " " + l).join(", ");
  return a;
}

// Messages as istioctl analyze's log lines: "Error [IST0101] (VirtualService demo/podinfo) ...".
function messageList(messages, id) {
  const items = messages.map(m => el("li", { class: "message level-" + m.level.toLowerCase(), "data-code": m.code, "data-origin": m.origin },
    el("span", { class: "level" }, m.level), " ",
    el("a", { href: m.documentationUrl, rel: "noreferrer", target: "_blank" }, "[" + m.code + "]"),
    " (" + m.origin + ") " + m.message));
  return el("ul", { class: "messages", id }, ...(items.length ? items : [el("li", { class: "none" }, "No validation issues found.")]));
}

async function renderAnalysis(main, a) {
  const summary = Object.entries(a.counts).map(([l, n]) => n + " " + l).join(" · ");
  main.replaceChildren(el("h2", {}, "Analysis: " + a.namespace),
    el("p", {}, "What istioctl analyze would report for the control plane's configuration and workloads (" + summary + ")."),
    messageList(a.messages, "analysis"));
}

window.addEventListener("hashchange", render);
document.addEventListener("DOMContentLoaded", async () => {
  document.getElementById("namespace").addEventListener("change", render);
  try {
    await loadNamespaces();
  } catch (e) {
    setStatus("Error: " + e.message);
  }
  await render();
});
