// One alert, fraud or AML: its transaction and risk, the account and its recent activity, the
// case history, and the actions of the queue (flag, freeze, resolve / escalate, report, close).

import { get, post } from "../api.js";
import { dateTime, money, percent, title } from "../format.js";
import { href, navigate } from "../router.js";
import { askReason, badge, clear, errorBox, h, okBox, statusBadge, table, verdictBadge } from "../ui.js";
import { freezeButton } from "./accounts.js";
import { severityBadge } from "./alerts.js";
import { activityTable, riskPanel } from "./parts.js";

const COMPLIANCE_ACTIONS = [
  ["escalate", "Escalate", false],
  ["file_report", "File report", false],
  ["freeze_account", "Freeze account", true],
  ["close", "Close", false],
];

export default async function render(ctx) {
  const { main, params } = ctx;
  const queue = ctx.queue || (location.hash.startsWith("#/compliance") ? "compliance" : "fraud");
  const detail = await get(`/${queue}/alerts/${params.id}`);
  if (!ctx.alive()) return;
  const { alert, transaction: tx, account } = detail;
  const out = h("div", { "aria-live": "polite", class: "alert-outcome" });
  const reload = () => navigate(`/${queue}/alerts/${alert.id}`, {}, { replace: true });
  const act = async (work, message) => {
    try {
      await work();
      clear(out, okBox(message));
      reload();
    } catch (error) {
      clear(out, errorBox(error));
    }
  };

  const actions = h("div", { class: "row", role: "group", "aria-label": "Actions" });
  const closed = alert.status === "closed";
  if (queue === "fraud" && !closed) {
    if (alert.status === "open") {
      actions.append(h("button", { type: "button", class: "btn", onclick: () => act(() => post(`/fraud/alerts/${alert.id}/assign`), `Alert #${alert.id} is yours: investigating.`) }, "Take it"));
    }
    actions.append(
      h("button", {
        type: "button", class: "btn danger",
        onclick: async () => {
          const note = await askReason({ heading: `Resolve alert #${alert.id} as fraud`, label: "Note", confirm: "Confirm fraud", danger: true });
          if (note) act(() => post(`/fraud/alerts/${alert.id}/resolve`, { resolution: "fraud", note }), `Alert #${alert.id} closed as fraud.`);
        },
      }, "Resolve: fraud"),
      h("button", {
        type: "button", class: "btn",
        onclick: async () => {
          const note = await askReason({ heading: `Resolve alert #${alert.id} as a false positive`, label: "Note", confirm: "Confirm false positive" });
          if (note) act(() => post(`/fraud/alerts/${alert.id}/resolve`, { resolution: "false_positive", note }), `Alert #${alert.id} closed as a false positive.`);
        },
      }, "Resolve: false positive"),
    );
  }
  if (queue === "compliance" && !closed) {
    for (const [action, label, danger] of COMPLIANCE_ACTIONS) {
      actions.append(
        h("button", {
          type: "button", class: `btn ${danger ? "danger" : ""}`.trim(), dataset: { action },
          onclick: async () => {
            const note = await askReason({ heading: `${label} — alert #${alert.id}`, label: "Note", confirm: label, danger });
            if (note) act(() => post(`/compliance/alerts/${alert.id}/actions`, { action, note }), `${label}: done for alert #${alert.id}.`);
          },
        }, label),
      );
    }
  }
  if (tx) actions.append(
    h("button", {
      type: "button", class: "btn",
      onclick: async () => {
        const reason = await askReason({ heading: `Flag transaction #${tx.id}`, confirm: "Flag" });
        if (reason) act(() => post(`/transactions/${tx.id}/flag`, { reason }), `Transaction #${tx.id} flagged.`);
      },
    }, "Flag transaction"),
  );
  const freeze = account ? freezeButton(account, out, reload, { small: false }) : null;
  if (freeze) actions.append(freeze);

  const facts = h(
    "dl",
    { class: "facts" },
    h("dt", {}, "Status"), h("dd", {}, statusBadge(alert.status), alert.assigned_to ? h("span", { class: "muted" }, ` assigned to user #${alert.assigned_to}`) : null),
    h("dt", {}, "Severity"), h("dd", {}, severityBadge(alert.severity)),
    alert.rule_id ? [h("dt", {}, "Rule"), h("dd", { class: "mono" }, alert.rule_id)] : null,
    h("dt", {}, "Verdict"), h("dd", {}, verdictBadge(alert.verdict), ` ${percent(alert.score, 1)}`),
    h("dt", {}, "Summary"), h("dd", {}, alert.summary),
    alert.hits > 1 ? [h("dt", {}, "Hits"), h("dd", {}, String(alert.hits))] : null,
    h("dt", {}, "Raised"), h("dd", {}, dateTime(alert.created_at)),
    alert.resolution ? [h("dt", {}, "Resolution"), h("dd", {}, badge(alert.resolution, alert.resolution === "fraud" ? "danger" : "ok"), alert.resolution_note ? ` — ${alert.resolution_note}` : "")] : null,
  );
  // A sanctions match found at registration or when a payee was added has no transaction.
  const txFacts = !tx ? h("p", { class: "muted" }, `No transaction: raised about customer #${alert.user_id}.`) : h(
    "dl",
    { class: "facts" },
    h("dt", {}, "Transaction"), h("dd", {}, h("a", { href: href(`/transactions/${tx.id}`) }, `#${tx.id}`), " ", statusBadge(tx.status)),
    h("dt", {}, "Type"), h("dd", {}, title(tx.type)),
    h("dt", {}, "Amount"), h("dd", { class: "amount" }, money(tx.amount, tx.currency)),
    h("dt", {}, "From → to"), h("dd", {}, `${tx.from_account_id ? `#${tx.from_account_id}` : "cash"} → ${tx.to_account_id ? `#${tx.to_account_id}` : "cash"}`),
    h("dt", {}, "Description"), h("dd", {}, tx.description || "—"),
    h("dt", {}, "When"), h("dd", {}, dateTime(tx.created_at)),
  );
  const accountBox = account
    ? h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Account"), h("dd", { class: "mono" }, account.account_number),
        h("dt", {}, "Owner"), h("dd", {}, h("a", { href: href("/accounts", { owner_id: account.owner_id }) }, `user #${account.owner_id}`)),
        h("dt", {}, "Type"), h("dd", {}, title(account.account_type)),
        h("dt", {}, "Balance"), h("dd", { class: "amount" }, money(account.balance, account.currency)),
        h("dt", {}, "Status"), h("dd", {}, statusBadge(account.status), account.status_reason ? h("span", { class: "muted" }, ` ${account.status_reason}`) : null),
      )
    : h("p", { class: "muted" }, "No customer account is attached to this alert.");

  main.append(
    ctx.heading(`${queue === "fraud" ? "Fraud" : "AML"} alert #${alert.id}`),
    h("p", {}, h("a", { href: href(`/${queue}`) }, `← Back to the ${queue} queue`)),
    actions,
    out,
    h(
      "div",
      { class: "grid cols-2 section" },
      h("section", { class: "card" }, h("h2", {}, "Alert"), facts),
      h("section", { class: "card" }, h("h2", {}, "Transaction"), txFacts, tx ? h("div", { class: "section" }, riskPanel(tx.risk)) : null),
      h("section", { class: "card" }, h("h2", {}, "Account"), accountBox),
      h(
        "section",
        { class: "card" },
        h("h2", {}, "Case history"),
        table({
          caption: "Case history",
          rows: [...detail.actions, ...detail.flags.map((f) => ({ ...f, action: "flagged", note: f.reason, actor_id: f.flagged_by }))].sort((a, b) => new Date(a.created_at) - new Date(b.created_at)),
          emptyText: "Nothing done yet.",
          columns: [
            { label: "When", cls: "when", render: (a) => dateTime(a.created_at) },
            { label: "Who", cls: "when", render: (a) => (a.actor_id ? `user #${a.actor_id}` : "system") },
            { label: "Action", render: (a) => title(a.action) },
            { label: "Note", render: (a) => a.note || "—" },
          ],
        }),
      ),
    ),
    h("section", { class: "card section" }, h("h2", {}, "The account's recent activity"), activityTable(detail.recent_activity, [], { staff: true, empty: "No other activity." })),
  );
}
