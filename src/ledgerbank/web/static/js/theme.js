// The light/dark theme: dark by default, the choice remembered in localStorage.

const KEY = "ledgerbank.theme";

export function currentTheme() {
  return document.documentElement.dataset.theme === "light" ? "light" : "dark";
}

export function setTheme(theme) {
  document.documentElement.dataset.theme = theme;
  try {
    localStorage.setItem(KEY, theme);
  } catch {
    /* storage disabled: the choice lasts for this page only */
  }
  window.dispatchEvent(new CustomEvent("ledgerbank:theme", { detail: theme }));
}

// A button that switches the theme; its label says what pressing it does.
export function themeToggle() {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "btn small theme-toggle";
  const sync = () => {
    const dark = currentTheme() === "dark";
    button.textContent = dark ? "☀ Light" : "☾ Dark";
    button.setAttribute("aria-label", dark ? "Switch to the light theme" : "Switch to the dark theme");
    button.setAttribute("aria-pressed", String(!dark));
  };
  button.addEventListener("click", () => {
    setTheme(currentTheme() === "dark" ? "light" : "dark");
    sync();
  });
  sync();
  return button;
}
