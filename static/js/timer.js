// The running timer's clock on the contract page and the work diary. The server rendered the
// seconds elapsed since the timer started (its own clock), so this only counts on from there:
// a reload or a tab opened later shows the right time, and the browser's clock never matters.
(function () {
  "use strict";

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function show(el, seconds) {
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    el.textContent = h + ":" + pad(m) + ":" + pad(s);
  }

  document.querySelectorAll("[data-timer]").forEach(function (el) {
    var base = parseInt(el.getAttribute("data-timer-elapsed"), 10) || 0;
    var loaded = Date.now();
    function tick() { show(el, base + Math.floor((Date.now() - loaded) / 1000)); }
    tick();
    window.setInterval(tick, 1000);
  });
})();
