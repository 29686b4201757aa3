/* The questionnaire editor: rows moved, copied, added and deleted with buttons (keyboard
   friendly: focus follows the row), expressions checked with the server's parser as one types,
   and the phone preview refreshed as the tables change. The tables are plain form fields, so
   without this script the page still edits and publishes (with spare rows for new questions). */
(function () {
  "use strict";
  var editor = document.getElementById("editor");
  if (!editor) return;
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
  var csrf = editor.querySelector("input[name=csrf_token]");
  var checkUrl = editor.getAttribute("data-check-url");
  var previewButton = document.getElementById("preview-button");

  function labelFor(template, number) { return template.replace(/\d+/, String(number)); }

  function renumber(table) {
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row, i) {
      var number = i + 2; // the header is row 1, as in a spreadsheet and in the server's messages
      row.cells[0].textContent = String(number);
      Array.prototype.forEach.call(row.querySelectorAll("[aria-label]"), function (el) {
        el.setAttribute("aria-label", labelFor(el.getAttribute("aria-label"), number));
      });
    });
  }

  function blank(row) {
    var copy = row.cloneNode(true);
    Array.prototype.forEach.call(copy.querySelectorAll("input"), function (el) {
      el.value = ""; el.removeAttribute("aria-invalid");
    });
    Array.prototype.forEach.call(copy.querySelectorAll(".check"), function (el) { el.textContent = ""; });
    return copy;
  }

  function cell(row, column) {
    return row.querySelector('td[data-column="' + column + '"] input');
  }

  function names() {
    var out = { questions: [], groups: [], columns: [] };
    var survey = editor.querySelector('table[data-sheet="survey"]');
    Array.prototype.forEach.call(survey.tBodies[0].rows, function (row) {
      var name = cell(row, "name"), type = cell(row, "type");
      if (!name || !name.value.trim()) return;
      var base = (type ? type.value.trim().split(/\s+/)[0] : "");
      (base === "begin_group" || base === "begin" ? out.groups : out.questions).push(name.value.trim());
    });
    var choices = editor.querySelector('table[data-sheet="choices"]');
    Array.prototype.forEach.call(choices.tHead.rows[0].cells, function (th) {
      var c = th.getAttribute("data-column");
      if (c && c !== "list_name" && c !== "name" && c.indexOf("::") < 0) out.columns.push(c);
    });
    return out;
  }

  var checks = {};
  function check(input) {
    var column = input.getAttribute("data-expression");
    var status = input.parentNode.querySelector(".check");
    clearTimeout(checks[input.name]);
    if (!input.value.trim()) { status.textContent = ""; input.removeAttribute("aria-invalid"); return; }
    checks[input.name] = setTimeout(function () {
      var known = names();
      fetch(checkUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.value : "" },
        body: JSON.stringify({ column: column, expression: input.value, questions: known.questions,
                               groups: known.groups, columns: known.columns })
      }).then(function (r) { return r.json(); }).then(function (body) {
        var problems = body.problems || [];
        if (problems.length) {
          input.setAttribute("aria-invalid", "true");
          status.className = "check error";
          status.textContent = problems.map(function (p) { return p.message; }).join(" ");
        } else {
          input.removeAttribute("aria-invalid");
          status.className = "check ok";
          status.textContent = "✓";
        }
      }).catch(function () {});
    }, 250);
  }

  var previewTimer = null;
  var previewed = false;
  function refreshPreview() {
    if (!previewed || !previewButton) return;
    clearTimeout(previewTimer);
    previewTimer = setTimeout(function () { previewButton.click(); }, 600);
  }
  if (previewButton) previewButton.addEventListener("click", function () { previewed = true; });

  editor.addEventListener("input", function (event) {
    var el = event.target;
    if (el.classList && el.classList.contains("expression")) check(el);
    refreshPreview();
  });
  editor.addEventListener("change", refreshPreview);

  editor.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action], button[data-add]");
    if (!button) return;
    var action = button.getAttribute("data-action");
    if (action) {
      var row = button.closest("tr");
      var body = row.parentNode;
      var table = body.parentNode;
      var focus = null;
      if (action === "up" && row.previousElementSibling) {
        body.insertBefore(row, row.previousElementSibling); focus = row;
      } else if (action === "down" && row.nextElementSibling) {
        body.insertBefore(row.nextElementSibling, row); focus = row;
      } else if (action === "copy") {
        var copy = row.cloneNode(true);
        body.insertBefore(copy, row.nextSibling); focus = copy;
        var name = cell(copy, "name");
        if (name && name.value) name.value = name.value + "_copy";
      } else if (action === "delete") {
        focus = row.nextElementSibling || row.previousElementSibling;
        if (body.rows.length > 1) body.removeChild(row); else focus = null;
      }
      renumber(table);
      if (focus) {
        var target = focus.querySelector('button[data-action="' + action + '"]') || focus.querySelector("input");
        if (target) target.focus();
      }
      refreshPreview();
      return;
    }
    var kind = button.getAttribute("data-add");
    var table = editor.querySelector('table[data-sheet="' + button.getAttribute("data-sheet") + '"]');
    var body = table.tBodies[0];
    var template = body.rows[body.rows.length - 1];
    var first = blank(template);
    if (kind === "group") {
      cell(first, "type").value = "begin_group";
      var inside = blank(template);
      cell(inside, "type").value = "text";
      var last = blank(template);
      cell(last, "type").value = "end_group";
      body.appendChild(first); body.appendChild(inside); body.appendChild(last);
    } else {
      if (kind === "question") cell(first, "type").value = "text";
      body.appendChild(first);
    }
    renumber(table);
    var focusCell = cell(first, kind === "row" ? "list_name" : "name");
    if (focusCell) focusCell.focus();
  });

  Array.prototype.forEach.call(editor.querySelectorAll("input.expression"), function (el) {
    if (el.value.trim()) check(el);
  });
})();
