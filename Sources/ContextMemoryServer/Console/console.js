// ctxmem's web console (docs/console.md): plain JavaScript over the public /v1 API, no
// dependencies, no build step. Everything that comes from memory files is untrusted: it is only
// ever set as textContent or as an attribute's value, never parsed as HTML, and no URL written in
// memory is ever made a link (a reference opens by its memory:// handle, through the API).
"use strict";

const state = { token: sessionStorage.getItem("ctxmem-token"), agents: null, pack: null, generation: null, tickets: {} };
const number = new Intl.NumberFormat("en");
const tiers = ["essential", "detailed", "operational"];

// MARK: - API

/** Calls a /v1 route; asks for the token once on a 401 and retries. Throws with the API's message. */
async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (state.token) headers.Authorization = "Bearer " + state.token;
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (response.status === 401) {
    await askForToken(Boolean(state.token));
    return api(path, options);
  }
  if (!response.ok) {
    let message = response.status + " " + response.statusText;
    try { message = (await response.json()).error.message; } catch (_) { /* not JSON */ }
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return response;
}

/** One prompt for every call that met a 401; `refused` when the token this tab held was wrong. */
function askForToken(refused) {
  if (refused) {
    state.token = null;
    sessionStorage.removeItem("ctxmem-token");
  }
  if (state.asking) return state.asking;
  const form = $("token-form");
  $("token-refused").hidden = !refused;
  form.hidden = false;
  $("token").focus();
  state.asking = new Promise((resolve) => {
    form.onsubmit = (event) => {
      event.preventDefault();
      state.token = $("token").value;
      sessionStorage.setItem("ctxmem-token", state.token);  // this tab only
      form.hidden = true;
      state.asking = null;
      resolve();
    };
  });
  return state.asking;
}

/** A number for this render of `view`: a render that finds a newer one started drops its answer. */
function ticket(view) {
  state.tickets[view] = (state.tickets[view] || 0) + 1;
  const mine = state.tickets[view];
  return () => state.tickets[view] === mine;
}

/** A handle for a path as the server reads it: `#` and `%` are its own syntax. */
function fileHandle(path) {
  return "memory://" + path.replace(/%/g, "%25").replace(/#/g, "%23");
}

// MARK: - Small helpers

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function $(id) { return document.getElementById(id); }

/** A link to another view of the console: only ever a `#view?…` of ours. */
function viewLink(view, parameters, text, className) {
  const link = element("a", className, text);
  link.href = "#" + view + (parameters ? "?" + new URLSearchParams(parameters) : "");
  return link;
}

function readLink(handle, text, line) {
  return viewLink("read", line ? { handle, line } : { handle }, text || handle, "handle");
}

function tokens(count) { return number.format(count) + " tokens"; }

function percent(share) { return (share * 100).toFixed(1) + "%"; }

function showProblem(error) {
  const problem = $("problem");
  problem.hidden = !error;
  if (!error) return;
  problem.textContent = error.status === 503 || /no index/i.test(error.message)
    ? "There is no index yet: " + error.message + ". Run `ctxmem index` in the project, or wait for `ctxmem serve` to finish its first index."
    : "The server answered: " + error.message;
}

async function agentList() {
  if (!state.agents) state.agents = await (await api("/v1/agents")).json();
  return state.agents;
}

// MARK: - Live header

async function refreshLive() {
  const live = $("live");
  try {
    const health = await (await fetch("/healthz")).json();
    const index = health.index || {};
    const lag = health.watcher && health.watcher.lagSeconds != null
      ? ", watcher lag " + health.watcher.lagSeconds.toFixed(1) + " s" : "";
    live.textContent = (index.generation == null ? "no index yet" : "index generation " + index.generation) + lag
      + (health.status === "ok" ? "" : " (" + health.status + ")");
    if (state.generation !== null && index.generation !== state.generation) {
      // A changed index may change every view: show it again (a pack only when one is shown, as asked).
      state.agents = null;
      $("live-note").textContent = "The index changed (generation " + index.generation + "); the view was refreshed.";
      if (route().name !== "pack") showView({ keepFocus: true });
      else if (state.pack) composePack(state.pack.request);
    }
    state.generation = index.generation ?? null;
  } catch (error) {
    live.textContent = "server unreachable";
  }
}

// MARK: - Agents

async function showAgents() {
  const list = $("agents");
  const empty = $("agents-empty");
  const current = ticket("agents");
  let agents;
  try {
    agents = await agentList();
  } catch (error) {
    if (current()) showProblem(error);
    return;
  }
  if (!current()) return;
  list.replaceChildren();
  empty.hidden = agents.length > 0;
  empty.textContent = "No agents: define them as .claude/agents/*.md (docs/packing.md). The pack composer makes generic packs meanwhile.";
  for (const agent of agents) {
    const budget = agent.budget || 1;
    const share = agent.overheadShare || 0;
    const item = element("li", "agent" + (agent.overLimit ? " over" : ""));
    item.dataset.agent = agent.profile.name;
    const name = viewLink("pack", { agent: agent.profile.name }, agent.profile.name, "name");
    name.title = "Compose a pack for " + agent.profile.name;
    item.append(name);
    const bar = element("div", "bar");
    bar.setAttribute("role", "img");
    bar.setAttribute("aria-label", agent.profile.name + ": " + percent(share) + " of " + tokens(budget)
      + " is coordination overhead" + (agent.overLimit ? ", over the 20% limit" : ""));
    const launch = agent.claudeCodeTokens || 0;
    const rest = Math.max(0, (agent.overheadTokens || 0) - agent.pinnedTokens - launch);
    let left = 0;
    for (const [className, count] of [["pinned", agent.pinnedTokens], ["launch", launch], ["rest", rest]]) {
      const width = Math.min(100 - left, (100 * count) / budget);
      const part = element("span", className);
      part.style.left = left + "%";
      part.style.width = width + "%";
      left += width;
      bar.append(part);
    }
    const limit = element("span", "limit");
    limit.style.left = "20%";
    bar.append(limit);
    item.append(bar);
    item.append(element("span", "figures",
      tokens(budget) + ", mode " + agent.mode + ": pinned " + number.format(agent.pinnedTokens)
      + " (" + percent(agent.pinnedTokens / budget) + ")"
      + (launch ? ", loaded by Claude Code " + number.format(launch) : "")
      + ", coordination overhead " + number.format(agent.overheadTokens || 0) + " (" + percent(share) + ")"
      + (agent.overLimit ? " — over the 20% limit: run `ctxmem agents` for advice" : "")));
    list.append(item);
  }
}

// MARK: - Pack composer

async function showPack(parameters) {
  const select = $("pack-agent");
  try {
    const agents = await agentList();
    const names = agents.map((agent) => agent.profile.name);
    const chosen = parameters.get("agent") ?? select.value;
    select.replaceChildren(new Option("none (a generic pack)", ""), ...names.map((name) => new Option(name, name)));
    select.value = names.includes(chosen) ? chosen : "";
  } catch (error) {
    showProblem(error);
  }
  $("pack-task").value = parameters.get("task") ?? $("pack-task").value;
  $("pack-budget").value = parameters.get("budget") ?? $("pack-budget").value;
  if (parameters.has("agent") || parameters.has("task") || parameters.has("budget")) await composePack(packRequest("json"));
  else if (state.pack) await composePack(state.pack.request);
}

function packRequest(format) {
  const body = { format };
  const agent = $("pack-agent").value;
  const task = $("pack-task").value.trim();
  const budget = $("pack-budget").value;
  if (agent) body.agent = agent;
  if (task) body.task = task;
  if (budget) body.budget = Number(budget);
  return body;
}

/** Packs `request` (agent, task, budget; JSON) and draws it, unless a newer pack was asked for meanwhile. */
async function composePack(request) {
  const current = ticket("pack");
  let answer;
  let pack;
  try {
    const response = await api("/v1/packs", { method: "POST", body: JSON.stringify(Object.assign({}, request, { explain: true })) });
    answer = await response.json();
    performance.clearMarks();
    performance.clearMeasures();
    performance.mark("ctxmem-pack-response");
    pack = JSON.parse(answer.pack);
  } catch (error) {
    if (!current()) return;
    $("pack-result").hidden = true;
    showProblem(error);
    return;
  }
  if (!current()) return;
  showProblem(null);
  state.pack = { pack, explanation: answer.explanation, request };
  drawPack(pack, answer.explanation);
  // Drawn when the frame after the one that lays it out begins: the browser has painted it.
  requestAnimationFrame(() => requestAnimationFrame(() => {
    performance.mark("ctxmem-pack-drawn");
    performance.measure("ctxmem-pack-draw", "ctxmem-pack-response", "ctxmem-pack-drawn");
  }));
}

function drawPack(pack, explanation) {
  const manifest = pack.manifest;
  $("pack-result").hidden = false;
  const overhead = manifest.overhead;
  $("pack-summary").textContent =
    (manifest.agent ? manifest.agent : "Generic pack") + (manifest.task ? " — " + manifest.task : "")
    + ": " + number.format(manifest.tokens) + " of " + tokens(manifest.budget)
    + ", " + number.format(manifest.sections) + " sections in " + number.format(passages(pack)) + " passages from "
    + number.format(manifest.documents) + " documents, mode " + manifest.mode
    + ". Coordination overhead " + number.format(overhead.tokens) + " (" + percent(overhead.share)
    + ", limit " + percent(overhead.limit) + ")"
    + (overhead.claudeCodeTokens ? "; Claude Code loads " + tokens(overhead.claudeCodeTokens) + " itself, left out" : "")
    + ". Pack " + manifest.packId + ".";
  drawBudget(manifest);
  drawTreemap(pack, explanation);
  drawLeftOut(explanation);
}

/** Consecutive sections of a file go into a pack as one passage: one rectangle each. */
function passages(pack) {
  return pack.documents.reduce((sum, document) => sum + document.sections.length, 0);
}

function drawBudget(manifest) {
  const byTier = manifest.tokensByTier;
  const inTiers = tiers.reduce((sum, tier) => sum + (byTier[tier] || 0), 0);
  const parts = [
    ["essential", "Essentials (pinned, role brief)", byTier.essential || 0],
    ["detailed", "Detail", byTier.detailed || 0],
    ["operational", "Operational", byTier.operational || 0],
    ["pointers", "Pointers (handles to read)", manifest.pointerTokens],
    ["markup", "Manifest and markup", Math.max(0, manifest.tokens - inTiers - manifest.pointerTokens)],
    ["free", "Free", Math.max(0, manifest.budget - manifest.tokens)],
  ];
  const bar = $("budget-bar");
  const legend = $("budget-legend");
  bar.replaceChildren();
  legend.replaceChildren();
  let left = 0;
  for (const [className, label, count] of parts) {
    const width = (100 * count) / manifest.budget;
    const part = element("span", "part " + className);
    part.style.left = left + "%";
    part.style.width = width + "%";
    part.dataset.tokens = count;
    left += width;
    bar.append(part);
    const entry = element("li");
    entry.append(element("span", "swatch " + className), element("span", null, label + " " + number.format(count)));
    legend.append(entry);
  }
  const limit = element("span", "limit");
  limit.style.left = percent(manifest.overhead.limit);
  bar.append(limit);
  bar.setAttribute("aria-label", "Budget " + tokens(manifest.budget) + ": "
    + parts.map(([, label, count]) => label + " " + number.format(count)).join(", "));
}

// A squarified treemap (Bruls, Huizing and van Wijk, 2000): rows of rectangles whose aspect
// ratios stay near 1, so small sections stay visible and comparable.
function squarify(items, x, y, width, height) {
  const total = items.reduce((sum, item) => sum + item.value, 0);
  const placed = [];
  if (total <= 0 || width <= 0 || height <= 0) {
    for (const item of items) placed.push({ item, x, y, width: 0, height: 0 });
    return placed;
  }
  const scale = (width * height) / total;
  const areas = items.map((item) => ({ item, area: item.value * scale }));
  let row = [];
  const worst = (cells, side) => {
    const sum = cells.reduce((s, c) => s + c.area, 0);
    let max = 0;
    for (const c of cells) max = Math.max(max, (side * side * c.area) / (sum * sum), (sum * sum) / (side * side * c.area));
    return max;
  };
  const layRow = () => {
    const sum = row.reduce((s, c) => s + c.area, 0);
    if (width >= height) {
      const columnWidth = sum / height;
      let top = y;
      for (const c of row) {
        const h = c.area / columnWidth;
        placed.push({ item: c.item, x, y: top, width: columnWidth, height: h });
        top += h;
      }
      x += columnWidth;
      width -= columnWidth;
    } else {
      const rowHeight = sum / width;
      let leftEdge = x;
      for (const c of row) {
        const w = c.area / rowHeight;
        placed.push({ item: c.item, x: leftEdge, y, width: w, height: rowHeight });
        leftEdge += w;
      }
      y += rowHeight;
      height -= rowHeight;
    }
    row = [];
  };
  for (const cell of areas) {
    const side = Math.min(width, height);
    if (row.length === 0 || worst(row.concat([cell]), side) <= worst(row, side)) {
      row.push(cell);
    } else {
      layRow();
      row.push(cell);
    }
  }
  if (row.length) layRow();
  return placed;
}

function byValue(a, b) { return b.value - a.value; }

function drawTreemap(pack, explanation) {
  const map = $("treemap");
  map.replaceChildren();
  const reasons = new Map(explanation.map((decision) => [decision.handle, decision]));
  const width = map.clientWidth;
  const height = map.clientHeight;
  // Tier, then document, then section. A section's area is its tokens in the pack (at least 1, so
  // an empty one is still there to find).
  const groups = tiers.map((tier) => {
    const documents = new Map();
    for (const document of pack.documents) {
      for (const section of document.sections) {
        if (section.tier !== tier) continue;
        if (!documents.has(document.path)) documents.set(document.path, { path: document.path, sections: [], value: 0 });
        const entry = documents.get(document.path);
        const value = Math.max(1, section.tokens);
        entry.sections.push({ section, value });
        entry.value += value;
      }
    }
    const list = [...documents.values()].sort(byValue);
    return { tier, documents: list, value: list.reduce((sum, d) => sum + d.value, 0) };
  }).filter((group) => group.value > 0);
  const cells = [];
  for (const tierBox of squarify(groups, 0, 0, width, height)) {
    const group = tierBox.item;
    const box = element("div", "tier-box " + group.tier);
    place(box, tierBox);
    const label = tierBox.height > 34 && tierBox.width > 60;
    if (label) box.append(element("span", "tier-label", group.tier + " " + number.format(group.value)));
    map.append(box);
    const inset = label ? 16 : 1;
    for (const documentBox of squarify(group.documents.sort(byValue), tierBox.x + 1, tierBox.y + inset,
      Math.max(0, tierBox.width - 2), Math.max(0, tierBox.height - inset - 1))) {
      const document = documentBox.item;
      const outline = element("div", "document-box");
      outline.title = document.path;
      place(outline, documentBox);
      map.append(outline);
      for (const sectionBox of squarify(document.sections.sort(byValue), documentBox.x + 1, documentBox.y + 1,
        Math.max(0, documentBox.width - 2), Math.max(0, documentBox.height - 2))) {
        const section = sectionBox.item.section;
        const cell = element("div", "cell " + section.tier);
        place(cell, sectionBox);
        cell.tabIndex = cells.length === 0 ? 0 : -1;
        cell.setAttribute("role", "button");
        cell.dataset.handle = section.handle;
        cell.dataset.tokens = section.tokens;
        const heading = section.headingPath.length ? section.headingPath.join(" › ") : section.path;
        const decision = reasons.get(section.handle);
        const why = decision ? decision.reason : section.tier === "essential" ? "essential" : "chosen";
        cell.dataset.tip = heading + " — " + section.path + ":" + section.startLine + "–" + section.endLine
          + " — " + section.tier + ", " + tokens(section.tokens) + (section.trimmed ? " (trimmed from " + number.format(section.fullTokens) + ")" : "")
          + " — why: " + why;
        cell.setAttribute("aria-label", cell.dataset.tip);
        if (sectionBox.width > 70 && sectionBox.height > 18) {
          cell.append(element("span", "cell-label", section.headingPath[section.headingPath.length - 1] || section.path));
        }
        map.append(cell);
        cells.push(cell);
      }
    }
  }
  map.dataset.cells = cells.length;
  showTip(null);
}

function place(node, box) {
  node.style.left = box.x + "px";
  node.style.top = box.y + "px";
  node.style.width = Math.max(0, box.width) + "px";
  node.style.height = Math.max(0, box.height) + "px";
}

function showTip(cell) {
  const tip = $("treemap-tip");
  tip.textContent = cell ? cell.dataset.tip : "Hover over or focus a rectangle to see the section and why it is in.";
}

/** The cell nearest `from` in a direction: arrow keys move through the treemap as it is drawn. */
function neighbour(from, dx, dy) {
  const center = (cell) => {
    const box = cell.getBoundingClientRect();
    return { x: box.left + box.width / 2, y: box.top + box.height / 2 };
  };
  const origin = center(from);
  let best = null;
  let bestScore = Infinity;
  for (const cell of document.querySelectorAll("#treemap .cell")) {
    if (cell === from) continue;
    const point = center(cell);
    const along = (point.x - origin.x) * dx + (point.y - origin.y) * dy;
    if (along <= 0) continue;
    const across = Math.abs((point.x - origin.x) * dy) + Math.abs((point.y - origin.y) * dx);
    const score = along + 2 * across;
    if (score < bestScore) { bestScore = score; best = cell; }
  }
  return best;
}

function moveFocus(from, to) {
  if (!to) return;
  from.tabIndex = -1;
  to.tabIndex = 0;
  to.focus();
}

function drawLeftOut(explanation) {
  const rows = $("left-out-rows");
  rows.replaceChildren();
  const out = explanation.filter((decision) => decision.outcome !== "included");
  const shown = out.slice(0, 300);
  for (const decision of shown) {
    const row = element("tr", "decision " + decision.outcome);
    row.append(element("td", null, decision.outcome), element("td", null, decision.tier),
      element("td", "number", number.format(decision.tokens)), element("td", "number", decision.score.toFixed(2)));
    const cell = element("td");
    cell.append(readLink(decision.handle));
    row.append(cell, element("td", null, decision.reason));
    rows.append(row);
  }
  $("left-out").querySelector("summary").textContent =
    "Left out, trimmed or pointed to, and why (" + number.format(out.length) + " of " + number.format(explanation.length) + " candidates)";
  const more = $("left-out-more");
  more.hidden = out.length <= shown.length;
  more.textContent = "The first " + shown.length + " are shown; `ctxmem pack --explain` lists all " + out.length + ".";
}

async function download(format) {
  if (!state.pack) return;
  // The pack on screen, in another format: its request, not what the form holds now.
  const body = Object.assign({}, state.pack.request, { format });
  try {
    // The server's own bytes, unchanged: the same request to `ctxmem pack` writes the same file.
    const response = await api("/v1/packs", { method: "POST", body: JSON.stringify(body) });
    const blob = await response.blob();
    const id = response.headers.get("Ctxmem-Pack-Id") || "pack";
    const link = element("a");
    link.href = URL.createObjectURL(blob);
    const name = (body.agent || "generic").replace(/[^\w.-]/g, "_");
    link.download = "ctxmem-pack-" + name + "-" + id.replace(/[^\w]/g, "") + "." + { markdown: "md", xml: "xml", json: "json" }[format];
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  } catch (error) {
    showProblem(error);
  }
}

// MARK: - Search

let searchTimer = null;
let searchController = null;

function scheduleSearch() {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(runSearch, 150);
}

async function runSearch() {
  const query = $("search-q").value.trim();
  const results = $("search-results");
  const status = $("search-status");
  if (searchController) searchController.abort();
  if (!query) {
    results.replaceChildren();
    status.textContent = "Type to search every indexed section (headings weigh more than text).";
    return;
  }
  const parameters = new URLSearchParams({ q: query, limit: "50" });
  if ($("search-tier").value) parameters.set("tier", $("search-tier").value);
  if ($("search-path").value.trim()) parameters.set("path", $("search-path").value.trim());
  searchController = new AbortController();
  let answer;
  try {
    answer = await (await api("/v1/search?" + parameters, { signal: searchController.signal })).json();
  } catch (error) {
    if (error.name === "AbortError") return;
    results.replaceChildren();
    status.textContent = error.message;
    return;
  }
  results.replaceChildren();
  status.textContent = answer.results.length === 0 ? "Nothing matches." : answer.results.length + " sections, best first.";
  for (const hit of answer.results) {
    const item = element("li", "result");
    const link = readLink(hit.handle, hit.headingPath.length ? hit.headingPath.join(" › ") : hit.path);
    link.className = "result-link";
    item.append(link);
    item.append(element("span", "meta", hit.path + ":" + hit.startLine + "–" + hit.endLine + " · " + hit.tier + " · " + tokens(hit.tokens)));
    item.append(highlighted(hit.snippet || ""));
    results.append(item);
  }
}

/** The index marks matches with « and »; they become <mark> elements, the rest stays text. */
function highlighted(snippet) {
  const paragraph = element("p", "snippet");
  const pieces = snippet.split(/«|»/);
  pieces.forEach((piece, index) => paragraph.append(index % 2 ? element("mark", null, piece) : document.createTextNode(piece)));
  return paragraph;
}

function searchKeys(event) {
  const links = [...document.querySelectorAll("#search-results .result-link")];
  const at = links.indexOf(document.activeElement);
  if (event.key === "ArrowDown") {
    event.preventDefault();
    (links[at + 1] || links[links.length - 1])?.focus();
  } else if (event.key === "ArrowUp") {
    event.preventDefault();
    if (at <= 0) $("search-q").focus(); else links[at - 1].focus();
  } else if (event.key === "Escape") {
    $("search-q").focus();
  }
}

function showSearch() {
  runSearch();
}

// MARK: - Reading a section

async function showRead(parameters) {
  const handle = parameters.get("handle");
  const line = Number(parameters.get("line")) || null;
  const text = $("read-text");
  const current = ticket("read");
  if (!handle) return;
  let section;
  try {
    // With a line (an audit finding's place), the server answers the section that holds it.
    const query = new URLSearchParams({ handle, references: "true" });
    if (line) query.set("line", line);
    section = await (await api("/v1/memory?" + query)).json();
  } catch (error) {
    if (!current()) return;
    text.replaceChildren();
    $("read-out").replaceChildren();
    $("read-in").replaceChildren();
    $("read-title").textContent = handle;
    $("read-meta").textContent = error.message;
    return;
  }
  if (!current()) return;
  text.replaceChildren();
  $("read-out").replaceChildren();
  $("read-in").replaceChildren();
  $("read-title").textContent = section.headingPath.length ? section.headingPath.join(" › ") : section.path;
  $("read-meta").textContent = section.handle + " · " + section.path + ":" + section.startLine + "–" + section.endLine
    + " · " + section.tier + " · " + tokens(section.tokens);
  const lines = section.text.replace(/\n$/, "").split("\n");
  let target = null;
  lines.forEach((content, index) => {
    const number = section.startLine + index;
    const row = element("span", "line" + (number === line ? " target" : ""), content + "\n");
    row.dataset.n = number;
    if (number === line) target = row;
    text.append(row);
  });
  if (target) target.scrollIntoView({ block: "center" });
  references($("read-out"), section.references.outgoing, "Writes no links or imports.", true);
  references($("read-in"), section.references.incoming, "Nothing in memory links here.", false);
}

function references(list, entries, none, outgoing) {
  if (entries.length === 0) list.append(element("li", "hint", none));
  for (const entry of entries) {
    const item = element("li");
    item.append(element("span", "kind", entry.kind));
    if (outgoing) {
      // The target as written: text, never a link (it may be javascript: or any URL).
      item.append(element("code", null, entry.target));
      if (entry.handle) item.append(" → ", readLink(entry.handle));
      else item.append(element("span", "hint", " " + (entry.status === "in-root" ? "(not indexed memory)" : "(" + entry.status + ")")));
    } else {
      item.append(entry.handle ? readLink(entry.handle, entry.path + ":" + entry.line, entry.line) : element("span", null, entry.path + ":" + entry.line));
    }
    list.append(item);
  }
}

// MARK: - Audit

const closedGroups = new Set();

async function showAudit() {
  const groups = $("audit-groups");
  const current = ticket("audit");
  let report;
  try {
    report = await (await api("/v1/audit")).json();
  } catch (error) {
    if (current()) showProblem(error);
    return;
  }
  if (!current()) return;
  const summary = report.summary;
  $("audit-summary").textContent = number.format(report.findings.length) + " findings in " + number.format(summary.documents)
    + " documents: " + summary.errors + " errors, " + summary.warnings + " warnings, " + summary.infos + " info"
    + (summary.baselined ? "; " + summary.baselined + " baselined" : "") + (summary.suppressedInline ? ", " + summary.suppressedInline + " suppressed inline" : "") + ".";
  const key = $("audit-group").value;
  const byKey = new Map();
  for (const finding of report.findings) {
    if (!byKey.has(finding[key])) byKey.set(finding[key], []);
    byKey.get(finding[key]).push(finding);
  }
  groups.replaceChildren();
  if (report.findings.length === 0) groups.append(element("p", "empty", "Nothing to report: every reference resolves."));
  const severity = { error: 0, warning: 1, info: 2 };
  const ordered = [...byKey.entries()].sort((a, b) =>
    Math.min(...a[1].map((f) => severity[f.severity])) - Math.min(...b[1].map((f) => severity[f.severity])) || b[1].length - a[1].length);
  for (const [name, findings] of ordered) {
    const group = element("details", "audit-group");
    group.open = !closedGroups.has(key + ":" + name);
    group.addEventListener("toggle", () => {
      if (group.open) closedGroups.delete(key + ":" + name); else closedGroups.add(key + ":" + name);
    });
    group.dataset.group = name;
    group.dataset.count = findings.length;
    group.append(element("summary", null, name + " (" + findings.length + ")"));
    const list = element("ul", "findings");
    for (const finding of findings) {
      const item = element("li", "finding " + finding.severity);
      item.append(element("span", "severity", finding.severity));
      item.append(readLink(fileHandle(finding.path), finding.path + (finding.line ? ":" + finding.line : ""), finding.line));
      if (key === "path") item.append(element("span", "kind", finding.rule));
      item.append(element("span", "message", finding.message));
      if (finding.suggestion) item.append(element("span", "suggestion", "Suggestion: " + finding.suggestion));
      list.append(item);
    }
    group.append(list);
    groups.append(group);
  }
}

// MARK: - Views

const views = { agents: showAgents, pack: showPack, search: showSearch, read: showRead, audit: showAudit };

function route() {
  const [name, query] = location.hash.replace(/^#/, "").split("?");
  return { name: Object.hasOwn(views, name) ? name : "agents", parameters: new URLSearchParams(query || "") };
}

/** Shows the view the address names; a new view gets the focus at its heading, a refresh keeps it. */
function showView({ keepFocus = false } = {}) {
  const { name, parameters } = route();
  showProblem(null);
  const focusOnShow = document.activeElement !== document.body && !$("view-" + name).contains(document.activeElement);
  for (const panel of document.querySelectorAll("[data-view-panel]")) panel.hidden = panel.dataset.viewPanel !== name;
  if (!keepFocus && focusOnShow) $(name + "-title").focus({ preventScroll: true });
  for (const link of document.querySelectorAll("nav a")) {
    if (link.dataset.view === name) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  return views[name](parameters);
}

window.addEventListener("hashchange", () => showView());
document.addEventListener("DOMContentLoaded", () => {
  $("pack-form").addEventListener("submit", (event) => {
    event.preventDefault();
    // The request goes into the address, so it can be shared and survives a refresh.
    const body = packRequest("json");
    const hash = "#pack?" + new URLSearchParams(Object.entries(body).filter(([key]) => key !== "format"));
    if (location.hash === hash) composePack(body); else location.hash = hash;
  });
  for (const button of document.querySelectorAll("[data-download]")) {
    button.addEventListener("click", () => download(button.dataset.download));
  }
  const map = $("treemap");
  map.addEventListener("mouseover", (event) => showTip(event.target.closest(".cell")));
  map.addEventListener("focusin", (event) => showTip(event.target.closest(".cell")));
  map.addEventListener("click", (event) => {
    const cell = event.target.closest(".cell");
    if (cell) location.hash = "#read?" + new URLSearchParams({ handle: cell.dataset.handle });
  });
  map.addEventListener("keydown", (event) => {
    const cell = event.target.closest(".cell");
    if (!cell) return;
    const moves = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowDown: [0, 1], ArrowUp: [0, -1] };
    if (moves[event.key]) {
      event.preventDefault();
      moveFocus(cell, neighbour(cell, ...moves[event.key]));
    } else if (event.key === "Home" || event.key === "End") {
      event.preventDefault();
      const cells = map.querySelectorAll(".cell");
      moveFocus(cell, event.key === "Home" ? cells[0] : cells[cells.length - 1]);
    } else if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      cell.click();
    }
  });
  let resized = null;
  window.addEventListener("resize", () => {
    clearTimeout(resized);
    resized = setTimeout(() => { if (state.pack && !$("pack-result").hidden) drawTreemap(state.pack.pack, state.pack.explanation); }, 150);
  });
  for (const id of ["search-q", "search-path"]) $(id).addEventListener("input", scheduleSearch);
  $("search-tier").addEventListener("change", runSearch);
  $("search-form").addEventListener("submit", (event) => { event.preventDefault(); runSearch(); });
  $("search-q").addEventListener("keydown", searchKeys);
  $("search-results").addEventListener("keydown", searchKeys);
  $("audit-group").addEventListener("change", showAudit);
  $("skip").addEventListener("click", (event) => {
    event.preventDefault();  // the address names the view: focus the content instead of changing it
    $("main").focus();
  });
  showView({ keepFocus: true });
  refreshLive();
  setInterval(refreshLive, 2000);
});
