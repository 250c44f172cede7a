/* The storefront's few behaviours, attached by data- attributes (the CSP forbids inline scripts). */
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var dismiss = event.target.closest("[data-dismiss]");
    if (dismiss && dismiss.parentElement) { dismiss.parentElement.remove(); return; }

    var toggle = event.target.closest("[data-toggle-target]");
    if (toggle) {
      var target = document.querySelector(toggle.getAttribute("data-toggle-target"));
      if (target) {
        var open = target.classList.toggle("open");
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
      }
      return;
    }

    var thumb = event.target.closest("[data-gallery] [data-src]");
    if (thumb) {
      var gallery = thumb.closest("[data-gallery]");
      var main = gallery.querySelector("[data-gallery-main]");
      if (main) { main.src = thumb.getAttribute("data-src"); }
      gallery.querySelectorAll("[data-src]").forEach(function (el) { el.classList.toggle("active", el === thumb); });
    }
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-autosubmit]") && event.target.form) { event.target.form.submit(); }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    // "不感兴趣" on a recommended card: sent in the background and the card removed, no reload. Without
    // fetch, or when the request fails, the plain form posts and the page comes back without the product.
    if (form.hasAttribute("data-not-interested") && window.fetch && window.FormData) {
      event.preventDefault();
      var card = form.closest(".product-card");
      fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin",
                           headers: { "Accept": "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          if (card) { card.remove(); }
        })
        .catch(function () { form.submit(); });
      return;
    }
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); return; }
    // A second click while the first submit is on its way does nothing (the server is idempotent too).
    if (form.dataset.submitted === "1" && form.method.toLowerCase() === "post") { event.preventDefault(); return; }
    if (form.method.toLowerCase() === "post") { form.dataset.submitted = "1"; }
  });

  // Filters start folded on phones and open on wide screens.
  if (window.matchMedia("(min-width: 1000px)").matches) {
    document.querySelectorAll("details[data-open-wide]").forEach(function (el) { el.open = true; });
  }

  // Forms with data-autosubmit selects keep a submit button for no-JS visitors; hide it when JS runs.
  document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
    var button = el.form && el.form.querySelector("button[type=submit]");
    if (button) { button.classList.add("hidden"); }
  });
})();
