// Closing one's own account: interest owed to today is paid in first, the rest moves to another
// of one's accounts in the same currency (with the PIN), then the account refuses every
// movement; its statements stay readable.

import { move } from "../api.js";
import { money } from "../format.js";
import { clear, errorBox, field, h, okBox } from "../ui.js";

// What closing will ask: an account with money in it needs somewhere to move it.
function askClose(account, accounts) {
  const targets = accounts.filter((a) => a.id !== account.id && a.status === "active" && a.currency === account.currency);
  const empty = Number(account.balance) === 0;
  const options = targets.map((a) => [String(a.id), `${a.account_type} ${a.account_number} (${money(a.balance, a.currency)})`]);
  return new Promise((resolve) => {
    const form = h(
      "form",
      { method: "dialog", class: "stack", "aria-label": "Close the account" },
      h("h2", {}, `Close account ${account.account_number}`),
      h("p", {}, "Interest owed to today is paid in first. Once closed, no money can move in or out; its statements stay available."),
      options.length
        ? field({ label: "Move the rest to", name: "move_to", type: "select", options: empty ? [["", "Nothing to move"], ...options] : options, required: !empty })
        : h("p", { class: "muted" }, empty ? "" : `Open another ${account.currency} account first: the money in this one needs somewhere to go.`),
      options.length ? field({ label: "Transaction PIN", name: "pin", type: "password", inputmode: "numeric", autocomplete: "off", pattern: "[0-9]{4,6}", minlength: 4, maxlength: 6, hint: "needed to move the rest" }) : null,
      h(
        "div",
        { class: "row" },
        h("button", { class: "btn danger", type: "submit", value: "ok", disabled: !empty && !options.length }, "Close account"),
        h("button", { class: "btn", type: "button", onclick: () => dialog.close("cancel") }, "Cancel"),
      ),
    );
    const dialog = h("dialog", { "aria-label": "Close account" }, form);
    // the PIN is needed exactly when money moves out (the browser's own check asks for it)
    const needsPin = () => {
      if (form.elements.pin) form.elements.pin.required = Boolean(form.elements.move_to?.value);
    };
    form.elements.move_to?.addEventListener("change", needsPin);
    needsPin();
    dialog.addEventListener("close", () => {
      const target = form.elements.move_to?.value;
      const body = { reason: "closed by the customer" };
      if (target) Object.assign(body, { move_to_account_id: Number(target), pin: form.elements.pin.value });
      dialog.remove();
      resolve(dialog.returnValue === "ok" ? body : null);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

export function closeAccountButton(account, accounts, out, after) {
  if (account.status !== "active") return null;
  return h(
    "button",
    {
      type: "button",
      class: "btn small",
      onclick: async () => {
        const body = await askClose(account, accounts);
        if (!body) return;
        try {
          const closed = await move(`/accounts/${account.id}/close`, body);
          const said = [`Account ${account.account_number} is closed.`];
          if (closed.interest_paid) said.push(`Interest paid in: ${money(closed.interest_paid.amount, closed.interest_paid.currency)}.`);
          if (closed.moved_out) said.push(`Moved out: ${money(closed.moved_out.amount, closed.moved_out.currency)}.`);
          clear(out, okBox(said.join(" ")));
          await after?.();
        } catch (error) {
          clear(out, errorBox(error));
        }
      },
    },
    "Close account",
  );
}
