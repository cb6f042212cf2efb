// Help center and portal behaviour that needs script; a static file so the
// Content-Security-Policy can forbid inline code.
(function () {
  "use strict";
  // A second click on "Send request" while the upload runs would file the request twice.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    // getAttribute: a field named "method" (the sign-in forms have one) hides form.method.
    var method = (form.getAttribute("method") || "get").toLowerCase();
    if (form.hasAttribute("hx-post") || method !== "post") return;
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.disabled = true;
      });
    }, 0);
  });
})();
