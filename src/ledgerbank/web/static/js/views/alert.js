// One alert, fraud or AML: its transaction and risk, the account, the full-width case history
// (actions, notes, flags, freezes and unfreezes, with names), a note box, the actions still open
// to it, a SAR form (AML), the network of who paid whom, and the account's signed activity.

import { get, post } from "../api.js";
import { dateTime, money, percent, title } from "../format.js";
import { href, navigate } from "../router.js";
import { askReason, badge, clear, errorBox, field, formValues, h, okBox, statusBadge, submitting, table, verdictBadge } from "../ui.js";
import { freezeButton } from "./freeze.js";
import { severityBadge } from "./alerts.js";
import { networkCard } from "./network.js";
import { activityTable, riskPanel } from "./parts.js";
import { sarCard } from "./sar.js";
import { namesOf } from "./staff-names.js";

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
  const ask = (heading, confirm, danger, then) => async () => {
    const note = await askReason({ heading, label: "Note", confirm, danger });
    if (note) then(note);
  };

  // Only what can still be done: nothing that is done already, nothing after closing.
  const actions = h("div", { class: "row", role: "group", "aria-label": "Actions" });
  const closed = alert.status === "closed";
  const mine = alert.assigned_to && alert.assigned_to === ctx.session.userId;
  if (queue === "fraud" && !closed) {
    if (!mine) actions.append(h("button", { type: "button", class: "btn", onclick: () => act(() => post(`/fraud/alerts/${alert.id}/assign`), `Alert #${alert.id} is yours: investigating.`) }, alert.assigned_to ? "Take it over" : "Take it"));
    actions.append(
      h("button", { type: "button", class: "btn danger", onclick: ask(`Resolve alert #${alert.id} as fraud`, "Confirm fraud", true, (note) => act(() => post(`/fraud/alerts/${alert.id}/resolve`, { resolution: "fraud", note }), `Alert #${alert.id} closed as fraud.`)) }, "Resolve: fraud"),
      h("button", { type: "button", class: "btn", onclick: ask(`Resolve alert #${alert.id} as a false positive`, "Confirm false positive", false, (note) => act(() => post(`/fraud/alerts/${alert.id}/resolve`, { resolution: "false_positive", note }), `Alert #${alert.id} closed as a false positive.`)) }, "Resolve: false positive"),
    );
  }
  if (queue === "compliance" && !closed) {
    const compliance = (action, label, danger) =>
      h("button", { type: "button", class: `btn ${danger ? "danger" : ""}`.trim(), dataset: { action }, onclick: ask(`${label} — alert #${alert.id}`, label, danger, (note) => act(() => post(`/compliance/alerts/${alert.id}/actions`, { action, note }), `${label}: done for alert #${alert.id}.`)) }, label);
    if (!["escalated", "reported"].includes(alert.status)) actions.append(compliance("escalate", "Escalate", false));
    actions.append(compliance("close", "Close", false));
  }
  if (tx && !closed) actions.append(
    h("button", { type: "button", class: "btn", onclick: async () => {
      const reason = await askReason({ heading: `Flag transaction #${tx.id}`, confirm: "Flag" });
      if (reason) act(() => post(`/transactions/${tx.id}/flag`, { reason }), `Transaction #${tx.id} flagged.`);
    } }, "Flag transaction"),
  );
  const freeze = account ? freezeButton(account, out, reload, { small: false }) : null;
  if (freeze) actions.append(freeze);
  if (!actions.children.length) actions.append(h("p", { class: "muted" }, closed ? "This alert is closed: notes can still be added below." : "No action is open to you on this alert."));

  const customerLink = (id, name) => (id ? h("a", { href: href(`/customers/${id}`) }, name || "the customer") : name || "—");
  const facts = h(
    "dl",
    { class: "facts" },
    h("dt", {}, "Status"), h("dd", {}, statusBadge(alert.status), alert.assigned_to ? h("span", { class: "muted" }, ` assigned to ${alert.assignee_name || "a former user"}`) : null),
    h("dt", {}, "Customer"), h("dd", {}, customerLink(account ? account.owner_id : alert.user_id, alert.owner_name)),
    h("dt", {}, "Severity"), h("dd", {}, severityBadge(alert.severity)),
    alert.rule_id ? [h("dt", {}, "Rule"), h("dd", { class: "mono" }, alert.rule_id)] : null,
    h("dt", {}, "Verdict"), h("dd", {}, verdictBadge(alert.verdict), ` ${percent(alert.score, 1)}`),
    h("dt", {}, "Summary"), h("dd", {}, alert.summary),
    alert.hits > 1 ? [h("dt", {}, "Hits"), h("dd", {}, String(alert.hits))] : null,
    h("dt", {}, "Raised"), h("dd", {}, dateTime(alert.created_at)),
    alert.resolution ? [h("dt", {}, "Resolution"), h("dd", {}, badge(alert.resolution, alert.resolution === "fraud" ? "danger" : "ok"), alert.resolution_note ? ` — ${alert.resolution_note}` : "")] : null,
  );
  const side = (party) => (party ? `${party.name} ·${String(party.account_number).slice(-4)}` : "cash");
  // A sanctions match found at registration or when a payee was added has no transaction.
  const txFacts = !tx ? h("p", { class: "muted" }, "No transaction: raised about the customer (a sanctions match).") : h(
    "dl",
    { class: "facts" },
    h("dt", {}, "Transaction"), h("dd", {}, h("a", { href: href(`/transactions/${tx.id}`) }, `#${tx.id}`), " ", statusBadge(tx.status)),
    h("dt", {}, "Type"), h("dd", {}, title(tx.type)),
    h("dt", {}, "Amount"), h("dd", { class: "amount" }, money(tx.amount, tx.currency)),
    h("dt", {}, "From → to"), h("dd", {}, `${side(tx.from_party)} → ${side(tx.to_party)}`),
    h("dt", {}, "Description"), h("dd", {}, tx.description || "—"),
    h("dt", {}, "When"), h("dd", {}, dateTime(tx.created_at)),
  );
  const accountBox = account
    ? h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Account"), h("dd", { class: "mono" }, account.account_number),
        h("dt", {}, "Owner"), h("dd", {}, customerLink(account.owner_id, account.owner_name)),
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
      { class: "grid cols-3 section" },
      h("section", { class: "card" }, h("h2", {}, "Alert"), facts),
      h("section", { class: "card" }, h("h2", {}, "Transaction"), txFacts, tx ? h("div", { class: "section" }, riskPanel(tx.risk)) : null),
      h("section", { class: "card" }, h("h2", {}, "Account"), accountBox),
    ),
    await historyCard(detail, queue, reload),
  );
  if (queue === "compliance") main.append(await sarCard(alert, reload));
  if (account) main.append(await networkCard(queue, alert.id));
  main.append(
    h("section", { class: "card section" }, h("h2", {}, "The account's recent activity"), activityTable(detail.recent_activity, account ? [account] : [], { empty: "No other activity." })),
  );
}

// The case history, full width: every action, note, flag, freeze and unfreeze, oldest first.
async function historyCard(detail, queue, reload) {
  const rows = [
    ...detail.actions,
    ...(detail.account_history || []),
    ...detail.flags.map((f) => ({ ...f, action: "flagged", note: f.reason, actor_id: f.flagged_by, actor_name: f.flagged_by_name })),
  ].sort((a, b) => new Date(a.created_at) - new Date(b.created_at));
  const name = await namesOf(rows.filter((r) => r.actor_id && !r.actor_name).map((r) => r.actor_id));
  const out = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "stack note-form", "aria-label": "Add a note" },
    field({ label: "Note", name: "note", type: "textarea", required: true, maxlength: 2000, rows: 2, placeholder: "What you found, whom you called…" }),
    h("div", { class: "row" }, h("button", { type: "submit", class: "btn" }, "Add note")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { note } = formValues(form);
    if (!note) return;
    const done = await submitting(form, out, () => post(`/${queue}/alerts/${detail.alert.id}/notes`, { note }));
    if (done) reload();
  });
  const label = { account_frozen: "Account frozen", account_unfrozen: "Account unfrozen", note: "Note", flagged: "Flagged" };
  return h(
    "section",
    { class: "card section stack case-history" },
    h("h2", {}, "Case history"),
    table({
      caption: "Case history",
      rows,
      emptyText: "Nothing done yet.",
      columns: [
        { label: "When", cls: "when", render: (a) => dateTime(a.created_at) },
        { label: "Who", cls: "when", render: (a) => (a.actor_id ? a.actor_name || name(a.actor_id) : "the system") },
        { label: "Action", cls: "when", render: (a) => label[a.action] || title(a.action) },
        { label: "Note", cls: "note", render: (a) => a.note || "—" },
      ],
    }),
    form,
    out,
  );
}
