// Progressive enhancements of the offer form. The form works without this file: it then
// shows both the hourly and the fixed-price fields (the server ignores the other type's)
// and a few spare milestone rows.
(function () {
  "use strict";

  // "45", "45.5", "$1,200.50" -> cents; null for anything else. Integers only, as on the server.
  function toCents(text) {
    text = (text || "").replace(/[$,\s]/g, "");
    if (!/^-?\d{1,9}(\.\d{1,2})?$/.test(text)) { return null; }
    var negative = text.charAt(0) === "-";
    var parts = text.replace("-", "").split(".");
    var cents = parseInt(parts[0], 10) * 100 + (parts[1] ? parseInt((parts[1] + "0").slice(0, 2), 10) : 0);
    return negative ? -cents : cents;
  }

  function money(cents) {
    return "$" + (cents / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  // Same rounding as payments/fees.py: half up to the whole cent.
  function fee(cents, bps) { return Math.floor((cents * bps + 5000) / 10000); }

  function bindOfferForm(form) {
    var rows = form.querySelector("[data-milestone-rows]");
    var template = form.querySelector("template[data-milestone-template]");
    var addButton = form.querySelector("[data-add-milestone]");
    var summary = document.querySelector("[data-offer-money]");
    var maxRows = 20;

    function chosenType() {
      var chosen = form.querySelector("input[name=contract_type]:checked");
      return chosen ? chosen.value : "fixed";
    }

    function renumber() {
      var all = rows.querySelectorAll("[data-milestone-row]");
      all.forEach(function (row, i) {
        var n = i + 1;
        row.querySelectorAll("[data-milestone-number]").forEach(function (el) { el.textContent = n; });
        row.querySelectorAll("input").forEach(function (input) {
          var base = input.id.replace(/-[^-]+$/, "");
          input.id = base + "-" + n;
          var label = row.querySelector("label[for^='" + base + "-']");
          if (label) { label.setAttribute("for", input.id); }
        });
        var remove = row.querySelector("[data-remove-milestone]");
        if (remove) { remove.hidden = all.length < 2; }
      });
      if (addButton) { addButton.hidden = all.length >= maxRows; }
    }

    function update() {
      var type = chosenType();
      form.querySelectorAll("[data-offer-section]").forEach(function (section) {
        section.hidden = section.getAttribute("data-offer-section") !== type;
      });
      document.querySelectorAll("[data-when]").forEach(function (el) {
        el.hidden = el.getAttribute("data-when") !== type;
      });
      if (!summary) { return; }
      var milestonesTotal = 0;
      rows.querySelectorAll("[data-milestone-amount]").forEach(function (input) {
        milestonesTotal += Math.max(0, toCents(input.value) || 0);
      });
      var amount = milestonesTotal;
      if (type === "hourly") {
        var rate = form.querySelector("input[name=hourly_rate]");
        amount = Math.max(0, toCents(rate ? rate.value : "") || 0);
      }
      var clientBps = parseInt(summary.getAttribute("data-client-bps"), 10) || 0;
      var freelancerBps = parseInt(summary.getAttribute("data-freelancer-bps"), 10) || 0;
      var clientFee = fee(amount, clientBps);
      var values = {
        milestones_total: milestonesTotal,
        amount: amount,
        client_fee: clientFee,
        client_total: amount + clientFee,
        freelancer_net: amount - fee(amount, freelancerBps)
      };
      document.querySelectorAll("[data-money]").forEach(function (el) {
        var key = el.getAttribute("data-money");
        if (key in values) { el.textContent = money(values[key]); }
      });
      var note = summary.querySelector("[data-money-note]");
      if (note) {
        note.textContent = type === "hourly"
          ? "Per hour billed; hours are billed weekly."
          : "Charged milestone by milestone, as you fund them.";
      }
    }

    if (addButton && template) {
      addButton.addEventListener("click", function () {
        var fragment = template.content.cloneNode(true);
        rows.appendChild(fragment);
        renumber();
        var inputs = rows.querySelectorAll("[data-milestone-row]:last-child input");
        if (inputs.length) { inputs[0].focus(); }
        update();
      });
    }
    rows.addEventListener("click", function (event) {
      var button = event.target.closest("[data-remove-milestone]");
      if (!button) { return; }
      var row = button.closest("[data-milestone-row]");
      if (row && rows.querySelectorAll("[data-milestone-row]").length > 1) { row.remove(); }
      renumber();
      update();
    });
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    renumber();
    update();
  }

  // Funding milestones: the total of the ticked milestones, their client fees (computed by
  // the server per milestone, one charge each) and what the card is charged.
  function bindFundSummary(summary) {
    var boxes = document.querySelectorAll("input[data-fund-amount]");
    function money(cents) {
      return "$" + (cents / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    }
    function update() {
      var total = 0, fees = 0;
      boxes.forEach(function (box) {
        if (box.checked) {
          total += parseInt(box.getAttribute("data-fund-amount"), 10) || 0;
          fees += parseInt(box.getAttribute("data-fund-fee"), 10) || 0;
        }
      });
      summary.hidden = total === 0;
      summary.querySelector("[data-fund-total]").textContent = money(total);
      summary.querySelector("[data-fund-fees]").textContent = money(fees);
      summary.querySelector("[data-fund-charge]").textContent = money(total + fees);
    }
    boxes.forEach(function (box) { box.addEventListener("change", update); });
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-offer-form]").forEach(bindOfferForm);
    document.querySelectorAll("[data-fund-summary]").forEach(bindFundSummary);
  });
})();
