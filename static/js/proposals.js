// Proposals: milestone rows added and removed in the browser, with their running total
// against the bid; the Connects buy button's label. Progressive: without this file the
// forms still post what they show.
(function () {
  "use strict";

  function toCents(text) {
    text = (text || "").replace(/[$,\s]/g, "");
    if (!/^\d{1,9}(\.\d{1,2})?$/.test(text)) { return null; }
    var parts = text.split(".");
    return parseInt(parts[0], 10) * 100 + (parts[1] ? parseInt((parts[1] + "0").slice(0, 2), 10) : 0);
  }

  function money(cents) {
    return "$" + (cents / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  function bindMilestones(box) {
    var rows = box.querySelector("[data-milestone-rows]");
    var template = box.querySelector("template");
    var add = box.querySelector("[data-milestone-add]");
    var sum = box.querySelector("[data-milestone-sum]");
    var form = box.closest("form");
    var total = form ? form.querySelector("[data-milestone-total]") : null;
    var max = parseInt(box.getAttribute("data-max"), 10) || 10;
    var counter = 1000;

    function update() {
      var list = rows.querySelectorAll("[data-milestone-row]");
      list.forEach(function (row, i) {
        var label = row.querySelector("label[data-label]");
        if (label) { label.textContent = label.getAttribute("data-label").replace("{n}", String(i + 1)); }
        var remove = row.querySelector("[data-milestone-remove]");
        if (remove) { remove.hidden = list.length < 2; }
      });
      if (add) { add.hidden = list.length >= max; }
      if (!sum) { return; }
      var planned = 0, any = false;
      rows.querySelectorAll("[data-milestone-amount]").forEach(function (input) {
        var cents = toCents(input.value);
        if (cents !== null) { planned += cents; any = true; }
      });
      var bid = total ? toCents(total.value) : null;
      if (!any) { sum.textContent = ""; sum.classList.remove("text-danger", "text-success"); return; }
      var text = "Milestones add up to " + money(planned);
      if (bid !== null) {
        text += planned === bid ? ", your price exactly." : " — your price is " + money(bid) + ": they must match.";
        sum.classList.toggle("text-danger", planned !== bid);
        sum.classList.toggle("text-success", planned === bid);
      }
      sum.textContent = text;
    }

    if (add && template) {
      add.hidden = false;
      add.addEventListener("click", function () {
        counter += 1;
        var html = template.innerHTML.replace(/__n__/g, String(counter));
        var holder = document.createElement("div");
        holder.innerHTML = html.trim();
        var row = holder.firstElementChild;
        rows.appendChild(row);
        update();
        var first = row.querySelector("input");
        if (first) { first.focus(); }
      });
    }
    rows.addEventListener("click", function (event) {
      var remove = event.target.closest("[data-milestone-remove]");
      if (!remove) { return; }
      var row = remove.closest("[data-milestone-row]");
      if (row && rows.querySelectorAll("[data-milestone-row]").length > 1) { row.remove(); update(); }
    });
    rows.addEventListener("input", update);
    if (total) { total.addEventListener("input", update); }
    update();
  }

  // Buying Connects: the button says what will be charged, and is disabled once sent (the
  // server also makes a second send of the same form one payment, by its purchase key).
  function bindConnectsBuy(form) {
    var button = form.querySelector("[data-buy-label]");
    function label() {
      var chosen = form.querySelector("input[name=quantity]:checked");
      if (button && chosen) { button.textContent = "Buy " + chosen.value + " Connects for " + chosen.getAttribute("data-price"); }
    }
    form.addEventListener("change", label);
    form.addEventListener("submit", function () {
      if (button) { setTimeout(function () { button.disabled = true; }, 0); }
    });
    label();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-milestones]").forEach(bindMilestones);
    document.querySelectorAll("[data-connects-buy]").forEach(bindConnectsBuy);
  });
})();
