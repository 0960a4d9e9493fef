// Moving money: deposit, withdraw and transfer panels, the PIN when one is set, and the outcome.
// A payment the bank stopped says only that it could not be completed, with a reference:
// never a score, a rule or advice (tipping off).

import { get, move } from "../api.js";
import { money, title } from "../format.js";
import { href } from "../router.js";
import { amountField, clear, compact, errorBox, field, formValues, h, loading, markInvalid, tabs } from "../ui.js";
import { accountOptions } from "./parts.js";

export default async function render(ctx) {
  const { main, query } = ctx;
  main.append(ctx.heading("Transactions"), loading());
  const [accountsPage, profile] = await Promise.all([get("/accounts/"), get("/users/profile")]);
  if (!ctx.alive()) return;
  main.lastChild.remove();
  let accounts = accountsPage.items;
  if (!accounts.length) {
    main.append(h("p", { class: "empty" }, "Open an account first."), h("a", { class: "btn primary", href: href("/accounts") }, "Open an account"));
    return;
  }
  // Money leaving an account always needs the PIN; a customer without one sets it first.
  const pin = () => field({ label: "Transaction PIN", name: "pin", type: "password", inputmode: "numeric", autocomplete: "off", pattern: "[0-9]{4,6}", minlength: 4, maxlength: 6, required: true, hint: "4–6 digits" });
  const preselect = query.account_id;
  const result = h("section", { class: "section", "aria-live": "polite", "aria-label": "Result" });

  const panel = (kind) => {
    const form = h("form", { class: "stack", "aria-label": title(kind), dataset: { kind } });
    if (kind === "transfer") {
      form.append(
        field({ label: "From account", name: "from_account_id", type: "select", options: accountOptions(accounts, { onlyActive: true }), value: preselect, required: true }),
        field({
          label: "To account",
          name: "to_account_id",
          type: "select",
          options: [...accountOptions(accounts), ["other", "Another customer's account…"]],
          required: true,
          onchange: (event) => (form.querySelector(".other-account").hidden = event.target.value !== "other"),
        }),
        h("div", { class: "other-account", hidden: true }, field({ label: "Recipient account number", name: "other_account_number", inputmode: "numeric", pattern: "[0-9]{12}", minlength: 12, maxlength: 12, hint: "The 12-digit account number the recipient gave you." })),
      );
    } else {
      form.append(field({ label: "Account", name: "account_id", type: "select", options: accountOptions(accounts, { onlyActive: true }), value: preselect, required: true }));
    }
    const pinField = kind === "deposit" ? null : pin();
    form.append(
      amountField({ label: "Amount", name: "amount", required: true }),
      field({ label: "Description (optional)", name: "description", maxlength: 500 }),
      ...(pinField ? [pinField] : []),
      h("button", { type: "submit", class: "btn primary" }, { deposit: "Deposit", withdraw: "Withdraw", transfer: "Transfer" }[kind]),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const values = formValues(form);
      const body = compact({ amount: values.amount, description: values.description, pin: values.pin });
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      clear(result, loading("Sending…"));
      try {
        let payee = null;
        if (kind === "transfer") {
          body.from_account_id = Number(values.from_account_id);
          if (values.to_account_id === "other") {
            // Confirmation of payee: the number is looked up, and the result names the holder.
            payee = await get(`/accounts/payee?account_number=${encodeURIComponent(values.other_account_number)}`);
            body.to_account_id = payee.account_id;
          } else body.to_account_id = Number(values.to_account_id);
        } else body.account_id = Number(values.account_id);
        const tx = await move(`/transactions/${kind}`, body);
        markInvalid(form, null);
        clear(result, payee ? h("p", { class: "muted" }, `Paid to ${payee.holder} · ${payee.account_number}`) : null, outcome(tx));
        form.elements.amount.value = "";
        if (form.elements.pin) form.elements.pin.value = "";
        accounts = (await get("/accounts/")).items;
        refreshOptions(forms, accounts);
      } catch (error) {
        markInvalid(form, error);
        clear(result, await failure(error));
      } finally {
        button.disabled = false;
      }
    });
    return form;
  };

  const forms = ["deposit", "withdraw", "transfer"].map(panel);
  const selected = { deposit: 0, withdraw: 1, transfer: 2 }[query.tab] ?? 2;
  const { root } = tabs(
    [
      { label: "Deposit", content: forms[0] },
      { label: "Withdraw", content: forms[1] },
      { label: "Transfer", content: forms[2] },
    ],
    { label: "Kind of transaction", selected, onChange: () => clear(result) },
  );
  main.append(
    h("div", { class: "grid cols-2" }, h("section", { class: "card" }, root), h("div", {}, profile.has_pin ? null : h("p", { class: "alert warn" }, "Set a transaction PIN in your profile before your first withdrawal or transfer.", " ", h("a", { href: href("/profile") }, "Go to your profile")), result)),
  );
}

function refreshOptions(forms, accounts) {
  for (const form of forms) {
    for (const name of ["account_id", "from_account_id"]) {
      const select = form.elements.namedItem(name);
      if (!select) continue;
      const keep = select.value;
      select.replaceChildren(...accountOptions(accounts, { onlyActive: true }).map(([value, label]) => h("option", { value, selected: String(value) === keep }, label)));
    }
  }
}

function outcome(tx) {
  const verb = { deposit: "Deposited", withdrawal: "Withdrew", transfer: "Transferred" }[tx.type] || "Posted";
  return h(
    "div",
    { class: "alert ok stack", role: "status" },
    h("div", { class: "title" }, `${verb} ${money(tx.amount, tx.currency)} — transaction #${tx.id} is ${tx.status}.`),
    h("a", { href: href(`/transactions/${tx.id}`) }, "See the transaction"),
  );
}

// A failure in words. A declined payment says only that it failed and how to reach the bank
// (why is for staff: telling the customer would be tipping off).
async function failure(error) {
  if (error.code === "payment_declined") {
    const reference = (error.problem || {}).reference;
    return h(
      "div",
      { class: "alert error stack", role: "alert", dataset: { code: error.code } },
      h("div", { class: "title" }, "This payment could not be completed. No money moved."),
      h("p", {}, "Please contact us if you need help with it."),
      reference ? h("p", {}, `Reference: ${reference}`) : null,
    );
  }
  if (error.code !== "blocked_by_risk") return errorBox(error);
  const problem = error.problem || {};
  const reference = problem.reference || problem.transaction_id;
  return h(
    "div",
    { class: "alert error stack", role: "alert", dataset: { code: error.code } },
    h("div", { class: "title" }, "This payment could not be completed."),
    h("p", {}, "No money moved. Please contact us", reference ? [", quoting reference ", h("strong", {}, String(reference))] : null, "."),
  );
}
