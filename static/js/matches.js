// The job feed. Progressive enhancement only: the page works without this file.
(function () {
  "use strict";

  // After "Not interested" removes a card, keep keyboard users in place: focus the next
  // card's title (or the previous one, or the page heading) instead of losing focus.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var form = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!form || !form.matches || !form.matches("[data-testid=dismiss-form]")) { return; }
    if (event.detail.xhr && event.detail.xhr.getResponseHeader("HX-Reswap") === "none") { return; }
    var card = form.closest(".job-card");
    var neighbour = card && (card.nextElementSibling || card.previousElementSibling);
    window.setTimeout(function () {
      var target = (neighbour && neighbour.querySelector("h3 a")) || document.querySelector("main h1");
      if (target) {
        if (!target.hasAttribute("tabindex") && target.tagName === "H1") { target.setAttribute("tabindex", "-1"); }
        target.focus();
      }
    }, 0);
  });
})();
