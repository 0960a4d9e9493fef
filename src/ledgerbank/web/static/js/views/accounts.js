// Accounts: a customer's cards (and opening a new one); for staff, every account, with freeze
// and unfreeze for the roles allowed to.

import { download, get, post } from "../api.js";
import { dateTime, dayEnd, dayStart, isoDay, money, startOfMonth } from "../format.js";
import { href } from "../router.js";
import { amountCell, badge, clear, compact, errorBox, field, formValues, h, loading, okBox, statusBadge, submitting, table, toast } from "../ui.js";
import { isStaff } from "../nav.js";
import { closeAccountButton } from "./closing.js";
import { customerFreezeButton, freezeButton } from "./freeze.js";
import { activeHolds, pendingHolds } from "./holds.js";
import { namesOf } from "./staff-names.js";

export { freezeButton };

const FREEZERS = ["fraud_analyst", "compliance_officer", "admin"];

export default async function render(ctx) {
  if (isStaff(ctx.role)) return renderStaff(ctx);
  const { main } = ctx;
  const list = h("div", { class: "grid cols-3" }, loading());
  const out = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "fields", "aria-label": "Open a new account" },
    field({ label: "Account type", name: "account_type", type: "select", options: [["checking", "Checking"], ["savings", "Savings"], ["wallet", "Wallet"]], required: true }),
    field({ label: "Currency", name: "currency", value: "USD", required: true, maxlength: 3, minlength: 3, pattern: "[A-Za-z]{3}", autocapitalize: "characters", hint: "ISO code, e.g. USD, EUR" }),
    h("div", { class: "field" }, h("button", { type: "submit", class: "btn primary" }, "Open account")),
  );
  const statements = h("section", { class: "card section", "aria-label": "Statements" }, h("h2", {}, "Statements"), loading());
  main.append(ctx.heading("Accounts"), list, statements, freezeHelp(), h("section", { class: "card section" }, h("h2", {}, "Open a new account"), form, out));

  const load = async () => {
    const [accounts, holds] = await Promise.all([get("/accounts/").then((page) => page.items), activeHolds()]);
    if (!ctx.alive()) return;
    clear(list, accounts.length ? accounts.map((account) => accountCard(account, accounts, out, load, holds.get(account.id))) : h("p", { class: "empty" }, "You have no accounts yet: open one below."));
    if (!statements.querySelector("form")) clear(statements, h("h2", {}, "Statements"), statementForm(accounts));
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const opened = await submitting(form, out, () => post("/accounts/", { account_type: values.account_type, currency: values.currency.toUpperCase() }));
    if (opened) {
      clear(out, okBox(`Opened ${opened.account_type} account ${opened.account_number}.`));
      await load();
    }
  });
  ctx.live("transaction", () => load());
  await load();
}

// A statement for a period, as PDF or CSV: the period's entries with opening and closing balances.
function statementForm(accounts) {
  if (!accounts.length) return h("p", { class: "empty" }, "Statements appear once you have an account.");
  const out = h("div", { "aria-live": "polite" });
  const today = new Date();
  const form = h(
    "form",
    { class: "fields", "aria-label": "Download a statement" },
    field({ label: "Account", name: "account_id", type: "select", required: true, options: accounts.map((a) => [a.id, `${a.account_type.charAt(0).toUpperCase()}${a.account_type.slice(1)} ··${String(a.account_number).slice(-4)} (${a.currency})`]) }),
    field({ label: "From", name: "from", type: "date", required: true, value: isoDay(startOfMonth(today)), max: isoDay(today) }),
    field({ label: "To", name: "to", type: "date", required: true, value: isoDay(today), max: isoDay(today) }),
    h("div", { class: "field" }, h("div", { class: "row" }, h("button", { type: "submit", class: "btn primary", value: "pdf" }, "Download PDF"), h("button", { type: "submit", class: "btn", value: "csv" }, "Download CSV"))),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const format = event.submitter?.value || "pdf";
    const values = formValues(form);
    clear(out);
    if (values.from > values.to) {
      clear(out, h("div", { class: "alert error", role: "alert" }, h("div", { class: "title" }, "The start date must not be after the end date.")));
      return;
    }
    try {
      const file = await download("GET", `/accounts/${values.account_id}/statement`, { query: { from: dayStart(values.from), to: dayEnd(values.to), format }, filename: `statement.${format}` });
      toast(`Downloaded ${file.name}.`, "ok");
    } catch (error) {
      clear(out, errorBox(error));
    }
  });
  return h("div", { class: "stack" }, h("p", { class: "muted" }, "Every entry of the period with the balance before and after it."), form, out);
}

function freezeHelp() {
  return h(
    "section",
    { class: "card section freeze-help", "aria-label": "Freezing an account" },
    h("h2", {}, "Lost your card, or see a payment you don't recognise?"),
    h("p", {}, "Freeze the account with its “Freeze account” button: no money can leave or enter it until it is unfrozen."),
    h("ul", {}, h("li", {}, "A freeze you made yourself: you lift it here with “Unfreeze”, whenever you are ready."), h("li", {}, "A freeze made by the bank: the bank lifts it after its review. Contact us if you need help.")),
    h("p", { class: "muted" }, "To report one payment, open it from History and choose “I don't recognise this”."),
  );
}

function accountCard(account, accounts, out, reload, holds) {
  return h(
    "article",
    { class: "card account-card stack", "aria-label": `${account.account_type} account ${account.account_number}` },
    h("div", { class: "spread" }, badge(account.account_type, "info"), statusBadge(account.status)),
    h("div", { class: "number" }, account.account_number),
    h("div", { class: "balance" }, money(account.balance, account.currency)),
    account.available_balance !== account.balance ? h("div", { class: "num muted" }, `available ${money(account.available_balance, account.currency)}`) : null,
    pendingHolds(account, holds),
    account.freeze_message ? h("div", { class: "muted freeze-message" }, account.freeze_message) : null,
    h("div", { class: "row" }, h("a", { href: href("/history", { account_id: account.id }) }, "History"), h("a", { href: href("/move", { account_id: account.id }) }, "Move money"), customerFreezeButton(account, out, reload), closeAccountButton(account, accounts, out, reload)),
  );
}

async function renderStaff(ctx) {
  const { main, query } = ctx;
  const canFreeze = FREEZERS.includes(ctx.role);
  const out = h("div", { "aria-live": "polite" });
  const results = h("div", {}, loading());
  const form = h(
    "form",
    { class: "fields", "aria-label": "Filter accounts" },
    field({ label: "Owner (name or email)", name: "owner", value: query.owner, minlength: 2, maxlength: 100 }),
    h("div", { class: "field" }, h("button", { type: "submit", class: "btn" }, "Filter")),
  );
  main.append(ctx.heading("Accounts"), form, out, h("div", { class: "section" }, results));
  let cursors = [null];
  let filters = { owner: query.owner || "", owner_id: query.owner_id || "" };

  const load = async () => {
    clear(results, loading());
    const page = await get("/accounts/", { ...filters, limit: 50, cursor: cursors.at(-1) });
    if (!ctx.alive()) return;
    const rows = page.items;
    const name = await namesOf(rows.map((a) => a.owner_id));
    if (!ctx.alive()) return;
    clear(
      results,
      table({
        caption: "Accounts",
        rows,
        emptyText: "No accounts match.",
        columns: [
          { label: "Number", render: (a) => h("span", { class: "mono" }, a.account_number) },
          { label: "Type", render: (a) => badge(a.account_type, "info") },
          { label: "Owner", render: (a) => (a.owner_id ? h("a", { href: href("/accounts", { owner_id: a.owner_id }) }, name(a.owner_id)) : "bank") },
          { label: "Opened", render: (a) => dateTime(a.created_at) },
          { label: "Status", render: (a) => [statusBadge(a.status), a.frozen_by ? h("div", { class: "muted" }, `by ${a.frozen_by}`) : null, a.status_reason ? h("div", { class: "muted" }, a.status_reason) : null, a.freeze_message && a.status === "frozen" ? h("div", { class: "muted" }, "customer reads: ", h("q", {}, a.freeze_message)) : null] },
          { label: "Balance", num: true, render: (a) => amountCell(a.balance, a.currency) },
          { label: "", render: (a) => h("div", { class: "row" }, h("a", { href: href("/history", { account_id: a.id }) }, "History"), canFreeze ? freezeButton(a, out, load) : null) },
        ],
      }),
      h(
        "div",
        { class: "pager" },
        h("button", { type: "button", class: "btn small", disabled: cursors.length < 2, onclick: () => { cursors.pop(); load(); } }, "Previous"),
        h("button", { type: "button", class: "btn small", disabled: !page.next_cursor, onclick: () => { cursors.push(page.next_cursor); load(); } }, "Next"),
      ),
    );
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    filters = compact(formValues(form));
    cursors = [null];
    load().catch((error) => clear(results, errorBox(error)));
  });
  await load();
}

