// Team workflow on the ticket page: typing presence, canned-reply insert, SLA countdowns,
// confirmations. A static file: the CSP allows no inline script.
(function () {
  "use strict";

  // --- Presence: tell the server while this agent is typing a reply or note ------------
  var typingTimer = null;
  var IDLE_MS = 8000;

  function setTyping(value) {
    var field = document.querySelector("[data-presence-typing]");
    if (!field) return;
    var changed = field.value !== value;
    field.value = value;
    if (changed) document.body.dispatchEvent(new CustomEvent("presence-now"));
  }

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (!target || (target.id !== "reply-body" && target.id !== "note-body")) return;
    setTyping(target.value.trim() ? "1" : "");
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { setTyping(""); }, IDLE_MS);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    if (form.querySelector && form.querySelector("#reply-body, #note-body")) setTyping("");
  }, true);

  // htmx forms submit through htmx:confirm; honour data-confirm there too.
  document.addEventListener("htmx:confirm", function (event) {
    var form = event.target.closest && event.target.closest("[data-confirm]");
    if (form && form.tagName === "FORM" && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  // --- Canned replies: insert the rendered text at the cursor --------------------------
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-canned-insert]");
    if (!button) return;
    var item = button.closest("li");
    var source = item && item.querySelector("[data-canned-text]");
    var box = document.getElementById("reply-body");
    if (!source || !box) return;
    var text = source.textContent;
    var start = box.selectionStart || 0;
    var end = box.selectionEnd || 0;
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    box.focus();
    box.selectionStart = box.selectionEnd = start + text.length;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    var picker = button.closest("[data-canned-picker]");
    if (picker) picker.open = false;
  });

  // --- SLA countdowns ------------------------------------------------------------------
  function span(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var mins = minutes % 60;
    if (days) return days + "d " + hours + "h";
    if (hours) return hours + "h " + mins + "m";
    return mins + "m";
  }

  function tick() {
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("datetime"));
      if (isNaN(due)) return;
      var left = due - Date.now();
      var row = el.closest("li");
      el.textContent = left > 0 ? "due in " + span(left) : "overdue by " + span(left);
      if (row) {
        row.classList.toggle("wf-sla-overdue", left <= 0);
        row.classList.toggle("wf-sla-soon", left > 0 && left <= 3600000);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 30000);
  });
})();
