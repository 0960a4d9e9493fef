// Sign in / register, as two tabs.

import { post, signIn, takeSessionNotice } from "../api.js";
import { clear, compact, field, formValues, h, okBox, submitting, tabs } from "../ui.js";
import { themeToggle } from "../theme.js";
import { navigate } from "../router.js";

export default function render({ root, query }) {
  document.title = "Sign in · ledgerbank";
  const ended = takeSessionNotice();
  const signInOut = h("div", { "aria-live": "polite" }, ended ? h("div", { class: "alert warn", role: "status" }, ended) : null);
  const registerOut = h("div", { "aria-live": "polite" });

  const signInForm = h(
    "form",
    { class: "stack", novalidate: false, "aria-label": "Sign in" },
    field({ label: "Username", name: "username", autocomplete: "username", required: true, autofocus: true }),
    field({ label: "Password", name: "password", type: "password", autocomplete: "current-password", required: true }),
    h("button", { type: "submit", class: "btn primary" }, "Sign in"),
    signInOut,
  );
  signInForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { username, password } = formValues(signInForm);
    const session = await submitting(signInForm, signInOut, () => signIn(username, password));
    if (session) navigate("/");
  });

  const registerForm = h(
    "form",
    { class: "stack", "aria-label": "Register" },
    field({ label: "Full name", name: "full_name", autocomplete: "name", required: true, maxlength: 200 }),
    field({ label: "Email", name: "email", type: "email", autocomplete: "email", required: true }),
    field({ label: "Date of birth", name: "date_of_birth", type: "date", required: true }),
    field({ label: "Phone (optional)", name: "phone", type: "tel", autocomplete: "tel" }),
    field({ label: "Username", name: "username", autocomplete: "username", required: true, maxlength: 64 }),
    field({ label: "Password", name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 8, hint: "At least 8 characters, not a common password." }),
    h("button", { type: "submit", class: "btn primary" }, "Create my account"),
    registerOut,
  );
  registerForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = compact(formValues(registerForm));
    const session = await submitting(registerForm, registerOut, async () => {
      await post("/auth/register", values, { auth: false });
      clear(registerOut, okBox("Welcome! Your profile was created; signing you in…"));
      return signIn(values.username, values.password);
    });
    if (session) navigate("/");
  });

  const { root: tabRoot } = tabs(
    [
      { label: "Sign in", content: signInForm },
      { label: "Register", content: registerForm },
    ],
    { label: "Sign in or register", selected: query.tab === "register" ? 1 : 0 },
  );
  clear(
    root,
    h(
      "div",
      { class: "auth-page" },
      h("div", { class: "auth-top" }, themeToggle()),
      h(
        "main",
        { class: "card auth-card", id: "main" },
        h("div", { class: "brand" }, h("img", { src: "/static/img/logo.svg", alt: "" }), h("h1", { class: "visually-hidden" }, "ledgerbank"), "ledgerbank"),
        tabRoot,
      ),
    ),
  );
}
