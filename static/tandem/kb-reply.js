// The reply box's knowledge-base search: insert an article's link or text into the reply.
// A static file (no inline script) so the Content-Security-Policy can forbid inline code.
(function () {
  "use strict";

  function insertAtCursor(textarea, text) {
    var start = textarea.selectionStart || 0;
    var end = textarea.selectionEnd || 0;
    var before = textarea.value.slice(0, start);
    var after = textarea.value.slice(end);
    var spacer = before && !/\n$/.test(before) ? "\n\n" : "";
    textarea.value = before + spacer + text + after;
    var caret = (before + spacer + text).length;
    textarea.focus();
    textarea.setSelectionRange(caret, caret);
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-kb-insert]");
    if (!button) return;
    var box = button.closest("[data-kb-target]");
    var scope = (box && box.closest("form")) || document;
    var textarea = scope.querySelector(box ? box.getAttribute("data-kb-target") : "textarea");
    if (!textarea) return;
    var text = button.getAttribute("data-kb-insert") === "link"
      ? button.getAttribute("data-kb-title") + ": " + button.getAttribute("data-kb-url")
      : button.getAttribute("data-kb-text");
    insertAtCursor(textarea, text);
    button.textContent = "Inserted ✓";
  });

  // Enter in the article search must search, not send the reply it sits in.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches("[data-kb-reply-search]")) {
      event.preventDefault();
    }
  });
})();
