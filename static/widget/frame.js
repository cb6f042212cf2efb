/* The widget's panel: search while typing, the contact form, the live conversation.
   Everything shown comes in as JSON and is written with textContent. */
(function () {
  "use strict";
  var body = document.body;
  var data = body.dataset;
  var storageKey = "tandem-widget:" + data.site;
  var token = null;
  var source = null;
  var lastId = 0;
  try { token = window.localStorage.getItem(storageKey); } catch (e) { token = null; }

  function $(id) { return document.getElementById(id); }
  function show(id) {
    ["w-home", "w-contact", "w-thread"].forEach(function (name) { $(name).hidden = name !== id; });
    $("w-resume").hidden = !token;
  }
  function remember(value) {
    token = value;
    try { window.localStorage.setItem(storageKey, value); } catch (e) { /* kept for this page only */ }
  }
  // Every call names the panel's language, so the desk answers (errors too) in it.
  function url(path, params) {
    return path + "?" + new URLSearchParams(Object.assign({ lang: data.lang }, params)).toString();
  }
  function showErrors(form, errors) {
    form.querySelectorAll("[data-for]").forEach(function (el) {
      var list = errors[el.dataset.for] || [];
      el.textContent = list.map(function (e) { return e.message; }).join(" ");
    });
  }

  var timer = null;
  $("w-q").addEventListener("input", function (event) {
    clearTimeout(timer);
    var q = event.target.value.trim();
    timer = setTimeout(function () {
      if (!q) { $("w-results").replaceChildren(); $("w-none").hidden = true; return; }
      fetch(url(data.search, { site: data.site, q: q, visit: data.visit }))
        .then(function (r) { return r.json(); })
        .then(function (found) {
          var items = found.articles.map(function (article) {
            var li = document.createElement("li");
            var a = document.createElement("a");
            a.href = article.url; a.target = "_blank"; a.rel = "noopener"; a.textContent = article.title;
            li.appendChild(a);
            return li;
          });
          $("w-results").replaceChildren.apply($("w-results"), items);
          $("w-none").hidden = items.length > 0;
        });
    }, 250);
  });

  $("w-write").addEventListener("click", function () { show("w-contact"); $("w-subject").value = $("w-subject").value || $("w-q").value; $("w-email").focus(); });
  $("w-resume").addEventListener("click", function () { follow(); });
  document.querySelectorAll("[data-back]").forEach(function (b) { b.addEventListener("click", function () { show("w-home"); }); });

  $("w-contact-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    fetch(url(data.contact, { site: data.site }), { method: "POST", body: new FormData(form) })
      .then(function (r) { return r.json().then(function (json) { return { ok: r.ok, json: json }; }); })
      .then(function (answer) {
        if (!answer.ok) { showErrors(form, answer.json.errors || {}); return; }
        form.reset();
        remember(answer.json.token);
        follow();
      });
  });

  $("w-reply-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    var payload = new FormData(form);
    payload.append("token", token);
    fetch(url(data.reply, {}), { method: "POST", body: payload })
      .then(function (r) { return r.json().then(function (json) { return { ok: r.ok, json: json }; }); })
      .then(function (answer) {
        if (!answer.ok) { showErrors(form, answer.json.errors || {}); return; }
        showErrors(form, {});
        form.reset();
        var moved = answer.json.token !== token;
        remember(answer.json.token);
        if (moved) { follow(); }
      });
  });

  function add(message) {
    if (message.id <= lastId) { return; }
    lastId = message.id;
    var li = document.createElement("li");
    li.className = message.mine ? "mine" : "theirs";
    li.dataset.id = message.id;
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = message.mine ? data.you : (message.author || data.support);
    li.appendChild(who);
    li.appendChild(document.createTextNode(message.body));
    $("w-messages").appendChild(li);
    li.scrollIntoView({ block: "end" });
  }

  function follow() {
    if (source) { source.close(); }
    lastId = 0;
    $("w-messages").replaceChildren();
    show("w-thread");
    source = new EventSource(url(data.stream, { token: token }));
    source.addEventListener("message", function (event) { add(JSON.parse(event.data)); });
    source.addEventListener("error", function () {
      // A forgotten or expired conversation: back to the start (the browser retries otherwise).
      fetch(url(data.conversation, { token: token })).then(function (r) {
        if (r.status === 404) { source.close(); token = null; try { window.localStorage.removeItem(storageKey); } catch (e) { /* nothing kept */ } show("w-home"); }
      });
    });
  }

  show("w-home");
}());
