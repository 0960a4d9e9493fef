// Two-step sign-in enrolment, for staff whose sign-in gave a token that can only enrol: the QR
// code (or the secret to type), a code to prove it, then the recovery codes, shown once.

import { getSession, post, signOut, startSession } from "../api.js";
import { clear, field, formValues, h, okBox, submitting } from "../ui.js";
import { themeToggle } from "../theme.js";
import { navigate } from "../router.js";
import { recoveryCodes, qrImage } from "./security.js";

export default async function render({ root }) {
  document.title = "Set up two-step sign-in · ledgerbank";
  const session = getSession();
  const out = h("div", { "aria-live": "polite" });
  const body = h("div", { class: "stack" }, h("p", { class: "loading", role: "status" }, "Preparing your secret…"));
  clear(
    root,
    h(
      "div",
      { class: "auth-page" },
      h("div", { class: "auth-top" }, themeToggle()),
      h(
        "main",
        { class: "card auth-card stack", id: "main", dataset: { ready: "false" } },
        h("h1", {}, "Set up two-step sign-in"),
        h("p", {}, `Staff sign in with a code from an authenticator app as well as the password. Scan the code below with your app (or type the secret), then enter the 6-digit code it shows.`),
        body,
        out,
        h("button", { type: "button", class: "btn small", onclick: () => signOut() }, "Cancel and sign out"),
      ),
    ),
  );
  const main = root.querySelector("main");
  let setup;
  try {
    setup = await post("/users/2fa/setup");
  } catch (error) {
    clear(body);
    clear(out, h("div", { class: "alert error", role: "alert" }, error.message));
    main.dataset.ready = "true";
    return;
  }
  const form = h(
    "form",
    { class: "stack", "aria-label": "Confirm two-step sign-in" },
    field({ label: "Code from the app", name: "code", inputmode: "numeric", autocomplete: "one-time-code", required: true, pattern: "[0-9 ]{6,8}", maxlength: 8 }),
    h("button", { type: "submit", class: "btn primary" }, "Turn on two-step sign-in"),
  );
  clear(
    body,
    qrImage(setup.qr_svg),
    h("p", {}, "Secret: ", h("code", { class: "mono", dataset: { secret: setup.secret } }, setup.secret)),
    form,
  );
  main.dataset.ready = "true";
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { code } = formValues(form);
    const enabled = await submitting(form, out, () => post("/users/2fa/enable", { code }));
    if (!enabled) return;
    await startSession(enabled, session.username);
    main.querySelector("button.btn.small")?.remove(); // nothing to cancel any more
    clear(
      body,
      okBox("Two-step sign-in is on. Keep these recovery codes somewhere safe: each one signs you in once if you lose your phone. They are shown only now."),
      recoveryCodes(enabled.recovery_codes),
      h("button", { type: "button", class: "btn primary", onclick: () => navigate("/") }, "Continue"),
    );
    clear(out);
  });
}
