// An alert queue (fraud or AML compliance): filters, sorting, pages, bulk assign and close, and
// new alerts arriving live. Columns: customer, assignee, age and score.

import { get, post } from "../api.js";
import { dateTime, percent, title } from "../format.js";
import { href, setQuery } from "../router.js";
import { askReason, badge, clear, errorBox, field, formValues, h, loading, okBox, statusBadge, table, verdictBadge } from "../ui.js";
import { age } from "./staff-names.js";

const STATUSES = { fraud: ["open", "investigating", "closed"], compliance: ["open", "escalated", "reported", "closed"] };

export function severityBadge(severity) {
  return badge(severity, { high: "danger", medium: "warn", low: "info" }[severity] || "");
}

// The queue as a card: `queue` is "fraud" or "compliance".
export async function alertQueue(ctx, queue, { rules = [] } = {}) {
  const { query } = ctx;
  const form = h(
    "form",
    { class: "fields", role: "search", "aria-label": `Filter ${queue} alerts` },
    field({ label: "Status", name: "status", type: "select", value: query.status ?? "open", options: [["", "Any status"], ...STATUSES[queue].map((s) => [s, title(s)])] }),
    field({ label: "Severity", name: "severity", type: "select", value: query.severity, options: [["", "Any severity"], ["high", "High"], ["medium", "Medium"], ["low", "Low"]] }),
    queue === "compliance" ? field({ label: "Rule", name: "rule", type: "select", value: query.rule, options: [["", "Any rule"], ...rules.map((r) => [r, title(r)])] }) : null,
    field({ label: "Assignee", name: "assigned", type: "select", value: query.assigned, options: [["", "Anyone"], ["me", "Assigned to me"], ["none", "Unassigned"]] }),
    field({ label: "Sort", name: "sort", type: "select", value: query.sort, options: [["-created_at", "Newest first"], ["created_at", "Oldest first"], ["-score", "Highest score"], ["score", "Lowest score"]] }),
    field({ label: "Account id", name: "account_id", type: "number", min: 1, value: query.account_id }),
    h("div", { class: "field" }, h("button", { type: "submit", class: "btn" }, "Filter")),
  );
  const results = h("div", { class: "section" }, loading());
  const note = h("p", { class: "muted", "aria-live": "polite", hidden: true });
  const outcome = h("div", { "aria-live": "polite" });
  const chosen = new Set();
  let cursors = [null];
  let newest = 0;
  let page = { items: [] };

  const bulkBar = h("div", { class: "row bulk-bar", role: "group", "aria-label": "Bulk actions" });
  const drawBulk = () => {
    const n = chosen.size;
    clear(
      bulkBar,
      h("span", { class: "muted" }, n ? `${n} selected` : "Select alerts to act on several at once"),
      h("button", { type: "button", class: "btn small", disabled: !n, onclick: () => bulk("assign") }, "Assign to me"),
      h("button", { type: "button", class: "btn small", disabled: !n, onclick: () => bulk("close") }, queue === "fraud" ? "Close as false positive" : "Close"),
    );
  };
  const bulk = async (action) => {
    const ids = [...chosen];
    let note = "";
    if (action === "close") {
      note = await askReason({ heading: `Close ${ids.length} alert${ids.length === 1 ? "" : "s"}`, label: "Note (kept in each alert's history)", confirm: "Close them" });
      if (!note) return;
    }
    try {
      const result = await post(`/${queue}/alerts/bulk`, { alert_ids: ids, action, note });
      const verb = action === "assign" ? "Assigned to you" : "Closed";
      clear(outcome, okBox(`${verb}: ${result.done.length} alert${result.done.length === 1 ? "" : "s"}.`, result.skipped.length ? ` Skipped ${result.skipped.length}: ${result.skipped.map((s) => `#${s.id} (${s.reason})`).join(", ")}.` : ""));
      chosen.clear();
      load();
    } catch (error) {
      clear(outcome, errorBox(error));
    }
  };

  const load = async ({ fresh = false } = {}) => {
    try {
      page = await get(`/${queue}/alerts`, { ...formValues(form), limit: 25, cursor: cursors.at(-1) });
    } catch (error) {
      if (ctx.alive()) clear(results, errorBox(error));
      return;
    }
    if (!ctx.alive()) return;
    const before = newest;
    newest = Math.max(newest, ...page.items.map((a) => a.id));
    for (const id of [...chosen]) if (!page.items.some((a) => a.id === id)) chosen.delete(id);
    drawBulk();
    const open = page.items.filter((a) => a.status !== "closed");
    const all = h("input", {
      type: "checkbox", "aria-label": "Select every open alert on this page", checked: open.length > 0 && open.every((a) => chosen.has(a.id)), disabled: !open.length,
      onchange: (event) => { for (const a of open) (event.target.checked ? chosen.add(a.id) : chosen.delete(a.id)); load(); },
    });
    clear(
      results,
      table({
        caption: `${title(queue)} alerts`,
        rows: page.items,
        emptyText: "No alerts match: the queue is clear.",
        rowProps: (a) => (fresh && a.id > before ? { class: "fresh" } : {}),
        columns: [
          {
            label: all,
            render: (a) => a.status === "closed" ? "" : h("input", {
              type: "checkbox", "aria-label": `Select alert ${a.id}`, checked: chosen.has(a.id),
              onchange: (event) => { event.target.checked ? chosen.add(a.id) : chosen.delete(a.id); drawBulk(); },
            }),
          },
          { label: "Alert", render: (a) => h("a", { href: href(`/${queue}/alerts/${a.id}`) }, `#${a.id}`) },
          { label: "Customer", render: (a) => (a.owner_id ? h("a", { href: href(`/customers/${a.owner_id}`) }, a.owner_name || "—") : a.owner_name || "—") },
          { label: "Age", cls: "when", render: (a) => h("span", { title: dateTime(a.created_at) }, age(a.created_at)) },
          { label: "Severity", render: (a) => severityBadge(a.severity) },
          queue === "compliance" ? { label: "Rule", render: (a) => (a.rule_id ? h("span", { class: "mono" }, a.rule_id) : "—") } : null,
          { label: "Score", render: (a) => [verdictBadge(a.verdict), " ", h("span", { class: "muted" }, percent(a.score))] },
          { label: "Summary", cls: "wide-only", render: (a) => a.summary },
          queue === "compliance" ? { label: "Hits", num: true, render: (a) => String(a.hits) } : null,
          { label: "Status", render: (a) => statusBadge(a.status) },
          { label: "Assignee", render: (a) => a.assignee_name || h("span", { class: "muted" }, "Unassigned") },
          { label: "Transaction", cls: "wide-only", render: (a) => (a.transaction_id == null ? "—" : h("a", { href: href(`/transactions/${a.transaction_id}`) }, `#${a.transaction_id}`)) },
        ].filter(Boolean),
      }),
      h(
        "nav",
        { class: "pager", "aria-label": "Pages" },
        h("span", { class: "muted" }, `Page ${cursors.length}`),
        h("button", { type: "button", class: "btn small", disabled: cursors.length < 2, onclick: () => { cursors.pop(); load(); } }, "Previous"),
        h("button", { type: "button", class: "btn small", disabled: !page.next_cursor, onclick: () => { cursors.push(page.next_cursor); load(); } }, "Next"),
      ),
    );
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    cursors = [null];
    setQuery(formValues(form));
    load();
  });
  // Live: a new alert of this queue reloads the first page and highlights it.
  ctx.live("alert", (alert) => {
    if (alert.queue !== queue || cursors.length > 1) return;
    note.textContent = `New ${queue} alert #${alert.id}: ${alert.summary}`;
    note.hidden = false;
    load({ fresh: true });
  });
  await load();
  const name = `${title(queue)} alert queue`;
  return h("section", { class: "card stack", "aria-label": name }, h("h2", {}, name), form, note, bulkBar, outcome, results);
}
