// Help center and portal behaviour that needs script; a static file so the
// Content-Security-Policy can forbid inline code.
(function () {
  "use strict";
  // A second click on "Send request" while the upload runs would file the request twice.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("hx-post") || form.method.toLowerCase() !== "post") return;
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.disabled = true;
      });
    }, 0);
  });
})();
