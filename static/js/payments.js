// Payments pages: progressive enhancements only (the forms work without this file).
(function () {
  "use strict";

  // <button data-fill-target="#id_amount" data-fill-value="90.00">: fill an input.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-fill-target]");
    if (!button) { return; }
    var input = document.querySelector(button.getAttribute("data-fill-target"));
    if (input) {
      input.value = (button.getAttribute("data-fill-value") || "").replace(/,/g, "");
      input.dispatchEvent(new Event("input", { bubbles: true }));
      input.focus();
    }
  });

  // Group card numbers in fours as they are typed.
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[autocomplete='cc-number']")) { return; }
    var digits = input.value.replace(/\D/g, "").slice(0, 19);
    input.value = digits.replace(/(\d{4})(?=\d)/g, "$1 ");
  });
})();

// <button data-print>: print the page (invoices and statements have a print stylesheet).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) { window.print(); }
  });
})();
