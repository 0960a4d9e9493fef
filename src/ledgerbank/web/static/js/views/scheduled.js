// Scheduled payments and standing orders: set one up with the PIN, see each with its attempts,
// cancel it. A declined attempt says only "declined" (never why: tipping off).

import { get, move, request } from "../api.js";
import { date, dateTime, money, title } from "../format.js";
import { amountField, badge, clear, compact, errorBox, field, formValues, h, loading, markInvalid, okBox, table } from "../ui.js";
import { accountOptions } from "./parts.js";

const OUTCOME_TEXT = { posted: "paid", failed: "failed, tried again later today", skipped: "skipped", declined: "declined" };
const WHY = { insufficient_funds: "not enough money", account_frozen: "account frozen", limit_exceeded: "daily limit reached", kyc_required: "identity check pending", payment_declined: "contact us" };

export default async function render(ctx) {
  const { main } = ctx;
  main.append(ctx.heading("Scheduled payments"), loading());
  const [accountsPage, orders] = await Promise.all([get("/accounts/"), get("/payments/scheduled")]);
  if (!ctx.alive()) return;
  main.lastChild.remove();
  const accounts = accountsPage.items;
  const list = h("section", { class: "section", "aria-label": "Your scheduled payments" });
  const result = h("div", { "aria-live": "polite" });
  const today = new Date().toISOString().slice(0, 10);
  const form = h(
    "form",
    { class: "stack", "aria-label": "New scheduled payment" },
    field({ label: "From account", name: "from_account_id", type: "select", options: accountOptions(accounts, { onlyActive: true }), required: true }),
    field({ label: "To account", name: "to_account_id", type: "select", options: [...accountOptions(accounts), ["other", "Another customer's account…"]], required: true, onchange: (event) => (form.querySelector(".other-account").hidden = event.target.value !== "other") }),
    h("div", { class: "other-account", hidden: true }, field({ label: "Recipient account number", name: "other_account_number", inputmode: "numeric", pattern: "[0-9]{12}", minlength: 12, maxlength: 12 })),
    amountField({ label: "Amount", name: "amount", required: true }),
    field({ label: "How often", name: "frequency", type: "select", options: [["monthly", "Every month"], ["weekly", "Every week"], ["once", "Once"]], value: "monthly" }),
    field({ label: "First payment on", name: "first_date", type: "date", min: today, value: today, required: true, hint: "Monthly on the 29th–31st: the last day of shorter months." }),
    field({ label: "Last payment on or before (optional)", name: "until", type: "date", min: today }),
    field({ label: "Description (optional)", name: "description", maxlength: 200 }),
    field({ label: "Transaction PIN", name: "pin", type: "password", inputmode: "numeric", autocomplete: "off", pattern: "[0-9]{4,6}", minlength: 4, maxlength: 6, required: true }),
    h("button", { type: "submit", class: "btn primary" }, "Set up"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const body = compact({ from_account_id: Number(values.from_account_id), amount: values.amount, frequency: values.frequency, first_date: values.first_date, until: values.until, description: values.description, pin: values.pin });
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    clear(result, loading("Saving…"));
    try {
      if (values.to_account_id === "other") {
        const payee = await get(`/accounts/payee?account_number=${encodeURIComponent(values.other_account_number)}`);
        body.to_account_id = payee.account_id;
      } else body.to_account_id = Number(values.to_account_id);
      const made = await move("/payments/scheduled", body);
      markInvalid(form, null);
      clear(result, okBox(`Set up: ${money(made.amount, made.currency)} ${made.frequency === "once" ? "once" : made.frequency}, first on ${date(made.first_date)}.`));
      form.elements.pin.value = "";
      await refresh();
    } catch (error) {
      markInvalid(form, error);
      clear(result, errorBox(error));
    } finally {
      button.disabled = false;
    }
  });

  async function refresh() {
    const page = await get("/payments/scheduled");
    if (ctx.alive()) showList(page.items);
  }

  function showList(items) {
    clear(
      list,
      h("h2", {}, "Your scheduled payments"),
      table({
        caption: "Scheduled payments",
        rows: items,
        emptyText: "No scheduled payments yet.",
        columns: [
          { label: "Description", render: (o) => o.description || `To account ${o.to_account_id}` },
          { label: "Amount", num: true, render: (o) => money(o.amount, o.currency) },
          { label: "How often", render: (o) => title(o.frequency) },
          { label: "Next", render: (o) => (o.next_due ? date(o.next_due) : "—") },
          { label: "Status", render: (o) => badge(o.status, o.status === "active" ? "ok" : "") },
          { label: "", render: (o) => h("div", { class: "row" }, h("button", { type: "button", class: "btn small", onclick: () => showRuns(o.id) }, "Attempts"), o.status === "active" ? h("button", { type: "button", class: "btn small danger", onclick: () => cancel(o) }, "Cancel") : null) },
        ],
      }),
    );
  }

  async function cancel(order) {
    if (!confirm(`Cancel this ${order.frequency} payment of ${money(order.amount, order.currency)}?`)) return;
    try {
      await request("DELETE", `/payments/scheduled/${order.id}`);
      clear(result, okBox("Cancelled: no further payment will be made."));
      await refresh();
    } catch (error) {
      clear(result, errorBox(error));
    }
  }

  async function showRuns(id) {
    try {
      const order = await get(`/payments/scheduled/${id}`);
      clear(
        result,
        table({
          caption: `Attempts of ${order.description || `payment ${order.id}`}`,
          rows: order.runs,
          emptyText: "Nothing has fallen due yet.",
          columns: [
            { label: "Due", render: (r) => date(r.due_date) },
            { label: "Try", num: true, render: (r) => String(r.attempt) },
            { label: "When", render: (r) => dateTime(r.attempted_at) },
            { label: "Outcome", render: (r) => OUTCOME_TEXT[r.outcome] || r.outcome },
            { label: "Why", render: (r) => (r.code ? WHY[r.code] || title(r.code) : "") },
          ],
        }),
      );
    } catch (error) {
      clear(result, errorBox(error));
    }
  }

  showList(orders.items);
  main.append(h("div", { class: "grid cols-2" }, h("section", { class: "card" }, form), h("div", {}, result)), list);
}
