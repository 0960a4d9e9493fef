// Freezing accounts. Staff choose the reason the customer will read (shown in the dialog as the
// customer will see it), apart from their internal note. A customer freezes their own account
// and may lift only a freeze they made. Lifting a compliance freeze waits for a second person.

import { get, post } from "../api.js";
import { clear, errorBox, field, h, okBox, toast } from "../ui.js";

let reasons = null;
async function freezeReasons() {
  reasons ??= get("/accounts/freeze-reasons");
  return reasons;
}

// The staff dialog: customer-facing reason (with its text), internal note; resolves to the
// request body or null.
async function askFreeze(account, frozen) {
  const choices = frozen ? [] : (await freezeReasons()).filter((r) => r.staff_only);
  return new Promise((resolve) => {
    const preview = h("p", { class: "customer-preview", "aria-live": "polite" });
    const select = frozen
      ? null
      : field({ label: "Reason the customer reads", name: "customer_reason", type: "select", value: "account_review", options: choices.map((r) => [r.code, r.code.replaceAll("_", " ")]) });
    const showPreview = () => {
      const code = select.querySelector("select").value;
      clear(preview, h("strong", {}, "The customer will see: "), h("q", {}, choices.find((r) => r.code === code)?.message || ""));
    };
    const form = h(
      "form",
      { method: "dialog", class: "stack" },
      h("h2", {}, `${frozen ? "Unfreeze" : "Freeze"} account ${account.account_number}`),
      frozen && account.frozen_by ? h("p", {}, `Frozen by ${account.frozen_by}.${account.frozen_by === "compliance" ? " Lifting it needs a second person's approval." : ""}`) : null,
      select,
      select ? preview : null,
      field({ label: frozen ? "Reason (internal)" : "Internal note (never shown to the customer)", name: "reason", type: "textarea", required: true, maxlength: 500 }),
      h(
        "div",
        { class: "row" },
        h("button", { class: `btn ${frozen ? "primary" : "danger"}`, type: "submit", value: "ok" }, frozen ? "Unfreeze" : "Freeze"),
        h("button", { class: "btn", type: "button", onclick: () => dialog.close("cancel") }, "Cancel"),
      ),
    );
    const dialog = h("dialog", { "aria-label": `${frozen ? "Unfreeze" : "Freeze"} account` }, form);
    if (select) {
      select.querySelector("select").addEventListener("change", showPreview);
      showPreview();
    }
    dialog.addEventListener("close", () => {
      const reason = form.elements.reason.value.trim();
      const body = { reason };
      if (select) body.customer_reason = select.querySelector("select").value;
      dialog.remove();
      resolve(dialog.returnValue === "ok" && reason ? body : null);
    });
    document.body.append(dialog);
    dialog.showModal();
    form.elements.reason.focus();
  });
}

export function freezeButton(account, out, after, { small = true } = {}) {
  const frozen = account.status === "frozen";
  if (account.status === "closed") return null;
  return h(
    "button",
    {
      type: "button",
      class: `btn ${small ? "small" : ""} ${frozen ? "" : "danger"}`.replace(/\s+/g, " ").trim(),
      onclick: async () => {
        const body = await askFreeze(account, frozen);
        if (!body) return;
        try {
          const answer = await post(`/accounts/${account.id}/${frozen ? "unfreeze" : "freeze"}`, body);
          if (answer.approval_id) {
            clear(out, okBox(`Proposed: ${answer.summary}. It waits for a second person (Approvals).`));
          } else {
            toast(`Account ${account.account_number} ${frozen ? "unfrozen" : "frozen"}.`, "ok");
            clear(out, okBox(`Account ${account.account_number} is now ${frozen ? "active" : "frozen"}.`));
          }
          await after?.();
        } catch (error) {
          clear(out, errorBox(error));
        }
      },
    },
    frozen ? "Unfreeze" : "Freeze",
  );
}

// A customer's own: freeze (a lost card) or lift a freeze they made themselves.
export function customerFreezeButton(account, out, after) {
  if (account.status === "closed") return null;
  const frozen = account.status === "frozen";
  if (frozen && !account.can_unfreeze) return null;
  return h(
    "button",
    {
      type: "button",
      class: `btn small ${frozen ? "" : "danger"}`.trim(),
      onclick: async () => {
        const question = frozen
          ? `Unfreeze account ${account.account_number}? Money can move again.`
          : `Freeze account ${account.account_number}? No money can move in or out until you unfreeze it.`;
        if (!window.confirm(question)) return;
        try {
          await post(`/accounts/${account.id}/${frozen ? "unfreeze" : "freeze"}`, { reason: frozen ? "unfrozen by the customer" : "frozen by the customer" });
          clear(out, okBox(`Account ${account.account_number} is now ${frozen ? "active" : "frozen"}.`));
          await after?.();
        } catch (error) {
          clear(out, errorBox(error));
        }
      },
    },
    frozen ? "Unfreeze" : "Freeze account",
  );
}
