// Moving money: deposit, withdraw and transfer panels, the PIN when one is set, and the outcome.
// A payment the bank stopped says only that it could not be completed, with a reference:
// never a score, a rule or advice (tipping off).

import { get, move, post } from "../api.js";
import { money, title } from "../format.js";
import { href } from "../router.js";
import { amountField, checkbox, clear, compact, errorBox, field, formValues, h, loading, markInvalid, tabs } from "../ui.js";
import { accountOptions } from "./parts.js";

export default async function render(ctx) {
  const { main, query } = ctx;
  main.append(ctx.heading("Transactions"), loading());
  const [accountsPage, profile, payeePage] = await Promise.all([get("/accounts/"), get("/users/profile"), get("/payees")]);
  const payees = payeePage.items.filter((payee) => payee.payable);
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
          options: [...accountOptions(accounts), ...payees.map((p) => [`payee:${p.id}`, `${p.nickname} — ${p.holder} ${p.account_number}`]), ["other", "Another customer's account…"]],
          value: query.payee_id ? `payee:${query.payee_id}` : undefined,
          required: true,
          onchange: (event) => (form.querySelector(".other-account").hidden = event.target.value !== "other"),
        }),
        h("div", { class: "other-account", hidden: query.other !== "1" }, field({ label: "Recipient account number", name: "other_account_number", inputmode: "numeric", pattern: "[0-9]{12}", minlength: 12, maxlength: 12, hint: "The 12-digit account number the recipient gave you." })),
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
    // Any change after a review makes it stale: the customer reviews what they will send.
    form.addEventListener("input", () => result.querySelector("[data-review]") && clear(result));
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
            // Confirmation of payee: the number is looked up and the holder named before any
            // money moves; the customer confirms or changes the payment.
            const found = await get("/accounts/payee", { account_number: values.other_account_number }).catch((error) => {
              if (error.code === "not_found") error.message = "No account can be paid with that number. Check it with the person you are paying.";
              throw error;
            });
            payee = { holder: found.holder, account_number: `··${found.account_number.slice(-4)}`, account_id: found.account_id, number: found.account_number, saved: false };
          } else if (values.to_account_id.startsWith("payee:")) {
            const saved = payees.find((p) => `payee:${p.id}` === values.to_account_id);
            payee = { holder: saved.holder, account_number: saved.account_number, account_id: saved.account_id, nickname: saved.nickname, saved: true };
          } else body.to_account_id = Number(values.to_account_id);
          if (payee) {
            body.to_account_id = payee.account_id;
            const from = accounts.find((a) => a.id === body.from_account_id);
            clear(result, review({ payee, body, from, onConfirm: (save) => send(body, payee, save), onChange: () => { clear(result); form.elements.amount.focus(); } }));
            return;
          }
        } else body.account_id = Number(values.account_id);
        await send(body, null, false);
      } catch (error) {
        markInvalid(form, error);
        clear(result, await failure(error));
      } finally {
        button.disabled = false;
      }
    });

    const send = async (body, payee, save) => {
      clear(result, loading("Sending…"));
      try {
        const tx = await move(`/transactions/${kind}`, body);
        markInvalid(form, null);
        let saved = null;
        if (save && payee && !payee.saved) {
          saved = await post("/payees", { account_number: payee.number }).then(() => "Saved as a payee.", () => "The payment went through, but the payee could not be saved.");
        }
        clear(result, payee ? h("p", { class: "muted" }, `Paid to ${payee.holder} ${payee.account_number}`) : null, outcome(tx), saved ? h("p", { class: "muted" }, saved) : null);
        form.elements.amount.value = "";
        if (form.elements.pin) form.elements.pin.value = "";
        accounts = (await get("/accounts/")).items;
        refreshOptions(forms, accounts);
      } catch (error) {
        markInvalid(form, error);
        clear(result, await failure(error));
      }
    };
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

// The review step of a payment to someone else: whom it reaches as the bank holds it, the
// masked account, the amount; nothing moves until the customer confirms.
function review({ payee, body, from, onConfirm, onChange }) {
  const save = payee.saved ? null : checkbox({ label: "Save this payee for next time", name: "save_payee" });
  const box = h(
    "section",
    { class: "card review stack", "aria-label": "Check the payment", dataset: { review: "true" } },
    h("h2", {}, "Check before you pay"),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Payee"), h("dd", { class: "payee-name" }, payee.holder, payee.nickname ? h("span", { class: "muted" }, ` (${payee.nickname})`) : null),
      h("dt", {}, "Account"), h("dd", {}, payee.account_number),
      h("dt", {}, "Amount"), h("dd", { class: "amount" }, money(body.amount, from?.currency || "USD")),
      h("dt", {}, "From"), h("dd", {}, from ? `${title(from.account_type)} ··${String(from.account_number).slice(-4)}` : "—"),
      body.description ? [h("dt", {}, "Description"), h("dd", {}, body.description)] : null,
    ),
    h("p", { class: "muted" }, "This is the name the bank holds for the account. If it is not who you expect, do not pay: check the number with them."),
    save,
    h(
      "div",
      { class: "row" },
      h("button", { type: "button", class: "btn primary", dataset: { action: "confirm" }, onclick: (event) => { event.currentTarget.disabled = true; onConfirm(Boolean(save?.querySelector("input").checked)); } }, "Confirm and pay"),
      h("button", { type: "button", class: "btn", onclick: onChange }, "Change"),
    ),
  );
  return box;
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
