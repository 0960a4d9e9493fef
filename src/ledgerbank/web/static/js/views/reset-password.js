// The page a reset link opens: choose a new password with the link's one-time token.

import { post } from "../api.js";
import { clear, field, formValues, h, okBox, submitting } from "../ui.js";
import { themeToggle } from "../theme.js";
import { href } from "../router.js";

export default async function render({ root, query }) {
  document.title = "Choose a new password · ledgerbank";
  const token = query.token || "";
  const out = h("div", { "aria-live": "polite" });
  const main = h("main", { class: "card auth-card stack", id: "main", dataset: { ready: "false" } }, h("h1", {}, "Choose a new password"));
  clear(root, h("div", { class: "auth-page" }, h("div", { class: "auth-top" }, themeToggle()), main));
  // The token stays out of the address the browser sends anywhere: it is only POSTed.
  history.replaceState(null, "", "#/reset-password");
  let status;
  try {
    status = await post("/auth/reset-check", { token }, { auth: false });
  } catch (error) {
    main.append(h("div", { class: "alert error", role: "alert" }, error.message), h("a", { href: href("/signin") }, "Go to sign in"));
    main.dataset.ready = "true";
    return;
  }
  const form = h(
    "form",
    { class: "stack", "aria-label": "New password" },
    h("p", {}, `For ${status.username}. Every other session of this profile ends.`),
    field({ label: "New password", name: "new_password", type: "password", autocomplete: "new-password", required: true, minlength: 8, hint: "At least 8 characters, not a common password." }),
    field({ label: "Repeat it", name: "again", type: "password", autocomplete: "new-password", required: true, minlength: 8 }),
    h("button", { type: "submit", class: "btn primary" }, "Set the new password"),
  );
  main.append(form, out);
  main.dataset.ready = "true";
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    if (values.new_password !== values.again) {
      clear(out, h("div", { class: "alert error", role: "alert" }, "The two passwords differ."));
      return;
    }
    const done = await submitting(form, out, () => post("/auth/password-reset", { token, new_password: values.new_password }, { auth: false }));
    if (done === undefined) return;
    form.remove();
    clear(out, okBox("Your password is set. ", h("a", { href: href("/signin") }, "Sign in with it")));
  });
}
