// The assist panel (templates/assist/panel.html): "Insert" puts a suggested text into the
// reply box for editing, after what is there; a draft that arrives is inserted the same way.
(function () {
  "use strict";
  function insert(templateId) {
    var source = document.getElementById(templateId);
    var box = document.getElementById("reply-body");
    if (!source || !box) return;
    var text = source.content ? source.content.textContent : source.textContent;
    box.value = box.value.trim() ? box.value.replace(/\s*$/, "") + "\n\n" + text : text;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-assist-insert]");
    if (button) insert(button.getAttribute("data-assist-insert"));
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var marker = event.target.querySelector && event.target.querySelector("[data-assist-autoinsert]");
    if (marker) insert(marker.getAttribute("data-assist-autoinsert"));
  });
})();
