/* Tandem help widget, version 1: <script src="https://DESK/widget/v1.js" data-site="KEY" async>.
   Optional: data-lang (else the page's <html lang>) for the panel's language;
   data-user-email and data-user-hash (HMAC-SHA256 of the address with the
   site's secret, hex) for a visitor signed in on the site. The panel is a frame served
   by the desk, so nothing of the desk runs in the site's page but this launcher. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.TandemWidget) { return; }
  var desk = new URL(script.src).origin;
  // The panel speaks the page's language: data-lang on this tag, else <html lang>.
  var lang = script.getAttribute("data-lang") || document.documentElement.lang || "";
  // "Help" in each language of the desk, from the desk's catalogues.
  var labels = {{ labels|safe }};
  var label = labels[lang] || labels[lang.toLowerCase().split("-")[0]] || labels[""];
  var params = new URLSearchParams({
    lang: lang,
    site: script.getAttribute("data-site") || "",
    email: script.getAttribute("data-user-email") || "",
    hash: script.getAttribute("data-user-hash") || "",
    page: window.location.href
  });
  var button = document.createElement("button");
  button.type = "button";
  button.textContent = script.getAttribute("data-label") || label;
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("data-tandem-widget", "launcher");
  button.style.cssText = "position:fixed;right:20px;bottom:20px;z-index:2147483000;padding:12px 18px;" +
    "border:0;border-radius:999px;background:#2f5bea;color:#fff;font:600 15px/1 system-ui,sans-serif;cursor:pointer;" +
    "box-shadow:0 4px 14px rgba(0,0,0,.2)";
  var frame = null;
  function toggle() {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.src = desk + "/widget/v1/frame/?" + params.toString();
      frame.title = label;
      frame.setAttribute("data-tandem-widget", "panel");
      frame.style.cssText = "position:fixed;right:20px;bottom:76px;z-index:2147483000;width:min(380px,calc(100vw - 40px));" +
        "height:min(560px,calc(100vh - 100px));border:1px solid #d0d5dd;border-radius:12px;background:#fff;" +
        "box-shadow:0 8px 30px rgba(0,0,0,.18)";
      document.body.appendChild(frame);
    } else {
      frame.hidden = !frame.hidden;
    }
    button.setAttribute("aria-expanded", String(!frame.hidden));
  }
  button.addEventListener("click", toggle);
  window.TandemWidget = { open: function () { if (!frame || frame.hidden) { toggle(); } } };
  document.body.appendChild(button);
}());
