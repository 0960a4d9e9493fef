// Insights: next month's predicted spending with its trend and the monthly summary. (No risk
// scores: customers never see them.)

import { get } from "../api.js";
import { palette, plot } from "../charts.js";
import { currencyDigits, money, month, toMinor } from "../format.js";
import { clear, errorBox, h, loading, stat } from "../ui.js";

export default async function render(ctx) {
  const { main } = ctx;
  const prediction = h("section", { class: "card" }, h("h2", {}, "Next month's spending"), loading());
  const summary = h("section", { class: "card" }, h("h2", {}, "Income and expenses by month"), loading());
  main.append(ctx.heading("Insights"), h("div", { class: "grid cols-2" }, prediction, summary));
  const colours = palette();

  const yearAgo = new Date();
  yearAgo.setFullYear(yearAgo.getFullYear() - 1);
  const [predicted, flows] = await Promise.allSettled([
    get("/analytics/spending-prediction"),
    get("/analytics/spending-summary", { from: yearAgo.toISOString() }),
  ]);
  if (!ctx.alive()) return;

  if (predicted.status === "fulfilled") {
    const p = predicted.value;
    const history = p.history || [];
    const last = history.at(-1);
    const digits = currencyDigits(p.currency);
    let trend = "—";
    if (last && p.predicted_next_month !== null && p.predicted_next_month !== undefined) {
      const delta = toMinor(p.predicted_next_month, digits) - toMinor(last.spending, digits);
      trend = delta > 0n ? "▲ rising" : delta < 0n ? "▼ falling" : "▶ steady";
    }
    const chart = h("div", { class: "chart short", "aria-label": "Monthly spending and the prediction" });
    clear(
      prediction,
      h("h2", {}, "Next month's spending"),
      h(
        "div",
        { class: "grid cols-3" },
        stat("Predicted", h("span", { class: "amount" }, money(p.predicted_next_month, p.currency)), p.method ? `method: ${p.method}` : null),
        stat("Likely range", h("span", { class: "amount small" }, `${money(p.lower, p.currency)} – ${money(p.upper, p.currency)}`)),
        stat("Trend", trend, last ? `vs ${money(last.spending, p.currency)} in ${month(last.month)}` : "not enough history yet"),
      ),
      chart,
    );
    if (history.length) {
      const next = nextMonth(last.month);
      await plot(
        chart,
        [
          { type: "bar", textposition: "none", name: "Spending", x: history.map((m) => month(m.month)), y: history.map((m) => Number(m.spending)), text: history.map((m) => money(m.spending, p.currency)), hovertemplate: "%{x}<br>%{text}<extra></extra>", marker: { color: colours.accent } },
          {
            type: "scatter", mode: "markers", name: "Predicted", x: [month(next)], y: [Number(p.predicted_next_month)],
            error_y: { type: "data", symmetric: false, array: [Number(p.upper) - Number(p.predicted_next_month)], arrayminus: [Number(p.predicted_next_month) - Number(p.lower)], color: colours.warn },
            marker: { size: 12, color: colours.warn }, text: [money(p.predicted_next_month, p.currency)], hovertemplate: "%{x}<br>%{text}<extra>predicted</extra>",
          },
        ],
        { xaxis: { type: "category" }, yaxis: { title: { text: p.currency } } },
      );
    }
  } else clear(prediction, h("h2", {}, "Next month's spending"), errorBox(predicted.reason));

  if (flows.status === "fulfilled") {
    const s = flows.value;
    const chart = h("div", { class: "chart short", "aria-label": "Income and expenses by month" });
    clear(
      summary,
      h("h2", {}, "Income and expenses by month"),
      h(
        "div",
        { class: "grid cols-3" },
        stat("Income (12 months)", h("span", { class: "amount small" }, money(s.income, s.currency))),
        stat("Expenses (12 months)", h("span", { class: "amount small" }, money(s.expenses, s.currency))),
        stat("Net flow", h("span", { class: "amount small" }, money(s.net_flow, s.currency))),
      ),
      chart,
    );
    const months = s.by_month || [];
    if (months.length) {
      await plot(
        chart,
        [
          { type: "bar", textposition: "none", name: "Income", x: months.map((m) => month(m.month)), y: months.map((m) => Number(m.income)), text: months.map((m) => money(m.income, s.currency)), hovertemplate: "%{x}<br>%{text}<extra>income</extra>", marker: { color: colours.ok } },
          { type: "bar", textposition: "none", name: "Expenses", x: months.map((m) => month(m.month)), y: months.map((m) => Number(m.expenses)), text: months.map((m) => money(m.expenses, s.currency)), hovertemplate: "%{x}<br>%{text}<extra>expenses</extra>", marker: { color: colours.danger } },
        ],
        { barmode: "group", xaxis: { type: "category" }, yaxis: { title: { text: s.currency } } },
      );
    } else clear(chart, h("p", { class: "empty" }, "No income or expenses yet."));
  } else clear(summary, h("h2", {}, "Income and expenses by month"), errorBox(flows.reason));
}

function nextMonth(label) {
  const [y, m] = String(label).split("-").map(Number);
  if (!y || !m) return "next";
  const next = new Date(Date.UTC(y, m, 1));
  return `${next.getUTCFullYear()}-${String(next.getUTCMonth() + 1).padStart(2, "0")}`;
}
