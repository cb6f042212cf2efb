// The colour scheme switch (templates/_theme_switch.html): applies the choice at once and
// stores it (helpdesk/theme.py sets the cookie and brings the reader back).
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var select = event.target.closest ? event.target.closest("[data-theme-select]") : null;
    if (!select) return;
    var root = document.documentElement;
    if (select.value === "light" || select.value === "dark") root.setAttribute("data-theme", select.value);
    else root.removeAttribute("data-theme");
    select.form.requestSubmit();
  });
})();
