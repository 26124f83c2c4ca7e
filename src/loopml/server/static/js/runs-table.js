// The run table's selection: count the ticked runs, keep the Compare button honest about
// the 2-10 runs it needs, and keep the selection when HTMX reloads the table.
(function () {
  "use strict";

  var MIN = 2;
  var MAX = 10;
  var selected = [];

  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll("input[type=checkbox][name=runs]"));
  }

  function message(n) {
    if (n === 0) {
      return "Pick 2 to 10 runs with the checkboxes.";
    }
    if (n < MIN) {
      return n + " run selected: pick at least " + MIN + ".";
    }
    if (n > MAX) {
      return n + " runs selected: compare at most " + MAX + ".";
    }
    return n + " runs selected.";
  }

  function update() {
    var button = document.getElementById("compare-button");
    var count = document.getElementById("compare-count");
    if (!button || !count) {
      return;
    }
    var n = selected.length;
    button.setAttribute("aria-disabled", n >= MIN && n <= MAX ? "false" : "true");
    count.textContent = message(n);
  }

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement) || box.name !== "runs") {
      return;
    }
    var at = selected.indexOf(box.value);
    if (box.checked && at < 0) {
      selected.push(box.value);
    } else if (!box.checked && at >= 0) {
      selected.splice(at, 1);
    }
    update();
  });

  document.addEventListener("submit", function (event) {
    if (event.target && event.target.id === "compare-form" && (selected.length < MIN || selected.length > MAX)) {
      event.preventDefault();
      var count = document.getElementById("compare-count");
      if (count) {
        count.textContent = message(selected.length);
        count.classList.add("attention");
      }
    }
  });

  // The filter box is marked invalid, and points at the message, while the table shows
  // a filter error.
  function markFilter() {
    var input = document.getElementById("filter-input");
    if (!input) {
      return;
    }
    var error = document.getElementById("filter-error");
    if (error) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", "filter-error filter-help");
    } else {
      input.removeAttribute("aria-invalid");
      input.setAttribute("aria-describedby", "filter-help");
    }
  }

  // After HTMX replaced the table, tick the runs that were ticked before.
  document.body.addEventListener("htmx:afterSettle", function () {
    boxes().forEach(function (box) {
      box.checked = selected.indexOf(box.value) >= 0;
    });
    update();
    markFilter();
  });

  function start() {
    selected = boxes().filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
    update();
    markFilter();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
