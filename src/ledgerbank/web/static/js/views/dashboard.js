// The customer's dashboard: balance, accounts, this month's income and expenses, balance over
// time, recent activity (updated live).

import { get } from "../api.js";
import { plot } from "../charts.js";
import { count, currencyDigits, dayStart, fromMinor, isoDay, money, startOfMonth, toMinor, totalsByCurrency } from "../format.js";
import { clear, errorBox, h, loading, stat } from "../ui.js";
import { activityTable } from "./parts.js";

const CHART_DAYS = 90;

export default async function render(ctx) {
  const { main } = ctx;
  const cards = h("div", { class: "grid cols-4", "aria-label": "Summary" }, loading());
  const chart = h("div", { class: "chart", "aria-label": "Balance over time" });
  const chartBox = h("section", { class: "card section" }, h("h2", {}, `Balance over the last ${CHART_DAYS} days`), chart);
  const recent = h("div", {}, loading());
  main.append(ctx.heading("Dashboard"), cards, chartBox, h("section", { class: "card section" }, h("h2", {}, "Recent activity"), recent));

  const accounts = (await get("/accounts/")).items;
  if (!ctx.alive()) return;

  const monthStart = startOfMonth();
  let summary = null;
  let summaryError = null;
  try {
    summary = await get("/analytics/spending-summary", { from: isoDay(monthStart) });
  } catch (error) {
    summaryError = error;
  }
  if (!ctx.alive()) return;
  const totals = totalsByCurrency(accounts);
  const totalText = Object.entries(totals).map(([currency, amount]) => money(amount, currency)).join(" · ") || money("0", "USD");
  const active = accounts.filter((account) => account.status === "active").length;
  clear(
    cards,
    stat("Total balance", h("span", { class: "amount" }, totalText), Object.keys(totals).length > 1 ? "per currency" : null),
    stat("Accounts", count(accounts.length), `${active} active`),
    // An empty bank still names its currency: "$0.00", never a bare "0.00".
    summary ? stat("Income this month", h("span", { class: "amount" }, money(summary.income, summary.currency || accounts[0]?.currency || "USD"))) : null,
    summary ? stat("Expenses this month", h("span", { class: "amount" }, money(summary.expenses, summary.currency || accounts[0]?.currency || "USD"))) : null,
    summaryError ? errorBox(summaryError, { titleText: "This month's income and expenses are unavailable." }) : null,
  );

  const refreshRecent = async () => {
    const page = await get("/transactions/history", { limit: 10, sort: "-created_at" });
    if (ctx.alive()) clear(recent, activityTable(page.items, accounts, { empty: "No transactions yet. Make a deposit to get started." }));
  };
  await refreshRecent();
  await drawBalanceChart(ctx, chart, accounts);

  // Live: a new transaction on one of the customer's accounts refreshes the figures.
  let pending = null;
  ctx.live("transaction", () => {
    clearTimeout(pending);
    pending = setTimeout(async () => {
      if (!ctx.alive()) return;
      const fresh = (await get("/accounts/")).items;
      if (!ctx.alive()) return;
      const freshTotals = totalsByCurrency(fresh);
      cards.firstChild.querySelector(".value").textContent = Object.entries(freshTotals).map(([c, a]) => money(a, c)).join(" · ");
      await refreshRecent();
      const row = recent.querySelector("tbody tr");
      row?.classList.add("fresh");
    }, 300);
  });
  ctx.onCleanup(() => clearTimeout(pending));
}

// The total balance per currency over time, from the accounts' statements (balance_after).
async function drawBalanceChart(ctx, node, accounts) {
  if (!accounts.length) {
    clear(node, h("p", { class: "empty" }, "Open an account to see its balance over time."));
    return;
  }
  const since = new Date(Date.now() - CHART_DAYS * 86_400_000);
  const statements = await Promise.all(
    accounts.map((account) => get(`/accounts/${account.id}/statement`, { from: dayStart(isoDay(since)) })),
  );
  if (!ctx.alive()) return;
  const traces = [];
  const currencies = [...new Set(accounts.map((account) => account.currency))];
  for (const currency of currencies) {
    const digits = currencyDigits(currency);
    const mine = statements.filter((statement) => statement.currency === currency);
    const latest = new Map(mine.map((statement) => [statement.account_id, toMinor(statement.opening_balance, digits)]));
    const points = [];
    const events = mine.flatMap((statement) => statement.entries.map((entry) => ({ ...entry, account_id: statement.account_id })));
    events.sort((a, b) => new Date(a.posted_at) - new Date(b.posted_at));
    const total = () => [...latest.values()].reduce((sum, value) => sum + value, 0n);
    points.push({ at: since, minor: total() });
    for (const entry of events) {
      latest.set(entry.account_id, toMinor(entry.balance_after, digits));
      points.push({ at: new Date(entry.posted_at), minor: total() });
    }
    points.push({ at: new Date(), minor: total() });
    traces.push({
      type: "scatter",
      mode: "lines",
      line: { shape: "hv", width: 2 },
      fill: "tozeroy",
      name: currency,
      x: points.map((point) => point.at),
      // Plotted as numbers for drawing only; the labels come from the exact decimal strings.
      y: points.map((point) => Number(fromMinor(point.minor, digits))),
      text: points.map((point) => money(fromMinor(point.minor, digits), currency)),
      hovertemplate: "%{x|%b %d %H:%M}<br>%{text}<extra>%{fullData.name}</extra>",
    });
  }
  await plot(node, traces, { showlegend: currencies.length > 1, yaxis: { title: { text: currencies.length === 1 ? currencies[0] : "" } } });
}
