// "I don't recognise this": a customer reports a transaction; the bank's fraud team looks into it.
// The answer says what happens next, and nothing about how the bank assesses it.

import { post } from "../api.js";
import { href } from "../router.js";
import { clear, errorBox, field, h } from "../ui.js";

export function unrecognisedButton(tx, out) {
  return h(
    "button",
    {
      type: "button", class: "btn", dataset: { action: "unrecognised" },
      onclick: async () => {
        const note = await askNote(tx);
        if (note === null) return;
        try {
          const answer = await post(`/transactions/${tx.id}/unrecognised`, note ? { note } : {});
          clear(out, received(answer));
        } catch (error) {
          clear(out, errorBox(error));
        }
      },
    },
    "I don't recognise this",
  );
}

function received(answer) {
  return h(
    "div",
    { class: "alert ok stack", role: "status", dataset: { reported: "true" } },
    h("div", { class: "title" }, answer.already_reported ? "You have already reported this transaction. We are looking into it." : "Thank you. We are looking into this transaction."),
    h("p", {}, "What happens next:"),
    h("ul", {}, answer.next_steps.map((step) => h("li", {}, step))),
    h("a", { href: href("/accounts") }, "Freeze an account"),
  );
}

// Resolves to the note (possibly "") or null when the customer cancels.
function askNote(tx) {
  return new Promise((resolve) => {
    const form = h(
      "form",
      { method: "dialog", class: "stack", "aria-label": "Report a transaction" },
      h("h2", {}, `Report transaction #${tx.id}`),
      h("p", {}, "Tell us you don't recognise this transaction. Our fraud team will look into it; no money moves because you report it."),
      field({ label: "What do you know about it? (optional)", name: "note", type: "textarea", maxlength: 500 }),
      h("div", { class: "row" }, h("button", { class: "btn primary", type: "submit", value: "ok" }, "Report it"), h("button", { class: "btn", type: "button", onclick: () => dialog.close("cancel") }, "Cancel")),
    );
    const dialog = h("dialog", { "aria-label": "Report a transaction" }, form);
    dialog.addEventListener("close", () => {
      const note = form.elements.note.value.trim();
      dialog.remove();
      resolve(dialog.returnValue === "ok" ? note : null);
    });
    document.body.append(dialog);
    dialog.showModal();
    form.elements.note.focus();
  });
}
