// An alert queue (fraud or AML compliance): filters, pages, and new alerts arriving live.

import { get } from "../api.js";
import { dateTime, percent, title } from "../format.js";
import { href, setQuery } from "../router.js";
import { badge, clear, errorBox, field, formValues, h, loading, statusBadge, table, verdictBadge } from "../ui.js";

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
    field({ label: "Account id", name: "account_id", type: "number", min: 1, value: query.account_id }),
    h("div", { class: "field" }, h("button", { type: "submit", class: "btn" }, "Filter")),
  );
  const results = h("div", { class: "section" }, loading());
  const note = h("p", { class: "muted", "aria-live": "polite", hidden: true });
  let cursors = [null];
  let newest = 0;

  const load = async ({ fresh = false } = {}) => {
    let page;
    try {
      page = await get(`/${queue}/alerts`, { ...formValues(form), limit: 25, cursor: cursors.at(-1) });
    } catch (error) {
      if (ctx.alive()) clear(results, errorBox(error));
      return;
    }
    if (!ctx.alive()) return;
    const before = newest;
    newest = Math.max(newest, ...page.items.map((a) => a.id));
    clear(
      results,
      table({
        caption: `${title(queue)} alerts`,
        rows: page.items,
        emptyText: "No alerts match: the queue is clear.",
        rowProps: (a) => (fresh && a.id > before ? { class: "fresh" } : {}),
        columns: [
          { label: "Alert", render: (a) => h("a", { href: href(`/${queue}/alerts/${a.id}`) }, `#${a.id}`) },
          { label: "Raised", cls: "when", render: (a) => dateTime(a.created_at) },
          { label: "Severity", render: (a) => severityBadge(a.severity) },
          queue === "compliance" ? { label: "Rule", render: (a) => (a.rule_id ? h("span", { class: "mono" }, a.rule_id) : "—") } : null,
          { label: "Risk", render: (a) => [verdictBadge(a.verdict), " ", h("span", { class: "muted" }, percent(a.score))] },
          { label: "Summary", render: (a) => a.summary },
          queue === "compliance" ? { label: "Hits", num: true, render: (a) => String(a.hits) } : null,
          { label: "Status", render: (a) => statusBadge(a.status) },
          { label: "Transaction", render: (a) => a.transaction_id == null ? "—" : h("a", { href: href(`/transactions/${a.transaction_id}`) }, `#${a.transaction_id}`) },
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
  return h("section", { class: "card stack", "aria-label": name }, h("h2", {}, name), form, note, results);
}
