// The compliance officer's workspace: AML alerts and their actions, and compliance metrics.

import { get } from "../api.js";
import { count, dayEnd, dayStart, isoDay, money, title } from "../format.js";
import { href } from "../router.js";
import { clear, errorBox, field, formValues, h, loading, stat, table } from "../ui.js";
import { alertQueue } from "./alerts.js";

export default async function render(ctx) {
  const { main } = ctx;
  main.append(ctx.heading("AML & compliance"));
  let rules = [];
  try {
    rules = (await get("/risk/model")).rules.filter((rule) => rule.alerts).map((rule) => rule.id);
  } catch (error) {
    main.append(errorBox(error, { titleText: "The list of AML rules is unavailable." }));
  }
  if (!ctx.alive()) return;
  const queue = await alertQueue(ctx, "compliance", { rules });
  if (!ctx.alive()) return;
  main.append(await metricsCard(ctx), h("div", { class: "section" }, queue), h("p", { class: "section" }, h("a", { href: href("/audit") }, "Browse the audit log →")));
}

async function metricsCard(ctx) {
  const today = new Date();
  const form = h(
    "form",
    { class: "fields inline", "aria-label": "Metrics period" },
    field({ label: "From", name: "from", type: "date", value: isoDay(new Date(today.getTime() - 30 * 86_400_000)) }),
    field({ label: "To", name: "to", type: "date", value: isoDay(today) }),
    h("div", { class: "field" }, h("button", { type: "submit", class: "btn" }, "Update")),
  );
  const out = h("div", { class: "stack" }, loading());
  const load = async () => {
    const values = formValues(form);
    try {
      const m = await get("/compliance/metrics", { from: dayStart(values.from), to: dayEnd(values.to) });
      if (ctx.alive()) clear(out, metricsView(m));
    } catch (error) {
      clear(out, errorBox(error));
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  await load();
  return h("section", { class: "card stack" }, h("div", { class: "spread" }, h("h2", {}, "Compliance metrics"), form), out);
}

// "3 hours ago" / "2.5 days ago": an alert raised minutes ago is not "0.0 days" old.
function oldest(ages) {
  const hours = ages.oldest_age_hours ?? (ages.oldest_age_days ?? 0) * 24;
  if (hours < 1) return "within the hour";
  if (hours < 48) return `${Math.round(hours)} hour${Math.round(hours) === 1 ? "" : "s"} ago`;
  return `${(hours / 24).toFixed(1)} days ago`;
}

function metricsView(m) {
  const unresolved = m.unresolved_alert_ages.find((q) => q.queue === "compliance") || { count: 0, oldest_age_days: null };
  const frozen = m.frozen_accounts.reduce((sum, f) => sum + f.count, 0);
  return h(
    "div",
    { class: "stack" },
    h(
      "div",
      { class: "grid cols-4" },
      stat("Unresolved AML alerts", count(unresolved.count), unresolved.count ? `oldest raised ${oldest(unresolved)}` : "none open"),
      stat("Reports filed", count(m.reports_filed.filed), `from ${count(m.reports_filed.alerts_reported)} alert${m.reports_filed.alerts_reported === 1 ? "" : "s"} in this period; ${count(m.reports_filed.alerts_in_reported_status)} awaiting closure`),
      stat("Frozen accounts", count(frozen), m.frozen_accounts.map((f) => money(f.balance, f.currency)).join(" · ") || null),
      stat("Large-cash days", count(new Set(m.large_cash_by_day.map((d) => d.day)).size), m.thresholds?.cash_threshold ? `cash of ${m.thresholds.cash_threshold} or more` : null),
    ),
    table({
      caption: "Alerts by rule and status",
      rows: m.alerts_by_rule,
      emptyText: "No alerts in this period.",
      columns: [
        { label: "Queue", render: (r) => title(r.queue) },
        { label: "Rule", render: (r) => h("span", { class: "mono" }, r.rule) },
        { label: "Status", render: (r) => title(r.status) },
        { label: "Alerts", num: true, render: (r) => count(r.count) },
        { label: "Hits", num: true, render: (r) => count(r.hits) },
      ],
    }),
  );
}
