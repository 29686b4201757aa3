// The scoring page by keyboard: digits 1-5 score the current criterion and move to the next,
// Enter (outside the comment) saves and goes to the next suggestion. Without script the radio
// buttons and the button work as they are.
(function () {
  "use strict";
  function ready() {
    var form = document.getElementById("score-form");
    if (!form) { return; }
    var scales = Array.prototype.slice.call(form.querySelectorAll("fieldset.scale"));
    var current = 0;
    function mark() {
      scales.forEach(function (scale, i) { scale.classList.toggle("current", i === current); });
    }
    scales.forEach(function (scale, i) {
      scale.addEventListener("focusin", function () { current = i; mark(); });
      scale.addEventListener("change", function () {
        if (i === current && current < scales.length - 1) { current += 1; mark(); }
      });
    });
    var first = scales.findIndex(function (s) { return !s.querySelector("input:checked"); });
    current = first < 0 ? 0 : first;
    mark();
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      var typing = target && (target.tagName === "TEXTAREA" || (target.tagName === "INPUT" && target.type !== "radio"));
      if (typing || event.altKey || event.ctrlKey || event.metaKey) { return; }
      if (event.key >= "1" && event.key <= "5" && scales.length) {
        var input = scales[current].querySelector('input[value="' + event.key + '"]');
        if (input) {
          input.checked = true;
          input.focus();
          input.dispatchEvent(new Event("change", { bubbles: true }));
          event.preventDefault();
        }
      } else if (event.key === "Enter" && (form.contains(target) || target === document.body)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", ready); } else { ready(); }
})();
