// Job search: keep the address bar clean when htmx submits the filter form in place.
// The page works without this file (the server ignores blank parameters).
(function () {
  "use strict";

  // Drop blank fields ("Any category", empty amounts) from the request, so that the URL
  // pushed into the history reads ?q=django&budget_type=hourly, not every field.
  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    var data = event.detail.formData;
    if (!form || form.id !== "search-form" || !data) { return; }
    var keys = [];
    data.forEach(function (value, key) { if (keys.indexOf(key) < 0) { keys.push(key); } });
    keys.forEach(function (key) {
      var kept = data.getAll(key).filter(function (value) { return value !== ""; });
      data.delete(key);
      kept.forEach(function (value) { data.append(key, value); });
    });
  });
})();
