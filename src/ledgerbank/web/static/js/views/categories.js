// Spending by category: totals, a chart, and the payments with their category and why; the
// customer corrects a payment's category and it sticks for every payment to that payee.

import { get, put } from "../api.js";
import { plot } from "../charts.js";
import { date, money, title } from "../format.js";
import { clear, errorBox, h, loading, okBox, table } from "../ui.js";

const PERIODS = [
  ["30", "Last 30 days"],
  ["90", "Last 90 days"],
  ["365", "Last 12 months"],
];

export async function categoryCard(ctx, card, colours) {
  const out = h("div", { "aria-live": "polite" });
  const period = h("select", { "aria-label": "Period", name: "period" }, PERIODS.map(([value, text]) => h("option", { value, selected: value === "90" }, text)));
  const body = h("div", {}, loading());
  clear(card, h("div", { class: "spread" }, h("h2", {}, "Spending by category"), period), h("p", { class: "muted" }, "Each payment out is put in a category by a simple rule, shown beside it. Wrong? Pick the right one: we remember it for that payee."), out, body);

  let shown = 12;
  const load = async () => {
    const since = new Date(Date.now() - Number(period.value) * 86_400_000);
    let data;
    try {
      data = await get("/analytics/spending-by-category", { from: since.toISOString() });
    } catch (error) {
      if (ctx.alive()) clear(body, errorBox(error));
      return;
    }
    if (!ctx.alive()) return;
    if (!data.categories.length) {
      clear(body, h("p", { class: "empty" }, data.currency ? `No payments out in ${data.currency} in this period.` : "Open an account to see your spending by category."));
      return;
    }
    const chart = h("div", { class: "chart short", "aria-label": "Spending by category" });
    clear(
      body,
      h(
        "div",
        { class: "grid cols-2" },
        chart,
        table({
          caption: "Totals by category",
          rows: data.categories,
          columns: [
            { label: "Category", render: (c) => title(c.category) },
            { label: "Payments", num: true, render: (c) => String(c.count) },
            { label: "Amount", num: true, render: (c) => money(c.amount, data.currency) },
          ],
        }),
      ),
      h("h3", { class: "section" }, "Payments and why"),
      table({
        caption: "Payments by category",
        rows: data.items.slice(0, shown),
        columns: [
          { label: "Date", cls: "when", render: (i) => date(i.posted_at) },
          { label: "Payment", render: (i) => h("span", { class: "tx-details" }, h("span", {}, i.payee || i.description || title("payment")), i.payee && i.description ? h("span", { class: "muted" }, i.description) : null) },
          { label: "Amount", num: true, render: (i) => money(i.amount, data.currency) },
          { label: "Category", render: (i) => categorySelect(i, data.known_categories) },
          { label: "Why", cls: "wide-only", render: (i) => h("span", { class: "muted" }, i.reason) },
        ],
      }),
      data.items.length > shown ? h("button", { type: "button", class: "btn small section", onclick: () => { shown += 20; load(); } }, `Show more (${data.items.length - shown} more)`) : null,
    );
    await plot(
      chart,
      [{ type: "bar", orientation: "h", x: data.categories.map((c) => Number(c.amount)), y: data.categories.map((c) => title(c.category)), text: data.categories.map((c) => money(c.amount, data.currency)), textposition: "none", hovertemplate: "%{y}<br>%{text}<extra></extra>", marker: { color: colours.accent } }],
      { yaxis: { autorange: "reversed", automargin: true }, xaxis: { title: { text: data.currency }, automargin: true }, showlegend: false },
    );
  };

  const categorySelect = (item, known) =>
    h(
      "select",
      {
        "aria-label": `Category of payment ${item.transaction_id}`,
        dataset: { transaction: item.transaction_id },
        onchange: async (event) => {
          try {
            await put("/analytics/categories", { transaction_id: item.transaction_id, category: event.target.value });
            clear(out, okBox(`Every payment to ${item.payee || "this payee"} is now in ${title(event.target.value)}.`));
            await load();
          } catch (error) {
            clear(out, errorBox(error));
          }
        },
      },
      known.map((name) => h("option", { value: name, selected: name === item.category }, title(name))),
    );

  period.addEventListener("change", () => {
    shown = 12;
    load();
  });
  await load();
}
