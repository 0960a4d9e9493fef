// Security: security notices, the password, two-step sign-in and signing out everywhere.

import { endSession, get, getSession, post, put, startSession } from "../api.js";
import { dateTime } from "../format.js";
import { clear, errorBox, field, formValues, h, okBox, submitting } from "../ui.js";

// The QR code of an otpauth URI, drawn by the server as SVG and shown as an image.
export function qrImage(svg) {
  const src = svg.startsWith("data:") ? svg : `data:image/svg+xml;utf8,${encodeURIComponent(svg)}`;
  return h("img", { class: "qr", src, alt: "QR code for an authenticator app", width: 180, height: 180 });
}

export function recoveryCodes(codes) {
  return h("ol", { class: "recovery-codes mono", "aria-label": "Recovery codes" }, codes.map((code) => h("li", {}, code)));
}

// A link to the notices with the number of unread ones (the shell's top bar).
export function noticeLink() {
  const link = h("a", { href: "#/security", class: "btn small notice-link", hidden: true }, "");
  get("/users/notices", { limit: 1 })
    .then((page) => {
      if (page.unread > 0) {
        link.textContent = `${page.unread} security notice${page.unread === 1 ? "" : "s"}`;
        link.hidden = false;
      }
    })
    .catch(() => {});
  return link;
}

export default async function render(ctx) {
  const { main } = ctx;
  const session = getSession();
  const [status, notices] = await Promise.all([get("/users/2fa"), get("/users/notices", { limit: 20 })]);
  if (!ctx.alive()) return;

  const noticeList = h(
    "section",
    { class: "card", "aria-label": "Security notices" },
    h("h2", {}, "Security notices"),
    notices.items.length
      ? h("ul", { class: "notices" }, notices.items.map((n) => h("li", { class: n.read ? "" : "unread", dataset: { kind: n.kind } }, h("strong", {}, n.message), " ", h("span", { class: "muted" }, dateTime(n.created_at)), n.detail?.address ? h("span", { class: "muted" }, ` · from ${n.detail.address}`) : null, n.detail?.message ? h("div", {}, n.detail.message) : null)))
      : h("p", { class: "empty" }, "No notices: nothing has changed about your sign-in."),
  );
  if (notices.unread) post("/users/notices/read", {}).catch(() => {});

  const passwordOut = h("div", { "aria-live": "polite" });
  const passwordForm = h(
    "form",
    { class: "stack", "aria-label": "Change password" },
    field({ label: "Current password", name: "current_password", type: "password", autocomplete: "current-password", required: true }),
    field({ label: "New password", name: "new_password", type: "password", autocomplete: "new-password", required: true, minlength: 8 }),
    h("button", { type: "submit", class: "btn primary" }, "Change password"),
    passwordOut,
  );
  passwordForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(passwordForm);
    const answer = await submitting(passwordForm, passwordOut, () => put("/users/password", values));
    if (!answer) return;
    await startSession(answer, session.username);
    passwordForm.reset();
    clear(passwordOut, okBox("Your password is changed. Every other session has ended."));
  });

  const factor = h("section", { class: "card stack", "aria-label": "Two-step sign-in" }, h("h2", {}, "Two-step sign-in"));
  const showFactor = (current) => {
    const out = h("div", { "aria-live": "polite" });
    clear(factor, h("h2", {}, "Two-step sign-in"));
    if (current.enabled) {
      factor.append(okBox(`On. ${current.recovery_codes_left} recovery code${current.recovery_codes_left === 1 ? "" : "s"} left.`));
      if (current.required) {
        factor.append(h("p", { class: "muted" }, "Staff must keep it on. If you lose your phone, an administrator can reset it (a second administrator approves)."));
        return;
      }
      const off = h(
        "form",
        { class: "stack", "aria-label": "Turn off two-step sign-in" },
        field({ label: "Password", name: "password", type: "password", autocomplete: "current-password", required: true }),
        field({ label: "Code from the app", name: "code", inputmode: "numeric", autocomplete: "one-time-code", required: true, maxlength: 16 }),
        h("button", { type: "submit", class: "btn danger" }, "Turn off"),
        out,
      );
      off.addEventListener("submit", async (event) => {
        event.preventDefault();
        const done = await submitting(off, out, () => post("/users/2fa/disable", formValues(off)));
        if (done !== undefined) endSession("Two-step sign-in is off. Sign in again.");
      });
      factor.append(off);
      return;
    }
    factor.append(h("p", {}, "Protect your profile with a code from an authenticator app on your phone, asked at every sign-in."));
    const start = h("button", { type: "button", class: "btn primary" }, "Set up two-step sign-in");
    start.addEventListener("click", async () => {
      let setup;
      try {
        setup = await post("/users/2fa/setup");
      } catch (error) {
        clear(out, errorBox(error));
        return;
      }
      const confirm = h(
        "form",
        { class: "stack", "aria-label": "Confirm two-step sign-in" },
        field({ label: "Code from the app", name: "code", inputmode: "numeric", autocomplete: "one-time-code", required: true, maxlength: 8 }),
        h("button", { type: "submit", class: "btn primary" }, "Turn on"),
      );
      confirm.addEventListener("submit", async (event) => {
        event.preventDefault();
        const enabled = await submitting(confirm, out, () => post("/users/2fa/enable", formValues(confirm)));
        if (!enabled) return;
        await startSession(enabled, session.username);
        clear(factor, h("h2", {}, "Two-step sign-in"), okBox("Two-step sign-in is on. Keep these recovery codes safe; they are shown only now."), recoveryCodes(enabled.recovery_codes));
      });
      start.replaceWith(h("div", { class: "stack" }, qrImage(setup.qr_svg), h("p", {}, "Secret: ", h("code", { class: "mono" }, setup.secret)), confirm));
    });
    factor.append(start, out);
  };
  showFactor(status);

  const everywhereOut = h("div", { "aria-live": "polite" });
  const everywhere = h(
    "section",
    { class: "card stack", "aria-label": "Sign out everywhere" },
    h("h2", {}, "Sign out everywhere"),
    h("p", {}, "Ends every session of your profile, on every device, this one included."),
    h("button", { type: "button", class: "btn danger", onclick: async () => {
      try {
        await post("/auth/logout-all");
        endSession("You were signed out everywhere.");
      } catch (error) {
        clear(everywhereOut, errorBox(error));
      }
    } }, "Sign out everywhere"),
    everywhereOut,
  );

  main.append(
    ctx.heading("Security"),
    h("div", { class: "grid cols-2" }, noticeList, h("section", { class: "card" }, h("h2", {}, "Password"), passwordForm), factor, everywhere),
  );
}

