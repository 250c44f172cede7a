/* Suggestions under the site search box while typing (progressive enhancement: without this script the
   box is a plain GET form). Text goes in with textContent only, never as HTML. ARIA combobox pattern. */
(function () {
  "use strict";
  var input = document.getElementById("site-search");
  if (!input || !input.dataset.suggestUrl || !window.fetch) return;
  var MAX = 50;
  var form = input.form;
  var list = document.createElement("ul");
  list.id = "site-search-suggestions";
  list.className = "suggest-list";
  list.setAttribute("role", "listbox");
  list.hidden = true;
  form.appendChild(list);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("autocomplete", "off");
  var timer = null, controller = null, active = -1, items = [];

  function close() {
    list.hidden = true;
    list.textContent = "";
    items = [];
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function mark(index) {
    items.forEach(function (li, i) { li.setAttribute("aria-selected", i === index ? "true" : "false"); });
    active = index;
    if (index >= 0) input.setAttribute("aria-activedescendant", items[index].id);
    else input.removeAttribute("aria-activedescendant");
  }

  function render(suggestions) {
    close();
    if (!suggestions.length) return;
    suggestions.forEach(function (s, i) {
      var li = document.createElement("li");
      li.id = "site-search-suggestion-" + i;
      li.setAttribute("role", "option");
      li.className = "suggest-" + (s.kind === "category" ? "category" : "product");
      var a = document.createElement("a");
      a.href = s.url;
      a.tabIndex = -1;
      a.textContent = s.text;
      li.appendChild(a);
      list.appendChild(li);
      items.push(li);
    });
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function load() {
    var q = input.value.trim().slice(0, MAX);
    if (!q) { close(); return; }
    if (controller) controller.abort();
    controller = window.AbortController ? new AbortController() : null;
    fetch(input.dataset.suggestUrl + "?q=" + encodeURIComponent(q), {
      headers: { "Accept": "application/json" },
      signal: controller ? controller.signal : undefined,
    })
      .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
      .then(function (data) { if (input.value.trim().slice(0, MAX) === q) render(data.suggestions || []); })
      .catch(function () {});
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(load, 150);
  });
  input.addEventListener("keydown", function (e) {
    if (list.hidden || !items.length) return;
    if (e.key === "ArrowDown") { e.preventDefault(); mark((active + 1) % items.length); }
    else if (e.key === "ArrowUp") { e.preventDefault(); mark(active <= 0 ? items.length - 1 : active - 1); }
    else if (e.key === "Escape") { close(); }
    else if (e.key === "Enter" && active >= 0) {
      e.preventDefault();
      window.location.href = items[active].querySelector("a").href;
    }
  });
  document.addEventListener("click", function (e) { if (!form.contains(e.target)) close(); });
})();
