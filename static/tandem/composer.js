// The reply box writes Markdown: a toolbar and shortcuts wrap the selection, a pasted or
// dropped image joins the form's files and is named in the text, Preview asks the server
// for the HTML the customer will get (tickets/mail/views.py reply_preview). A static
// file: the CSP allows no inline script.
(function () {
  "use strict";

  // name -> [before, after, placeholder] for spans; line formats prefix each line.
  var SPANS = {
    bold: ["**", "**", "bold text"],
    italic: ["_", "_", "italic text"],
    code: ["`", "`", "code"],
    link: ["[", "](https://)", "link text"],
  };
  var LINES = { quote: "> ", bullets: "- ", numbers: "1. " };
  // Ctrl/Cmd + key; with Shift for the line formats (as in Gmail).
  var KEYS = { b: "bold", i: "italic", e: "code", k: "link" };
  var SHIFT_KEYS = { "7": "numbers", "8": "bullets", "9": "quote" };

  function changed(box) {
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function wrap(box, name) {
    var spec = SPANS[name];
    var start = box.selectionStart, end = box.selectionEnd;
    var picked = box.value.slice(start, end) || spec[2];
    box.setRangeText(spec[0] + picked + spec[1], start, end, "end");
    if (name === "link") {
      // Select the address to type over it.
      var at = start + spec[0].length + picked.length + 2;
      box.setSelectionRange(at, at + "https://".length);
    } else {
      box.setSelectionRange(start + spec[0].length, start + spec[0].length + picked.length);
    }
  }

  function prefixLines(box, name) {
    var value = box.value;
    var start = value.lastIndexOf("\n", box.selectionStart - 1) + 1;
    var end = box.selectionEnd;
    var lines = value.slice(start, end).split("\n");
    var text = lines.map(function (line, index) {
      return (name === "numbers" ? (index + 1) + ". " : LINES[name]) + line;
    }).join("\n");
    box.setRangeText(text, start, end, "end");
  }

  function apply(box, name) {
    if (SPANS[name]) wrap(box, name);
    else if (LINES[name]) prefixLines(box, name);
    box.focus();
    changed(box);
  }

  function boxOf(element) {
    var bar = element.closest("[data-format-toolbar]");
    return bar && document.querySelector(bar.getAttribute("data-format-toolbar"));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-format]");
    if (button) {
      var box = boxOf(button);
      if (box) apply(box, button.getAttribute("data-format"));
      return;
    }
    var toggle = event.target.closest && event.target.closest("[data-preview-toggle]");
    if (toggle) preview(toggle);
    var clear = event.target.closest && event.target.closest("[data-macro-clear]");
    if (clear) setMacro("", "");
  });

  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (!box || !box.matches || !box.matches("[data-markdown]")) return;
    if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
    var name = event.shiftKey ? SHIFT_KEYS[event.key] || SHIFT_KEYS[event.code.slice(-1)]
                              : KEYS[event.key.toLowerCase()];
    if (!name) return;
    event.preventDefault();
    apply(box, name);
  });

  // --- Preview ---------------------------------------------------------------------------
  function preview(toggle) {
    var box = boxOf(toggle);
    var pane = document.getElementById(toggle.getAttribute("aria-controls"));
    if (!box || !pane) return;
    var showing = toggle.getAttribute("aria-pressed") === "true";
    toggle.setAttribute("aria-pressed", showing ? "false" : "true");
    if (showing) {
      pane.hidden = true;
      box.hidden = false;
      box.focus();
      return;
    }
    var data = new FormData();
    data.append("body", box.value);
    var token = box.form && box.form.querySelector("[name=csrfmiddlewaretoken]");
    fetch(toggle.getAttribute("data-preview-url"), {
      method: "POST",
      body: data,
      headers: { "X-CSRFToken": token ? token.value : "" },
      credentials: "same-origin",
    }).then(function (response) {
      return response.ok ? response.text() : Promise.reject(response.status);
    }).then(function (html) {
      pane.innerHTML = html;
      pane.hidden = false;
      box.hidden = true;
    }).catch(function () {
      toggle.setAttribute("aria-pressed", "false");
    });
  }

  // --- Pasted and dropped images ------------------------------------------------------------
  function addImages(box, files) {
    var input = box.form && box.form.querySelector("input[type=file][name=attachments]");
    if (!input || !window.DataTransfer) return false;
    var images = Array.prototype.filter.call(files, function (file) {
      return /^image\//.test(file.type);
    });
    if (!images.length) return false;
    var all = new DataTransfer();
    Array.prototype.forEach.call(input.files, function (file) { all.items.add(file); });
    var refs = images.map(function (file) {
      var extension = (file.type.split("/")[1] || "png").replace(/[^a-z0-9]/gi, "").slice(0, 5);
      var random = Math.random().toString(16).slice(2, 10);
      var name = "image-" + random + "." + extension;
      all.items.add(new File([file], name, { type: file.type }));
      return "![" + name + "](attachment:" + name + ")";
    });
    input.files = all.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
    box.setRangeText(refs.join("\n"), box.selectionStart, box.selectionEnd, "end");
    changed(box);
    return true;
  }

  document.addEventListener("paste", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("[data-markdown]") || !event.clipboardData) return;
    if (addImages(box, event.clipboardData.files)) event.preventDefault();
  });

  document.addEventListener("drop", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("[data-markdown]") || !event.dataTransfer) return;
    if (addImages(box, event.dataTransfer.files)) event.preventDefault();
  });

  // --- A macro inserted for editing -----------------------------------------------------------
  function setMacro(id, title) {
    var field = document.getElementById("reply-macro");
    var chip = document.querySelector("[data-macro-chip]");
    if (!field || !chip) return;
    field.value = id;
    chip.querySelector("[data-macro-name]").textContent = title;
    chip.hidden = !id;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-canned-insert][data-macro-id]");
    if (button) setMacro(button.getAttribute("data-macro-id"), button.getAttribute("data-macro-title"));
  });
})();
