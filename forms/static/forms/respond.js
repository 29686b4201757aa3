/* Respondent page, progressive enhancement: shows and hides questions and filters cascading
   choices as the respondent answers, with the server's rules (MinshengExpr.state from
   expressions.js over the JSON in #form-logic); saves the draft in the background; focuses the
   error summary. Without this script the page still works: the server decides on every post. */
(function () {
  "use strict";
  var form = document.getElementById("questionnaire");
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
  if (!form) return;
  var data = document.getElementById("form-logic");
  var logic = data ? JSON.parse(data.textContent) : null;

  function pageValues() {
    var raw = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.type === "submit" || el.type === "hidden") return;
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) return;
      var multiple = el.type === "checkbox" || (el.tagName === "SELECT" && el.closest(".rank"));
      if (multiple) {
        if (el.value !== "") (raw[el.name] = raw[el.name] || []).push(el.value);
      } else {
        raw[el.name] = el.value;
      }
    });
    return raw;
  }

  function setShown(node, shown) {
    if (node.hidden === !shown) return;
    node.hidden = !shown;
    // Hidden answers are not sent, as the server discards them anyway.
    Array.prototype.forEach.call(node.querySelectorAll("input, select, textarea"), function (el) {
      el.disabled = !shown;
    });
  }

  function filterChoices(name, allowed) {
    var keep = {};
    allowed.forEach(function (n) { keep[n] = true; });
    keep[""] = keep.other = true;
    var box = document.getElementById("q-" + name);
    if (!box) return;
    Array.prototype.forEach.call(box.querySelectorAll("option, input[type=radio], input[type=checkbox]"),
      function (el) {
        var ok = !!keep[el.value];
        var target = el.tagName === "OPTION" ? el : el.closest("label") || el;
        target.hidden = !ok;
        el.disabled = !ok;
        if (!ok && (el.selected || el.checked)) {
          if (el.tagName === "OPTION") el.parentNode.value = ""; else el.checked = false;
        }
      });
  }

  function apply() {
    if (!logic || !window.MinshengExpr) return;
    var raw = Object.assign({}, logic.answers, pageValues());
    var state = window.MinshengExpr.state(logic.logic, raw, logic.today);
    Array.prototype.forEach.call(form.querySelectorAll("[data-q]"), function (node) {
      var name = node.getAttribute("data-q");
      var shown = name in state.relevant ? state.relevant[name] : state.groups[name];
      if (shown !== undefined) setShown(node, shown);
    });
    Object.keys(state.choices).forEach(function (name) { filterChoices(name, state.choices[name]); });
  }

  var timer = null;
  function autosave() {
    // The editor's preview stores nothing.
    if (!window.fetch || !window.FormData || form.hasAttribute("data-preview")) return;
    clearTimeout(timer);
    timer = setTimeout(function () {
      var body = new FormData(form);
      body.set("nav", "save");
      fetch(form.action, { method: "POST", body: body, credentials: "same-origin",
                           headers: { "X-Autosave": "1" } }).catch(function () {});
    }, 1500);
  }

  form.addEventListener("change", function () { apply(); autosave(); });
  form.addEventListener("input", apply);
  apply();
})();
