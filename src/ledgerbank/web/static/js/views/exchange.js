// Exchange between the customer's own accounts in two currencies: a quote first (rate, both
// amounts, the fee), then the PIN to confirm. The money service does the rest.

import { get, move } from "../api.js";
import { money } from "../format.js";
import { href } from "../router.js";
import { amountField, clear, errorBox, field, formValues, h, loading, markInvalid, submitting } from "../ui.js";
import { accountOptions } from "./parts.js";

export default async function render(ctx) {
  const { main } = ctx;
  main.append(ctx.heading("Exchange"), loading());
  const accounts = (await get("/accounts/")).items;
  if (!ctx.alive()) return;
  main.lastChild.remove();
  if (new Set(accounts.map((account) => account.currency)).size < 2) {
    main.append(h("p", { class: "empty" }, "Exchanging needs two of your accounts in different currencies."), h("a", { class: "btn primary", href: href("/accounts") }, "Open an account"));
    return;
  }
  const byId = (id) => accounts.find((account) => String(account.id) === String(id));
  const out = h("section", { class: "section", "aria-live": "polite", "aria-label": "Quote and result" });
  const form = h(
    "form",
    { class: "stack", "aria-label": "Exchange" },
    field({ label: "From account", name: "from_account_id", type: "select", options: accountOptions(accounts, { onlyActive: true }), required: true }),
    field({ label: "To account", name: "to_account_id", type: "select", options: accountOptions(accounts, { onlyActive: true }), required: true }),
    amountField({ label: "Amount", name: "amount", required: true, hint: "In the currency of the account it comes from." }),
    h("button", { type: "submit", class: "btn" }, "Get a quote"),
  );
  form.addEventListener("input", () => clear(out));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const source = byId(values.from_account_id);
    const target = byId(values.to_account_id);
    if (!source || !target) return;
    const quote = await submitting(form, out, () => get("/fx/quote", { from_currency: source.currency, to_currency: target.currency, amount: values.amount }));
    if (!quote) return;
    clear(out, confirmation(quote, { from_account_id: source.id, to_account_id: target.id, amount: values.amount }, out));
  });
  main.append(h("div", { class: "grid cols-2" }, h("section", { class: "card" }, form), out));
}

function confirmation(quote, body, out) {
  const pin = field({ label: "Transaction PIN", name: "pin", type: "password", inputmode: "numeric", autocomplete: "off", pattern: "[0-9]{4,6}", minlength: 4, maxlength: 6, required: true });
  const confirm = h(
    "form",
    { class: "stack card", "aria-label": "Confirm the exchange", dataset: { quote: quote.to_amount } },
    h("div", { class: "title" }, `${money(quote.from_amount, quote.from_currency)} → ${money(quote.to_amount, quote.to_currency)}`),
    h("p", {}, `Rate: 1 ${quote.base} = ${quote.rate} ${quote.quote}`),
    h("p", {}, `Fee: ${money(quote.fee, quote.fee_currency)} · you pay ${money(quote.total_debited, quote.from_currency)} in all`),
    h("p", { class: "muted" }, "Rounded half to even to the cent; the rate may change before you confirm."),
    pin,
    h("button", { type: "submit", class: "btn primary" }, "Confirm exchange"),
  );
  const result = h("div", { role: "status" });
  confirm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = confirm.querySelector("button");
    button.disabled = true;
    try {
      const tx = await move("/transactions/exchange", { ...body, pin: formValues(confirm).pin });
      markInvalid(confirm, null);
      const done = tx.exchange;
      clear(out, h("div", { class: "alert ok stack", role: "status" }, h("div", { class: "title" }, `Exchanged ${money(done.from_amount, done.from_currency)} to ${money(done.to_amount, done.to_currency)} — transaction #${tx.id}.`), h("a", { href: href(`/transactions/${tx.id}`) }, "See the transaction")));
    } catch (error) {
      markInvalid(confirm, error);
      clear(result, errorBox(error));
    } finally {
      button.disabled = false;
    }
  });
  return h("div", { class: "stack" }, confirm, result);
}
