// One customer for staff: profile and KYC, accounts, recent activity with signed amounts and
// counterparties, alerts of the queues the viewer works, and SARs (compliance).

import { get } from "../api.js";
import { date, dateTime, money, percent, title } from "../format.js";
import { href } from "../router.js";
import { amountCell, h, statusBadge, table, verdictBadge } from "../ui.js";
import { severityBadge } from "./alerts.js";
import { age } from "./staff-names.js";

export default async function render(ctx) {
  const { main, params } = ctx;
  const view = await get(`/staff/customers/${params.id}`);
  if (!ctx.alive()) return;
  const p = view.profile;
  const profile = h(
    "dl",
    { class: "facts" },
    h("dt", {}, "Name"), h("dd", {}, p.full_name),
    h("dt", {}, "Username"), h("dd", { class: "mono" }, p.username),
    h("dt", {}, "Email"), h("dd", {}, p.email),
    h("dt", {}, "Phone"), h("dd", {}, p.phone || "—"),
    h("dt", {}, "Born"), h("dd", {}, p.date_of_birth ? (/^\d{4}-\d{2}-\d{2}$/.test(p.date_of_birth) ? date(p.date_of_birth) : p.date_of_birth) : "—"),
    h("dt", {}, "KYC"), h("dd", {}, statusBadge(p.kyc_status)),
    h("dt", {}, "Sign-in"), h("dd", {}, p.is_active ? "Active" : "Deactivated"),
    h("dt", {}, "Customer since"), h("dd", {}, date(p.created_at)),
  );
  const accounts = table({
    caption: "Accounts",
    rows: view.accounts,
    emptyText: "No accounts.",
    columns: [
      { label: "Account", cls: "mono", render: (a) => a.account_number },
      { label: "Type", render: (a) => title(a.account_type) },
      { label: "Balance", num: true, render: (a) => money(a.balance, a.currency) },
      { label: "Status", render: (a) => statusBadge(a.status) },
      { label: "", render: (a) => h("a", { href: href("/history", { account_id: a.id }) }, "History") },
    ],
  });
  const activity = table({
    caption: "Recent activity",
    rows: view.recent_activity,
    emptyText: "No transactions yet.",
    columns: [
      { label: "When", cls: "when", render: (t) => dateTime(t.created_at) },
      { label: "Type", cls: "wide-only", render: (t) => title(t.type) },
      { label: "Counterparty", render: (t) => t.counterparty || "between their own accounts" },
      { label: "Description", cls: "wide-only", render: (t) => t.description || "—" },
      { label: "Status", cls: "wide-only", render: (t) => statusBadge(t.status) },
      { label: "Amount", num: true, render: (t) => amountCell(t.signed_amount, t.currency, { signed: true }) },
      { label: "", render: (t) => h("a", { href: href(`/transactions/${t.id}`), "aria-label": `Transaction ${t.id} details` }, "Details") },
    ],
  });
  const alerts = table({
    caption: "Alerts",
    rows: view.alerts,
    emptyText: "No alerts about this customer.",
    columns: [
      { label: "Alert", render: (a) => h("a", { href: href(`/${a.queue}/alerts/${a.id}`) }, `${a.queue === "fraud" ? "Fraud" : "AML"} #${a.id}`) },
      { label: "Age", cls: "when", render: (a) => age(a.created_at) },
      { label: "Severity", render: (a) => severityBadge(a.severity) },
      { label: "Score", render: (a) => [verdictBadge(a.verdict), " ", h("span", { class: "muted" }, percent(a.score))] },
      { label: "Summary", cls: "wide-only", render: (a) => a.summary },
      { label: "Status", render: (a) => statusBadge(a.status) },
      { label: "Assignee", render: (a) => a.assignee_name || h("span", { class: "muted" }, "Unassigned") },
    ],
  });
  main.append(
    ctx.heading(p.full_name),
    h("p", {}, h("a", { href: href("/customers") }, "← Find another customer")),
    h("div", { class: "grid cols-2 section" }, h("section", { class: "card" }, h("h2", {}, "Profile and KYC"), profile), h("section", { class: "card stack" }, h("h2", {}, "Accounts"), accounts)),
    h("section", { class: "card section stack" }, h("h2", {}, "Alerts and cases"), alerts,
      view.reports.length ? [h("h3", {}, "Suspicious-activity reports"), ...view.reports.map((r) => h("article", { class: "sar" }, h("div", { class: "spread" }, h("strong", {}, `SAR ${r.id} · ${title(r.activity_type)}`), h("span", { class: "muted" }, `${r.filed_by_name || "a former user"}, ${dateTime(r.created_at)}`)), h("p", { class: "narrative" }, r.narrative)))] : null),
    h("section", { class: "card section stack" }, h("h2", {}, "Recent activity"), activity),
  );
}
