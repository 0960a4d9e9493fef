// The profile: view and edit it, the KYC status, and the transaction PIN.

import { get, put } from "../api.js";
import { date, dateTime, timeZone, title } from "../format.js";
import { clear, field, formValues, h, okBox, statusBadge, submitting } from "../ui.js";

export default async function render(ctx) {
  const { main } = ctx;
  let profile = await get("/users/profile");
  if (!ctx.alive()) return;
  const facts = h("dl", { class: "facts" });
  const showFacts = () =>
    clear(
      facts,
      h("dt", {}, "Username"), h("dd", {}, profile.username),
      h("dt", {}, "Role"), h("dd", {}, title(profile.role)),
      h("dt", {}, "KYC status"), h("dd", {}, statusBadge(profile.kyc_status), " ", h("span", { class: "muted" }, kycText(profile.kyc_status))),
      h("dt", {}, "Date of birth"), h("dd", {}, date(profile.date_of_birth)),
      h("dt", {}, "Customer since"), h("dd", {}, dateTime(profile.created_at)),
      h("dt", {}, "Transaction PIN"), h("dd", {}, profile.has_pin ? "set" : "not set"),
      h("dt", {}, "Time zone"), h("dd", {}, `${timeZone} (every time is shown in it)`),
    );
  showFacts();

  const editOut = h("div", { "aria-live": "polite" });
  const edit = h(
    "form",
    { class: "stack", "aria-label": "Edit profile" },
    field({ label: "Full name", name: "full_name", value: profile.full_name, required: true, maxlength: 200, autocomplete: "name" }),
    field({ label: "Email", name: "email", type: "email", value: profile.email, required: true, autocomplete: "email" }),
    field({ label: "Phone", name: "phone", type: "tel", value: profile.phone || "", autocomplete: "tel", hint: "Leave empty to remove it." }),
    h("button", { type: "submit", class: "btn primary" }, "Save profile"),
    editOut,
  );
  edit.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(edit);
    const saved = await submitting(edit, editOut, () => put("/users/profile", { full_name: values.full_name, email: values.email, phone: values.phone || null }));
    if (saved) {
      profile = { ...profile, ...saved };
      showFacts();
      clear(editOut, okBox("Profile saved."));
    }
  });

  const pinOut = h("div", { "aria-live": "polite" });
  const pinForm = h(
    "form",
    { class: "stack", "aria-label": "Set transaction PIN" },
    field({ label: "New PIN", name: "pin", type: "password", inputmode: "numeric", pattern: "[0-9]{4,6}", minlength: 4, maxlength: 6, required: true, autocomplete: "off", hint: "4–6 digits; asked for withdrawals and transfers." }),
    field({ label: "Current password", name: "password", type: "password", required: true, autocomplete: "current-password" }),
    h("button", { type: "submit", class: "btn primary" }, profile.has_pin ? "Change PIN" : "Set PIN"),
    pinOut,
  );
  pinForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(pinForm);
    const done = await submitting(pinForm, pinOut, () => put("/users/pin", { pin: values.pin, password: values.password }));
    if (done) {
      profile.has_pin = true;
      showFacts();
      pinForm.reset();
      clear(pinOut, okBox("Your transaction PIN is set."));
    }
  });

  main.append(
    ctx.heading("Profile"),
    h(
      "div",
      { class: "grid cols-2" },
      h("section", { class: "card" }, h("h2", {}, profile.full_name), facts),
      h("section", { class: "card" }, h("h2", {}, "Edit details"), edit),
      h("section", { class: "card" }, h("h2", {}, "Transaction PIN"), pinForm),
    ),
  );
}

function kycText(status) {
  return {
    pending: "We are checking your identity documents.",
    verified: "Your identity is verified.",
    rejected: "Your identity check failed; contact us.",
  }[status] || "";
}
