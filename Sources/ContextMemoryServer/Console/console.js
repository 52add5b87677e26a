// ctxmem's web console: plain JavaScript over the /v1 API, no dependencies. Everything that comes
// from memory files is untrusted: it is only ever set as textContent, never parsed as HTML.
"use strict";

const state = { token: sessionStorage.getItem("ctxmem-token") };

/** GETs or POSTs a /v1 route; asks for the token once on a 401 and retries. */
async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (state.token) headers.Authorization = "Bearer " + state.token;
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (response.status === 401) {
    await askForToken();
    return api(path, options);
  }
  if (!response.ok) {
    let message = response.status + " " + response.statusText;
    try { message = (await response.json()).error.message; } catch (_) { /* not JSON */ }
    throw new Error(message);
  }
  return response;
}

function askForToken() {
  const form = document.getElementById("token-form");
  form.hidden = false;
  document.getElementById("token").focus();
  return new Promise((resolve) => {
    form.onsubmit = (event) => {
      event.preventDefault();
      state.token = document.getElementById("token").value;
      sessionStorage.setItem("ctxmem-token", state.token);  // this tab only
      form.hidden = true;
      resolve();
    };
  });
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const number = new Intl.NumberFormat("en");

// MARK: - Live header

let generation = null;

async function refreshLive() {
  const live = document.getElementById("live");
  try {
    const health = await (await fetch("/healthz")).json();
    const index = health.index || {};
    const lag = health.watcher && health.watcher.lagSeconds != null ? ", watcher lag " + health.watcher.lagSeconds.toFixed(1) + " s" : "";
    live.textContent = "index generation " + (index.generation ?? "none") + lag + (health.status === "ok" ? "" : " (" + health.status + ")");
    if (generation !== null && index.generation !== generation) showView(currentView());
    generation = index.generation ?? null;
  } catch (error) {
    live.textContent = "server unreachable";
  }
}

// MARK: - Agents

async function showAgents() {
  const list = document.getElementById("agents");
  const empty = document.getElementById("agents-empty");
  list.replaceChildren();
  let agents;
  try {
    agents = await (await api("/v1/agents")).json();
  } catch (error) {
    empty.hidden = false;
    empty.textContent = "No agents to show: " + error.message + ". Run `ctxmem index` in the project (agents are .claude/agents/*.md).";
    return;
  }
  empty.hidden = agents.length > 0;
  if (agents.length === 0) empty.textContent = "No agents in .claude/agents.";
  for (const agent of agents) {
    const budget = agent.budget || 1;
    const item = element("li", "agent" + (agent.overLimit ? " over" : ""));
    item.tabIndex = 0;
    item.dataset.agent = agent.profile.name;
    item.append(element("span", "name", agent.profile.name));
    const bar = element("div", "bar");
    bar.setAttribute("role", "img");
    const share = Math.round((agent.overheadShare || 0) * 100);
    bar.setAttribute("aria-label", agent.profile.name + ": " + share + "% of " + number.format(budget) + " tokens is coordination overhead");
    const pinned = element("span", "pinned");
    pinned.style.left = "0";
    pinned.style.width = Math.min(100, (100 * agent.pinnedTokens) / budget) + "%";
    const launch = element("span", "launch");
    launch.style.left = pinned.style.width;
    launch.style.width = Math.min(100, (100 * (agent.claudeCodeTokens || 0)) / budget) + "%";
    // The rest of the overhead: the role brief and the pack's own manifest.
    const restTokens = Math.max(0, (agent.overheadTokens || 0) - agent.pinnedTokens - (agent.claudeCodeTokens || 0));
    const rest = element("span", "rest");
    rest.style.left = "calc(" + pinned.style.width + " + " + launch.style.width + ")";
    rest.style.width = Math.min(100, (100 * restTokens) / budget) + "%";
    const limit = element("span", "limit");
    limit.style.left = "20%";
    bar.append(pinned, launch, rest, limit);
    item.append(bar);
    item.append(element("span", "figures",
      number.format(budget) + " tokens, mode " + agent.mode + ": pinned " + number.format(agent.pinnedTokens) +
      ", loaded by Claude Code " + number.format(agent.claudeCodeTokens || 0) +
      ", overhead " + number.format(agent.overheadTokens || 0) + " (" + share + "%)"));
    list.append(item);
  }
}

// MARK: - Views

const views = { agents: showAgents };

function currentView() {
  const name = location.hash.replace("#", "");
  return views[name] ? name : "agents";
}

function showView(name) {
  for (const panel of document.querySelectorAll("[data-view-panel]")) panel.hidden = panel.dataset.viewPanel !== name;
  for (const link of document.querySelectorAll("nav a")) {
    if (link.dataset.view === name) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  views[name]();
}

window.addEventListener("hashchange", () => showView(currentView()));
document.addEventListener("DOMContentLoaded", () => {
  showView(currentView());
  refreshLive();
  setInterval(refreshLive, 2000);
});
