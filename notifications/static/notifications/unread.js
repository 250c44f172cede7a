// The header's unread message count when the server did not know it without a query: ask once.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var badge = document.querySelector("[data-unread-count][data-unread-url]");
    if (!badge || !window.fetch) return;
    fetch(badge.getAttribute("data-unread-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data || !data.unread) return;
        badge.textContent = String(data.unread);
        badge.hidden = false;
      })
      .catch(function () { /* the count is a hint; the message centre shows the truth */ });
  });
})();
