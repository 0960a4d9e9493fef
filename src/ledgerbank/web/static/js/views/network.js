// Who paid whom around an alert's account: a small SVG graph (the centre, the accounts that
// paid it or were paid by it, and theirs), drawn from one bounded query on the server.

import { get } from "../api.js";
import { count, money } from "../format.js";
import { errorBox, h, table } from "../ui.js";

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

// Centre in the middle, its counterparties on a ring, their counterparties on an outer ring.
function layout(graph, width, height) {
  const centre = graph.account_id;
  const near = new Set();
  for (const e of graph.edges) {
    if (e.from_account_id === centre) near.add(e.to_account_id);
    if (e.to_account_id === centre) near.add(e.from_account_id);
  }
  const ids = graph.nodes.map((n) => n.account_id);
  const first = ids.filter((id) => near.has(id));
  const second = ids.filter((id) => id !== centre && !near.has(id));
  const at = new Map([[centre, [width / 2, height / 2]]]);
  const ring = (list, rx, ry, turn) => list.forEach((id, i) => {
    const angle = (2 * Math.PI * i) / list.length + turn;
    at.set(id, [width / 2 + rx * Math.cos(angle), height / 2 + ry * Math.sin(angle)]);
  });
  ring(first, width * 0.2, height * 0.26, -Math.PI / 2);
  ring(second, width * 0.36, height * 0.42, -Math.PI / 2 + 0.3);
  return at;
}

export function networkGraph(graph) {
  const width = 640;
  const height = 420;
  const at = layout(graph, width, height);
  const widest = Math.max(1, ...graph.edges.map((e) => e.count));
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "network", role: "img", "aria-label": `Payments around the account: ${graph.fan_in} payers, ${graph.fan_out} payees` });
  root.append(svg("defs", {}, svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 22, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto-start-reverse" }, svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrow" }))));
  for (const e of graph.edges) {
    const [x1, y1] = at.get(e.from_account_id) || [0, 0];
    const [x2, y2] = at.get(e.to_account_id) || [0, 0];
    root.append(svg("line", { x1, y1, x2, y2, class: "edge", "stroke-width": 1 + (3 * e.count) / widest, "marker-end": "url(#arrow)" }, svg("title", {}, `${count(e.count)} payment${e.count === 1 ? "" : "s"}, ${money(e.total, e.currency)}`)));
  }
  for (const n of graph.nodes) {
    const [x, y] = at.get(n.account_id) || [0, 0];
    const kind = n.centre ? "centre" : n.status === "frozen" ? "frozen" : n.senders >= 3 ? "fan-in" : "";
    root.append(
      svg("g", { class: `node ${kind}`.trim() },
        svg("circle", { cx: x, cy: y, r: n.centre ? 16 : 11 }),
        svg("text", { x, y: y + (n.centre ? 32 : 26), "text-anchor": "middle" }, n.label),
        svg("title", {}, `${n.label}: paid by ${n.senders}, paid ${n.receivers} in this graph${n.status === "frozen" ? " (frozen)" : ""}`),
      ),
    );
  }
  return root;
}

export async function networkCard(queue, alertId) {
  const card = h("section", { class: "card section stack", "aria-label": "Payment network" }, h("h2", {}, "Who paid whom"));
  let graph;
  try {
    graph = await get(`/${queue}/alerts/${alertId}/network`);
  } catch (error) {
    card.append(errorBox(error));
    return card;
  }
  const names = new Map(graph.nodes.map((n) => [n.account_id, n.label]));
  card.append(
    h("p", { class: "muted" }, `Transfers between customers over the last ${graph.window_days} days: ${graph.fan_in} account${graph.fan_in === 1 ? "" : "s"} paid this one, it paid ${graph.fan_out}.`, graph.pass_through ? h("strong", { class: "pass-through" }, " Money comes in from many and goes out again: a possible mule.") : ""),
    graph.edges.length ? h("div", { class: "network-wrap" }, networkGraph(graph)) : h("p", { class: "empty" }, "No transfers between customers around this account in the window."),
    graph.edges.length
      ? h("details", {}, h("summary", {}, "The payments as a table"), table({
          caption: "Payments in the graph",
          rows: graph.edges,
          columns: [
            { label: "From", render: (e) => names.get(e.from_account_id) || "another account" },
            { label: "To", render: (e) => names.get(e.to_account_id) || "another account" },
            { label: "Payments", num: true, render: (e) => count(e.count) },
            { label: "Total", num: true, render: (e) => money(e.total, e.currency) },
          ],
        }))
      : null,
  );
  return card;
}
