// Rates: the bank's exchange rates and interest rates with their history; financial managers
// and admins set new ones (each audited; history is kept, never rewritten).

import { get, put } from "../api.js";
import { dateTime } from "../format.js";
import { clear, compact, field, formValues, h, loading, okBox, submitting, table } from "../ui.js";

const MANAGERS = ["financial_manager", "admin"];

export default async function render(ctx) {
  const { main } = ctx;
  main.append(ctx.heading("Rates"), loading());
  const fxSection = h("section", { class: "section" });
  const interestSection = h("section", { class: "section" });
  const refresh = async () => {
    const [fx, interest] = await Promise.all([get("/fx/rates"), get("/interest/rates")]);
    if (!ctx.alive()) return;
    clear(fxSection, h("h2", {}, "Exchange rates"), table({
      caption: "Exchange rates, newest first per pair",
      columns: [
        { label: "Pair", render: (r) => `${r.base}/${r.quote}` },
        { label: "Rate", render: (r) => r.rate },
        { label: "Valid from", render: (r) => dateTime(r.valid_from) },
      ],
      rows: fx.items,
      emptyText: "No exchange rates yet.",
    }));
    clear(interestSection, h("h2", {}, "Interest rates"), table({
      caption: "Annual interest rates per product, newest first",
      columns: [
        { label: "Product", render: (r) => r.account_type },
        { label: "Annual rate", render: (r) => r.annual_rate },
        { label: "Valid from", render: (r) => r.valid_from },
      ],
      rows: interest.items,
      emptyText: "No interest rates yet.",
    }));
  };
  await refresh();
  main.lastChild.remove();
  main.append(fxSection, interestSection);
  if (!MANAGERS.includes(ctx.role)) return;

  const fxOut = h("div", { "aria-live": "polite" });
  const fxForm = h(
    "form",
    { class: "stack card", "aria-label": "Set an exchange rate" },
    h("h2", {}, "Set an exchange rate"),
    field({ label: "Base currency", name: "base", required: true, minlength: 3, maxlength: 3, placeholder: "EUR" }),
    field({ label: "Quote currency", name: "quote", required: true, minlength: 3, maxlength: 3, placeholder: "USD" }),
    field({ label: "Rate (quote per one base)", name: "rate", required: true, inputmode: "decimal", placeholder: "1.0850" }),
    field({ label: "Valid from (optional, default now)", name: "valid_from", type: "datetime-local" }),
    h("button", { type: "submit", class: "btn primary" }, "Set rate"),
    fxOut,
  );
  fxForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(fxForm);
    const body = compact({ base: values.base.toUpperCase(), quote: values.quote.toUpperCase(), rate: values.rate, valid_from: values.valid_from ? new Date(values.valid_from).toISOString() : "" });
    const saved = await submitting(fxForm, fxOut, () => put("/fx/rates", body));
    if (saved) {
      clear(fxOut, okBox(`${saved.base}/${saved.quote} ${saved.rate} from ${dateTime(saved.valid_from)}`));
      await refresh();
    }
  });
  const interestOut = h("div", { "aria-live": "polite" });
  const interestForm = h(
    "form",
    { class: "stack card", "aria-label": "Set an interest rate" },
    h("h2", {}, "Set an interest rate"),
    field({ label: "Product", name: "account_type", type: "select", options: [["savings", "Savings"], ["checking", "Checking"], ["wallet", "Wallet"]], value: "savings" }),
    field({ label: "Annual rate (0.025 is 2.5 %)", name: "annual_rate", required: true, inputmode: "decimal" }),
    field({ label: "Valid from", name: "valid_from", type: "date", required: true }),
    h("button", { type: "submit", class: "btn primary" }, "Set rate"),
    interestOut,
  );
  interestForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const saved = await submitting(interestForm, interestOut, () => put("/interest/rates", formValues(interestForm)));
    if (saved) {
      clear(interestOut, okBox(`${saved.account_type}: ${saved.annual_rate} from ${saved.valid_from}`));
      await refresh();
    }
  });
  main.append(h("div", { class: "grid cols-2" }, fxForm, interestForm));
}
