// Tandem agent workspace: keyboard shortcuts and small progressive enhancements.
// Loaded as a static file (CSP allows scripts from 'self' only; no inline script).
(function () {
  "use strict";

  // Validation errors come back as 422 with the re-rendered form: swap them like a 200.
  document.addEventListener("DOMContentLoaded", function () {
    if (window.htmx) {
      window.htmx.config.responseHandling = [
        { code: "204", swap: false },
        { code: "[23]..", swap: true },
        { code: "422", swap: true },
        { code: "[45]..", swap: false, error: true },
      ];
      // Swapped-in controls work at once. htmx wires up new content when it "settles",
      // 20 ms after the swap by default: a change made in that window (the status select
      // of a panel a note just re-rendered) went nowhere. We animate nothing on settle.
      window.htmx.config.defaultSettleDelay = 0;
    }
  });

  function isTyping(target) {
    if (!target) return false;
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  // --- Ticket list: j/k selection ---------------------------------------------------
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-ticket-list] .ticket-row"));
  }

  function currentIndex(list) {
    for (var i = 0; i < list.length; i++) {
      if (list[i].classList.contains("is-current")) return i;
    }
    return -1;
  }

  function select(list, index) {
    if (!list.length) return;
    index = Math.max(0, Math.min(list.length - 1, index));
    list.forEach(function (row) { row.classList.remove("is-current"); row.removeAttribute("aria-current"); });
    var row = list[index];
    row.classList.add("is-current");
    row.setAttribute("aria-current", "true");
    row.scrollIntoView({ block: "nearest" });
  }

  function openCurrent() {
    var list = rows();
    var i = currentIndex(list);
    if (i >= 0 && list[i].dataset.href) window.location.href = list[i].dataset.href;
  }

  function toggleCurrent() {
    var list = rows();
    var i = currentIndex(list);
    if (i < 0) return;
    var box = list[i].querySelector("input[type=checkbox]");
    if (box) { box.checked = !box.checked; updateSelectedCount(); }
  }

  // --- Ticket page ------------------------------------------------------------------
  function showPane(name) {
    var composer = document.querySelector("[data-composer]");
    if (!composer) return false;
    composer.querySelectorAll("[data-pane]").forEach(function (pane) {
      pane.hidden = pane.dataset.pane !== name;
    });
    composer.querySelectorAll("[data-tab]").forEach(function (tab) {
      tab.setAttribute("aria-selected", tab.dataset.tab === name ? "true" : "false");
    });
    var area = composer.querySelector("[data-pane='" + name + "'] textarea");
    if (area) area.focus();
    return true;
  }

  function click(selector) {
    var el = document.querySelector(selector);
    if (el) el.click();
    return !!el;
  }

  // --- Help overlay -----------------------------------------------------------------
  function help(open) {
    var overlay = document.getElementById("help-overlay");
    if (!overlay) return;
    overlay.hidden = !open;
  }

  document.addEventListener("keydown", function (event) {
    var overlay = document.getElementById("help-overlay");
    if (event.key === "Escape") {
      if (overlay && !overlay.hidden) { help(false); return; }
      if (closeDefinitions()) return;
      if (isTyping(event.target)) event.target.blur();
      return;
    }
    // Ctrl/Cmd+Enter sends the form being written.
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.form) {
      event.preventDefault();
      event.target.form.requestSubmit();
      return;
    }
    if (isTyping(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    var list = rows();
    var handled = true;
    switch (event.key) {
      case "j": select(list, currentIndex(list) + 1); break;
      case "k": select(list, currentIndex(list) < 0 ? 0 : currentIndex(list) - 1); break;
      case "o": case "Enter": if (list.length) { openCurrent(); } else { handled = false; } break;
      case "x": toggleCurrent(); break;
      case "r": handled = showPane("reply"); break;
      case "n": handled = showPane("note"); break;
      case "e": handled = click("[data-solve]"); break;
      case "a": {
        var assignee = document.getElementById("prop-assignee");
        if (assignee) { assignee.focus(); } else { var bulk = document.querySelector("#bulk-form select[name=assignee]"); if (bulk) bulk.focus(); else handled = false; }
        break;
      }
      case "u": handled = click("[data-back]"); break;
      case "/": {
        var search = document.getElementById("search-input");
        if (search) { search.focus(); search.select(); } else handled = false;
        break;
      }
      case "?": help(overlay ? overlay.hidden : false); break;
      default: handled = false;
    }
    if (handled) event.preventDefault();
  });

  // --- Definitions on demand (a dashboard card's "?"): Escape or a click elsewhere closes.
  function closeDefinitions(keep) {
    var closed = false;
    document.querySelectorAll("details.define[open]").forEach(function (box) {
      if (box === keep) return;
      box.open = false;
      closed = true;
    });
    return closed;
  }

  // --- Clicks -----------------------------------------------------------------------
  document.addEventListener("click", function (event) {
    var target = event.target;
    closeDefinitions(target.closest("details.define"));
    if (target.closest("[data-help-open]")) { help(true); return; }
    if (target.closest("[data-help-close]") || target.id === "help-overlay") { help(false); return; }
    var tab = target.closest("[data-tab]");
    if (tab) { showPane(tab.dataset.tab); return; }
    // A click anywhere on a row (not on a link or checkbox) opens the ticket.
    var row = target.closest(".ticket-row");
    if (row && !target.closest("a, input, button, label") && row.dataset.href) {
      window.location.href = row.dataset.href;
    }
  });

  // --- Filters submit on change; bulk selection count --------------------------------
  document.addEventListener("change", function (event) {
    var target = event.target;
    var filters = target.closest("form[data-autosubmit]");
    if (filters) { filters.requestSubmit(); return; }
    if (target.matches("[data-select-all]")) {
      document.querySelectorAll("input[name=tickets][form=bulk-form]").forEach(function (box) {
        box.checked = target.checked;
      });
    }
    if (target.matches("input[name=tickets], [data-select-all]")) updateSelectedCount();
  });

  function updateSelectedCount() {
    var n = document.querySelectorAll("input[name=tickets][form=bulk-form]:checked").length;
    var label = document.querySelector("[data-selected-count]");
    if (label) label.textContent = n + " selected";
    var bar = document.querySelector("[data-bulk]");
    if (bar) bar.classList.toggle("has-selection", n > 0);
  }

  // A request htmx does not swap (413, 5xx, network down) still tells the agent why.
  function toast(text) {
    var box = document.createElement("div");
    box.className = "toast toast-error";
    box.setAttribute("role", "alert");
    box.textContent = text;
    document.body.appendChild(box);
    setTimeout(function () { box.remove(); }, 6000);
  }
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var type = xhr.getResponseHeader("Content-Type") || "";
    toast(type.indexOf("text/plain") === 0 && xhr.responseText ? xhr.responseText
      : "That did not work (error " + xhr.status + "). Please try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    toast("Could not reach the server. Check your connection and try again.");
  });

  // A change sent in the background (a property, Take it, Solve) is announced to screen
  // readers through the page's live region (base.html #live-status): nothing else moves.
  function announce(text) {
    var live = document.getElementById("live-status");
    if (!live) return;
    live.textContent = "";
    setTimeout(function () { live.textContent = text; }, 50);
  }
  document.addEventListener("htmx:afterRequest", function (event) {
    var detail = event.detail || {};
    var elt = detail.elt;
    if (!detail.successful || !elt || !elt.getAttribute) return;
    if (elt.getAttribute("hx-post") && elt.getAttribute("hx-swap") === "none") announce("Saved.");
  });

  // After an htmx swap of the thread, scroll the newest message into view.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail && event.detail.elt && event.detail.elt.id === "thread") {
      var last = document.querySelector(".conversation > li:last-child");
      if (last) last.scrollIntoView({ block: "nearest" });
    }
  });
})();
