// Progressive enhancements of the job-post wizard. Every step works without this file:
// the budget step then shows both the hourly and the fixed-price fields, and the
// specialty list shows every category's specialties.
(function () {
  "use strict";

  // Budget step: show only the fields of the chosen way to pay.
  function bindBudget(form) {
    var radios = form.querySelectorAll("input[name=budget_type]");
    function update() {
      var chosen = form.querySelector("input[name=budget_type]:checked");
      form.querySelectorAll("[data-budget-section]").forEach(function (section) {
        section.hidden = Boolean(chosen) && section.getAttribute("data-budget-section") !== chosen.value;
      });
    }
    radios.forEach(function (radio) { radio.addEventListener("change", update); });
    update();
  }

  // Title step: the specialty list shows the chosen category's group only.
  function bindSpecialty(select) {
    var category = document.querySelector(select.getAttribute("data-follows-category"));
    if (!category) { return; }
    function update() {
      var option = category.options[category.selectedIndex];
      var name = option && option.value ? option.text : null;
      select.querySelectorAll("optgroup").forEach(function (group) {
        var visible = name === null || group.label === name;
        group.hidden = !visible;
        group.disabled = !visible;
        if (!visible && group.contains(select.options[select.selectedIndex])) { select.value = ""; }
      });
    }
    category.addEventListener("change", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-budget-form]").forEach(bindBudget);
    document.querySelectorAll("select[data-follows-category]").forEach(bindSpecialty);
  });
})();
