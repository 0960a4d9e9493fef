// Insights: this month's predicted spending, income and expenses by month, and spending by
// category (which the customer can correct). No risk scores and no model names: customers
// never see them.

import { get } from "../api.js";
import { palette, plot } from "../charts.js";
import { currencyDigits, money, month, toMinor } from "../format.js";
import { clear, errorBox, h, loading, stat } from "../ui.js";
import { categoryCard } from "./categories.js";

export default async function render(ctx) {
  const { main } = ctx;
  const prediction = h("section", { class: "card insight" }, h("h2", {}, "Spending forecast"), loading());
  const summary = h("section", { class: "card insight" }, h("h2", {}, "Income and expenses by month"), loading());
  const categories = h("section", { class: "card section insight" }, h("h2", {}, "Spending by category"), loading());
  main.append(ctx.heading("Insights"), h("div", { class: "stack insights" }, prediction, summary), categories);
  const colours = palette();

  const yearAgo = new Date();
  yearAgo.setFullYear(yearAgo.getFullYear() - 1);
  yearAgo.setDate(1);
  const [predicted, flows] = await Promise.allSettled([
    get("/analytics/spending-prediction"),
    get("/analytics/spending-summary", { from: yearAgo.toISOString() }),
  ]);
  if (!ctx.alive()) return;

  if (predicted.status === "fulfilled") drawPrediction(prediction, predicted.value, colours);
  else clear(prediction, h("h2", {}, "Spending forecast"), errorBox(predicted.reason));
  if (flows.status === "fulfilled") drawSummary(summary, flows.value, colours);
  else clear(summary, h("h2", {}, "Income and expenses by month"), errorBox(flows.reason));
  await categoryCard(ctx, categories, colours);
}

function isZero(amount, currency) {
  return toMinor(amount || "0", currencyDigits(currency)) === 0n;
}

async function drawPrediction(card, p, colours) {
  // From the first month with spending: no empty months before the data.
  const all = p.history || [];
  const start = all.findIndex((m) => !isZero(m.spending, p.currency));
  const history = start === -1 ? [] : all.slice(start);
  const heading = h("h2", {}, p.month ? `Spending forecast for ${month(p.month)}` : "Spending forecast");
  if (!p.currency || !history.length) {
    clear(card, heading, h("p", { class: "empty" }, p.currency ? `Not enough history yet: a forecast needs at least one complete month of spending in ${p.currency}.` : "Open an account to see a forecast."));
    return;
  }
  const last = history.at(-1);
  const digits = currencyDigits(p.currency);
  const delta = toMinor(p.predicted_next_month, digits) - toMinor(last.spending, digits);
  const trend = delta > 0n ? "▲ rising" : delta < 0n ? "▼ falling" : "▶ steady";
  const chart = h("div", { class: "chart short", "aria-label": "Monthly spending and the forecast" });
  clear(
    card,
    heading,
    h(
      "div",
      { class: "grid cols-3 stats" },
      stat("Predicted", h("span", { class: "amount" }, money(p.predicted_next_month, p.currency))),
      stat("Likely range", h("span", { class: "range" }, h("span", {}, money(p.lower, p.currency)), h("span", { class: "muted" }, " to "), h("span", {}, money(p.upper, p.currency)))),
      stat("Trend", trend, `vs ${money(last.spending, p.currency)} in ${month(last.month)}`),
    ),
    chart,
  );
  await plot(
    chart,
    [
      { type: "bar", textposition: "none", name: "Spending", x: history.map((m) => month(m.month)), y: history.map((m) => Number(m.spending)), text: history.map((m) => money(m.spending, p.currency)), hovertemplate: "%{x}<br>%{text}<extra></extra>", marker: { color: colours.accent } },
      {
        type: "scatter", mode: "markers", name: "Forecast", x: [`${month(p.month)} (forecast)`], y: [Number(p.predicted_next_month)],
        error_y: { type: "data", symmetric: false, array: [Number(p.upper) - Number(p.predicted_next_month)], arrayminus: [Number(p.predicted_next_month) - Number(p.lower)], color: colours.warn },
        marker: { size: 12, color: colours.warn }, text: [money(p.predicted_next_month, p.currency)], hovertemplate: "%{x}<br>%{text}<extra>forecast</extra>",
      },
    ],
    { legend: { orientation: "h", x: 0, y: 1.18 }, margin: { l: 56, r: 16, t: 40, b: 48 }, xaxis: { type: "category", automargin: true }, yaxis: { title: { text: p.currency }, automargin: true } },
  );
}

async function drawSummary(card, s, colours) {
  const heading = h("h2", {}, "Income and expenses by month");
  const all = s.by_month || [];
  // Only the months with data: from the first with any income or expense to the last.
  const has = (m) => !isZero(m.income, s.currency) || !isZero(m.expenses, s.currency);
  const first = all.findIndex(has);
  const lastIndex = all.length - 1 - [...all].reverse().findIndex(has);
  const months = first === -1 ? [] : all.slice(first, lastIndex + 1);
  if (!s.currency || !months.length) {
    clear(card, heading, h("p", { class: "empty" }, s.currency ? `No income or expenses in ${s.currency} in the last 12 months.` : "Open an account to see your income and expenses."));
    return;
  }
  const current = new Date();
  const thisMonth = `${current.getUTCFullYear()}-${String(current.getUTCMonth() + 1).padStart(2, "0")}`;
  const label = (m) => (String(m.month).startsWith(thisMonth) ? `${month(m.month)} (so far)` : month(m.month));
  const span = months.length === 1 ? month(months[0].month) : `${month(months[0].month)} – ${month(months.at(-1).month)}`;
  const chart = h("div", { class: "chart short", "aria-label": "Income and expenses by month" });
  clear(
    card,
    heading,
    h(
      "div",
      { class: "grid cols-3 stats" },
      stat("Income", h("span", { class: "amount" }, money(s.income, s.currency)), span),
      stat("Expenses", h("span", { class: "amount" }, money(s.expenses, s.currency)), span),
      stat("Net flow", h("span", { class: "amount" }, money(s.net_flow, s.currency)), "income minus expenses"),
    ),
    chart,
    months.some((m) => String(m.month).startsWith(thisMonth)) ? h("p", { class: "muted hint" }, `${month(thisMonth)} is not over yet: its figures are so far.`) : null,
  );
  await plot(
    chart,
    [
      { type: "bar", textposition: "none", name: "Income", x: months.map(label), y: months.map((m) => Number(m.income)), text: months.map((m) => money(m.income, s.currency)), hovertemplate: "%{x}<br>%{text}<extra>income</extra>", marker: { color: colours.ok } },
      { type: "bar", textposition: "none", name: "Expenses", x: months.map(label), y: months.map((m) => Number(m.expenses)), text: months.map((m) => money(m.expenses, s.currency)), hovertemplate: "%{x}<br>%{text}<extra>expenses</extra>", marker: { color: colours.danger } },
    ],
    { barmode: "group", legend: { orientation: "h", x: 0, y: 1.18 }, margin: { l: 56, r: 16, t: 40, b: 48 }, xaxis: { type: "category", automargin: true }, yaxis: { title: { text: s.currency }, automargin: true } },
  );
}
