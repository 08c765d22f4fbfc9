// Progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // Live character counter: <textarea data-charcount="5000"> gets "123 / 5,000 characters".
  function bindCharCount(el) {
    var max = parseInt(el.getAttribute("data-charcount"), 10);
    var out = document.createElement("div");
    out.className = "form-text text-end";
    out.setAttribute("aria-live", "polite");
    el.insertAdjacentElement("afterend", out);
    function update() {
      var n = el.value.length;
      out.textContent = n.toLocaleString() + " / " + max.toLocaleString() + " characters";
      out.classList.toggle("text-danger", n > max);
    }
    el.addEventListener("input", update);
    update();
  }

  // Live fee preview: <input data-fee-bps="1000" data-fee-target="#id"> shows what the
  // freelancer receives. Same rounding as payments/fees.py: half up to the cent.
  function bindFee(el) {
    var bps = parseInt(el.getAttribute("data-fee-bps"), 10);
    var target = document.querySelector(el.getAttribute("data-fee-target"));
    var feeTarget = document.querySelector(el.getAttribute("data-fee-amount-target"));
    function money(cents) {
      return "$" + (cents / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    }
    function update() {
      var text = (el.value || "").replace(/[$,\s]/g, "");
      if (!/^\d{1,6}(\.\d{1,2})?$/.test(text)) { return; }
      var parts = text.split(".");
      var cents = parseInt(parts[0], 10) * 100 + (parts[1] ? parseInt((parts[1] + "0").slice(0, 2), 10) : 0);
      var fee = Math.floor((cents * bps + 5000) / 10000);
      if (target) { target.textContent = money(cents - fee); }
      if (feeTarget) { feeTarget.textContent = money(fee); }
    }
    el.addEventListener("input", update);
    update();
  }

  // Limit a group of checkboxes: <div data-max-checked="15">.
  function bindMaxChecked(box) {
    var max = parseInt(box.getAttribute("data-max-checked"), 10);
    var counter = document.querySelector(box.getAttribute("data-counter") || "#none");
    function update() {
      var boxes = box.querySelectorAll("input[type=checkbox]");
      var checked = box.querySelectorAll("input[type=checkbox]:checked").length;
      boxes.forEach(function (cb) { cb.disabled = !cb.checked && checked >= max; });
      if (counter) { counter.textContent = checked + " of " + max + " selected"; }
    }
    box.addEventListener("change", update);
    update();
  }

  // Countdown for timed tests: <span data-deadline="ISO"> ; submits the form at zero.
  function bindDeadline(el) {
    var deadline = new Date(el.getAttribute("data-deadline")).getTime();
    var form = el.closest("form") || document.querySelector(el.getAttribute("data-form"));
    function tick() {
      var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      el.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      if (left <= 0) { if (form) { form.submit(); } return; }
      window.setTimeout(tick, 1000);
    }
    tick();
  }

  // Confirm before a destructive submit: <button data-confirm="Sure?">.
  document.addEventListener("click", function (event) {
    var btn = event.target.closest("[data-confirm]");
    if (btn && !window.confirm(btn.getAttribute("data-confirm"))) { event.preventDefault(); }
  });

  function init(root) {
    root.querySelectorAll("[data-charcount]").forEach(bindCharCount);
    root.querySelectorAll("[data-fee-bps]").forEach(bindFee);
    root.querySelectorAll("[data-max-checked]").forEach(bindMaxChecked);
    root.querySelectorAll("[data-deadline]").forEach(bindDeadline);
    // Widths set through the CSSOM, which a strict Content-Security-Policy allows.
    root.querySelectorAll("[data-width]").forEach(function (el) {
      el.style.width = Math.max(0, Math.min(100, parseFloat(el.getAttribute("data-width")) || 0)) + "%";
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSwap", function (event) { init(event.target); });
})();
