// The classroom page. It renders two streams: /api/cluster/stream (the whole picture, pushed
// after every change the server sees in ZooKeeper or on the brokers) and /api/events (the
// timeline: the retained history first, then live). No framework; nothing is fetched from
// anywhere but this server.
"use strict";

const $ = (id) => document.getElementById(id);
const MAX_TIMELINE = 1500;

// h builds an element: h("td", {class: "x", "data-a": 1}, "text", child...). Text is always
// set as text, never parsed as HTML.
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "onclick") el.addEventListener("click", v);
    else if (k === "title") el.title = String(v);
    else el.setAttribute(k, String(v));
  }
  for (const kid of kids.flat()) {
    if (kid === undefined || kid === null || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

let cluster = null;
let selectedZNode = null;

// ---- the picture ----

function renderCluster(c) {
  cluster = c;
  const ctl = c.controller;
  const badge = $("controller-badge");
  badge.textContent = ctl.id >= 0 ? `controller: broker ${ctl.id} · epoch ${ctl.epoch}` : `no controller (epoch ${ctl.epoch})`;
  badge.className = "pill " + (ctl.id >= 0 ? "ok" : "bad");
  const zk = $("zk-status");
  zk.textContent = "ZooKeeper: " + c.zookeeper;
  zk.className = "pill " + (c.zookeeper === "connected" ? "ok" : "bad");
  renderBrokers(c);
  renderPartitions(c);
  renderGroups(c);
  renderTree(c);
}

function renderBrokers(c) {
  const box = $("brokers");
  const cards = c.brokers.map((b) => {
    const isCtl = b.id === c.controller.id;
    return h("div", {
      class: "broker " + (b.alive ? "alive" : "lost") + (isCtl ? " controller" : ""),
      "data-broker-id": b.id, "data-alive": b.alive ? "true" : "false",
      "data-controller": isCtl ? "true" : null,
      onclick: () => inspect(`/brokers/ids/${b.id}`),
    },
      h("div", {class: "broker-head"}, h("span", {class: "broker-id"}, `broker ${b.id}`),
        isCtl ? h("span", {class: "tag ctl"}, "controller") : null,
        h("span", {class: "tag " + (b.alive ? "up" : "down")}, b.alive ? "alive" : "lost")),
      h("dl", {},
        h("dt", {}, "endpoints"), h("dd", {}, b.endpoints.join(" ") || "–"),
        h("dt", {title: "ephemeralOwner of /brokers/ids/" + b.id}, "session"), h("dd", {class: "mono"}, b.session_id),
        h("dt", {title: "czxid of the registration: a restarted broker has a new one"}, "broker epoch"), h("dd", {class: "mono"}, b.broker_epoch),
        h("dt", {}, "HTTP"), h("dd", {}, b.http ? (b.http_up ? "answering" : "not answering") : "none registered")),
      b.alive ? null : h("p", {class: "lost-note"}, "Its znode is gone: to the controller it is dead. Last seen registration shown."));
  });
  box.replaceChildren(...(cards.length ? cards : [h("p", {class: "muted"}, "No broker has registered in /brokers/ids yet.")]));
}

function replicaChip(id, p, alive) {
  const inIsr = p.isr.includes(id);
  let cls = "rep " + (id === p.leader ? "leader" : inIsr ? "insync" : "out");
  if (!alive.has(id)) cls += " dead";
  const why = id === p.leader ? "leader" : inIsr ? "follower in the ISR" : "follower out of the ISR";
  return h("span", {class: cls, title: `broker ${id}: ${why}${alive.has(id) ? "" : ", broker lost"}`}, id);
}

function renderPartitions(c) {
  const alive = new Set(c.brokers.filter((b) => b.alive).map((b) => b.id));
  const rows = [];
  for (const t of c.topics) {
    for (const p of t.partitions) {
      const leos = Object.entries(p.log_end_offsets || {});
      const hw = p.high_watermark;
      const status = [];
      if (p.offline) status.push(h("span", {class: "tag down"}, "offline"));
      if (p.under_replicated) status.push(h("span", {class: "tag warn"}, "under-replicated"));
      // A replica on a dead broker still listed in the ISR: the controller has not yet heard
      // of the loss (the broker's ZooKeeper session has not expired).
      const downInISR = p.isr.filter((r) => !alive.has(r));
      if (downInISR.length && !p.offline) status.push(h("span", {class: "tag warn", title: "in the ISR, but its broker is down: the controller removes it once the broker's ZooKeeper session expires"},
        `broker ${downInISR.join(",")} down`));
      if (!status.length) status.push(h("span", {class: "tag up"}, "healthy"));
      const path = `/brokers/topics/${t.name}/partitions/${p.partition}/state`;
      rows.push(h("tr", {
        class: "partition" + (t.internal ? " internal" : "") + (p.offline ? " offline" : p.under_replicated ? " urp" : "")
          + (selectedZNode === path ? " selected" : ""),
        "data-topic": t.name, "data-partition": p.partition, "data-leader": p.leader, "data-isr": p.isr.join(","),
        "data-znode": path, onclick: () => inspect(path),
      },
        h("td", {class: "mono"}, `${t.name}-${p.partition}`),
        h("td", {}, p.leader >= 0 ? replicaChip(p.leader, p, alive) : h("span", {class: "tag down"}, "none")),
        h("td", {}, p.replicas.map((r) => replicaChip(r, p, alive))),
        h("td", {class: "mono"}, "[" + p.isr.join(",") + "]"),
        h("td", {class: "num"}, p.leader_epoch),
        h("td", {class: "num"}, p.zk_version),
        h("td", {class: "num"}, hw === null || hw === undefined ? "–" : hw),
        h("td", {class: "leos"}, leos.length ? leos.map(([b, o]) => o < 0
          ? h("span", {class: "leo unknown", title: `broker ${b}'s replica: not known (its broker is down or has not reported)`}, `${b}:–`)
          : h("span", {class: "leo" + (hw !== null && hw !== undefined && o > hw ? " ahead" : ""), title: `log end offset of broker ${b}'s replica`}, `${b}:${o}`)) : "–"),
        h("td", {}, status)));
    }
  }
  const body = $("partitions").tBodies[0];
  body.replaceChildren(...(rows.length ? rows : [h("tr", {}, h("td", {colspan: 9, class: "muted"}, "No topics in /brokers/topics yet."))]));
}

function renderGroups(c) {
  const box = $("groups");
  if (!c.groups.length) {
    box.replaceChildren(h("p", {class: "muted"}, "No consumer groups yet."));
    return;
  }
  box.replaceChildren(...c.groups.map((g) => h("div", {class: "group", "data-group": g.name},
    h("div", {class: "group-head"}, h("b", {}, g.name),
      h("span", {class: "tag " + (g.state === "Stable" ? "up" : g.state === "Empty" ? "" : "warn")}, g.state),
      h("span", {class: "muted"}, `protocol ${g.protocol || "–"} · generation ${g.generation >= 0 ? g.generation : "?"} · coordinator broker ${g.coordinator}`)),
    g.members.length ? h("ul", {class: "members"}, g.members.map((m) => h("li", {},
      h("span", {class: "mono"}, m.client_id || m.id), " ", h("span", {class: "muted"}, m.host), " → ",
      Object.entries(m.assigned).map(([t, ps]) => `${t} [${ps.join(",")}]`).join(" ") || "nothing assigned"))) : null,
    g.offsets.length ? h("table", {class: "lag"}, h("tr", {}, h("th", {}, "partition"), h("th", {}, "committed"), h("th", {}, "end"), h("th", {}, "lag")),
      g.offsets.map((o) => h("tr", {}, h("td", {class: "mono"}, `${o.topic}-${o.partition}`),
        h("td", {class: "num"}, o.committed < 0 ? "–" : o.committed), h("td", {class: "num"}, o.end < 0 ? "–" : o.end),
        h("td", {class: "num" + (o.lag > 0 ? " behind" : "")}, o.lag < 0 ? "?" : o.lag)))) : null)));
}

// ---- the ZooKeeper tree ----

function treeNode(path, label, kids) {
  return h("li", {},
    h("span", {class: "znode" + (selectedZNode === path ? " selected" : ""), "data-path": path, onclick: (e) => { e.stopPropagation(); inspect(path); }}, label),
    kids && kids.length ? h("ul", {}, kids) : null);
}

function renderTree(c) {
  const brokers = c.brokers.filter((b) => b.alive).map((b) => treeNode(`/brokers/ids/${b.id}`, String(b.id)));
  const topics = c.topics.map((t) => treeNode(`/brokers/topics/${t.name}`, t.name, [
    treeNode(`/brokers/topics/${t.name}/partitions`, "partitions", t.partitions.map((p) =>
      treeNode(`/brokers/topics/${t.name}/partitions/${p.partition}`, String(p.partition), [
        treeNode(`/brokers/topics/${t.name}/partitions/${p.partition}/state`, "state")])))]));
  $("zk-tree").replaceChildren(
    treeNode("/controller", "controller"),
    treeNode("/controller_epoch", "controller_epoch"),
    treeNode("/brokers", "brokers", [treeNode("/brokers/ids", "ids", brokers), treeNode("/brokers/topics", "topics", topics)]),
    treeNode("/admin", "admin"), treeNode("/config", "config"), treeNode("/isr_change_notification", "isr_change_notification"),
    treeNode("/cluster/id", "cluster/id"), treeNode("/latest_producer_id_block", "latest_producer_id_block"));
}

function flashZNode(path) {
  for (const el of document.querySelectorAll(".znode")) {
    if (el.dataset.path === path) {
      el.classList.remove("fired");
      void el.offsetWidth; // restart the animation
      el.classList.add("fired");
    }
  }
  if (path === selectedZNode) inspect(path, true);
}

async function inspect(path, quiet) {
  selectedZNode = path;
  for (const el of document.querySelectorAll(".selected")) el.classList.remove("selected");
  for (const el of document.querySelectorAll(`[data-path="${CSS.escape(path)}"], tr[data-znode="${CSS.escape(path)}"]`)) el.classList.add("selected");
  const box = $("zk-inspect");
  let z;
  try {
    const r = await fetch("/api/zk?path=" + encodeURIComponent(path));
    if (!r.ok) throw new Error(await r.text());
    z = await r.json();
  } catch (e) {
    if (!quiet) box.replaceChildren(h("p", {class: "bad"}, "Could not read " + path + ": " + e.message));
    return;
  }
  if (selectedZNode !== path) return;
  const kids = z.children.map((k) => h("li", {}, h("span", {class: "znode", onclick: () => inspect((path === "/" ? "" : path) + "/" + k)}, k)));
  box.replaceChildren(
    h("div", {class: "zpath mono"}, path), h("p", {class: "meaning"}, z.meaning),
    z.exists ? null : h("p", {class: "bad"}, "This znode does not exist now."),
    z.json !== undefined ? h("pre", {class: "json"}, JSON.stringify(z.json, null, 2)) : z.text ? h("pre", {class: "json"}, z.text) : null,
    z.stat ? h("table", {class: "stat"},
      statRow("czxid", z.stat.czxid, "the transaction that created it" + (path.startsWith("/brokers/ids/") ? ": the broker epoch" : "")),
      statRow("mzxid", z.stat.mzxid, "the transaction that last wrote it"),
      statRow("version", z.stat.version, path.endsWith("/state") ? "the partition epoch: conditional writes must name it" : path === "/controller_epoch" ? "fences every controller write" : "writes so far"),
      statRow("ephemeralOwner", z.stat.ephemeral_owner, z.stat.ephemeral_owner === "0x0" ? "persistent" : "ephemeral: the session that owns it"),
      statRow("mtime", new Date(z.stat.mtime).toISOString().slice(11, 23), "when it was last written (UTC)")) : null,
    kids.length ? h("div", {}, h("b", {}, "children"), h("ul", {class: "kids"}, kids)) : null);
}

function statRow(k, v, why) {
  return h("tr", {}, h("th", {}, k), h("td", {class: "mono"}, v), h("td", {class: "muted"}, why));
}

// ---- the timeline ----

const timeline = [];

function fmtTime(t) {
  const d = new Date(t);
  return isNaN(d) ? "" : d.toISOString().slice(11, 23);
}

function addEvent(e) {
  const li = h("li", {class: `ev kind-${e.kind} src-${/^\d+$/.test(e.source) ? "broker" : e.source}`, "data-kind": e.kind, "data-source": e.source},
    h("time", {}, fmtTime(e.time)),
    h("span", {class: "src"}, /^\d+$/.test(e.source) ? `broker ${e.source}` : e.source),
    h("span", {class: "kind"}, e.cause && e.kind === "scenario" ? e.cause : e.kind),
    h("span", {class: "text"}, e.text, e.cause && e.kind !== "scenario" ? h("span", {class: "cause"}, " — " + e.cause) : null));
  li._t = new Date(e.time).getTime() || 0;
  // Keep newest first; streams from different brokers may arrive out of order.
  const list = $("timeline");
  let i = 0;
  while (i < timeline.length && timeline[i]._t > li._t) i++;
  if (i < timeline.length) list.insertBefore(li, timeline[i]); else list.append(li);
  timeline.splice(i, 0, li);
  while (timeline.length > MAX_TIMELINE) timeline.pop().remove();
  if (e.znode && e.kind === "watch-fired") flashZNode(e.znode);
  if (e.kind === "scenario") narrate(e);
}

function applyFilters() {
  document.body.classList.toggle("hide-watches", $("hide-watches").checked);
  document.body.classList.toggle("hide-hw", $("hide-hw").checked);
}

// ---- scenarios ----

let scenarios = [];
let current = null;
let choice = -1;

async function loadScenarios() {
  let s;
  try {
    s = await (await fetch("/api/scenarios")).json();
  } catch (e) {
    return;
  }
  scenarios = s.scenarios;
  const box = $("scenarios");
  if (!s.available || !scenarios.length) {
    box.replaceChildren(h("p", {class: "muted"}, "No scenarios in this build."));
    return;
  }
  box.replaceChildren(...scenarios.map((sc) => {
    const res = s.results[sc.name];
    return h("button", {class: "scenario" + (res ? (res.passed ? " passed" : " failed") : ""), "data-scenario": sc.name, title: sc.summary,
      onclick: () => openScenario(sc)}, sc.name, res ? h("span", {class: "mark"}, res.passed ? " ✓" : " ✗") : null);
  }));
  if (s.running) $("sc-run").disabled = true;
}

function openScenario(sc) {
  current = sc;
  choice = -1;
  $("scenario-box").hidden = false;
  $("sc-title").textContent = sc.name;
  $("sc-summary").textContent = sc.summary;
  $("sc-question").textContent = "Predict: " + sc.question;
  $("sc-choices").replaceChildren(...sc.choices.map((c, i) => h("label", {class: "choice"},
    h("input", {type: "radio", name: "choice", value: i, "data-choice": i}), " ", c)));
  for (const input of $("sc-choices").querySelectorAll("input")) {
    input.addEventListener("change", () => { choice = Number(input.value); $("sc-run").disabled = false; });
  }
  $("sc-run").disabled = true;
  $("sc-narration").replaceChildren();
  $("sc-result").hidden = true;
}

async function runScenario() {
  if (!current || choice < 0) return;
  $("sc-run").disabled = true;
  $("sc-narration").replaceChildren(h("li", {class: "step"}, `You predicted: ${current.choices[choice]}`));
  $("sc-result").hidden = true;
  const r = await fetch(`/api/scenarios/${encodeURIComponent(current.name)}/run`, {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({prediction: choice})});
  if (!r.ok) {
    $("sc-narration").append(h("li", {class: "fail"}, "Could not start: " + (await r.text())));
    $("sc-run").disabled = false;
  }
}

function narrate(e) {
  if (!current || !e.text.startsWith(current.name + ": ")) return;
  if (new Date(e.time).getTime() < Date.now() - 10 * 60 * 1000) return; // old runs in the replay
  const text = e.text.slice(current.name.length + 2);
  if (e.cause !== "verdict") {
    $("sc-narration").append(h("li", {class: e.cause || "step"}, text));
    return;
  }
  // The run is over: the verdict is the last event of a run.
  const outcome = text.startsWith("PASS") ? "pass" : "fail";
  const box = $("sc-result");
  box.hidden = false;
  box.className = "result " + outcome;
  box.setAttribute("data-outcome", outcome);
  box.textContent = text;
  refreshResult();
}

async function refreshResult() {
  await loadScenarios();
  const s = await (await fetch("/api/scenarios")).json();
  const res = current && s.results[current.name];
  if (res && res.answer >= 0 && res.answer < current.choices.length) {
    const right = res.predicted === res.answer;
    $("sc-result").append(h("div", {class: "answer"},
      `Kafka's answer: ${current.choices[res.answer]}. ` + (right ? "You predicted it." : `You predicted: ${current.choices[res.predicted] || "nothing"}.`)));
  }
  $("sc-run").disabled = choice < 0;
}

// ---- streams ----

function connect() {
  const cs = new EventSource("/api/cluster/stream");
  cs.addEventListener("cluster", (m) => renderCluster(JSON.parse(m.data)));
  cs.onopen = () => { $("stream-status").textContent = "live"; $("stream-status").className = "pill ok"; };
  cs.onerror = () => { $("stream-status").textContent = "live: reconnecting"; $("stream-status").className = "pill bad"; };
  const es = new EventSource("/api/events");
  es.onmessage = (m) => {
    let e;
    try { e = JSON.parse(m.data); } catch (err) { return; }
    addEvent(e);
  };
}

$("hide-watches").addEventListener("change", applyFilters);
$("hide-hw").addEventListener("change", applyFilters);
$("sc-run").addEventListener("click", runScenario);
$("sc-cancel").addEventListener("click", () => { $("scenario-box").hidden = true; current = null; });
applyFilters();
loadScenarios();
connect();
