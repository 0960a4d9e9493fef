// Applies the remembered theme before the first paint, so a light-theme user never sees a dark flash.
(function () {
  try {
    var theme = localStorage.getItem("ledgerbank.theme");
    if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
  } catch (e) {
    /* storage disabled: stay dark */
  }
})();
