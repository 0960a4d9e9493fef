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

  // The second step, shown once the password was right and the account has a second factor.
  const codeStep = h(
    "div",
    { class: "stack", hidden: true },
    field({ label: "Sign-in code", name: "totp", inputmode: "numeric", autocomplete: "one-time-code", maxlength: 16, hint: "The 6-digit code of your authenticator app, or one of your recovery codes." }),
  );
  codeStep.querySelector("input").disabled = true;
  const signInForm = h(
    "form",
    { class: "stack", novalidate: false, "aria-label": "Sign in" },
    field({ label: "Username", name: "username", autocomplete: "username", required: true, autofocus: true }),
    field({ label: "Password", name: "password", type: "password", autocomplete: "current-password", required: true }),
    codeStep,
    h("button", { type: "submit", class: "btn primary" }, "Sign in"),
    h("p", { class: "muted small" }, "Forgot your password? Contact the bank: an administrator can send you a reset link."),
    signInOut,
  );
  signInForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { username, password, totp } = formValues(signInForm);
    const session = await submitting(signInForm, signInOut, async () => {
      try {
        return await signIn(username, password, totp || undefined);
      } catch (error) {
        if (error.code === "second_factor_required") {
          codeStep.hidden = false;
          const input = codeStep.querySelector("input");
          input.disabled = false;
          input.required = true;
          setTimeout(() => input.focus());
        }
        throw error;
      }
    });
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
