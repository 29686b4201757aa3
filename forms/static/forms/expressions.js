/* Evaluates the JSON AST of forms/expressions.py (`to_json`) with the same XPath rules, so the
   page can show and hide questions live. The server re-checks everything on submit.
   Usage: MinshengExpr.evaluate(ast, {answers: {q: value}, current: value, choice: {col: v},
   today: "YYYY-MM-DD"}) -> string | number | boolean. */
(function (root) {
  "use strict";
  var ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
  var NUMBER = /^-?(\d+(\.\d*)?|\.\d+)$/;

  function valueOf(answer) {
    if (answer === null || answer === undefined) return "";
    if (typeof answer === "boolean" || typeof answer === "number") return answer;
    if (Array.isArray(answer)) return answer.map(String).join(" ");
    return String(answer);
  }
  function number(v) {
    if (typeof v === "boolean") return v ? 1 : 0;
    if (typeof v === "number") return v;
    var t = v.trim();
    return NUMBER.test(t) ? parseFloat(t) : NaN;
  }
  function bool(v) {
    if (typeof v === "boolean") return v;
    if (typeof v === "number") return !(v === 0 || isNaN(v));
    return v !== "";
  }
  function string(v) {
    if (typeof v === "boolean") return v ? "true" : "false";
    if (typeof v === "number") {
      if (isNaN(v)) return "NaN";
      if (!isFinite(v)) return v > 0 ? "Infinity" : "-Infinity";
      return String(v);
    }
    return v;
  }
  function equal(a, b) {
    if (typeof a === "boolean" || typeof b === "boolean") return bool(a) === bool(b);
    if (typeof a === "number" || typeof b === "number") return number(a) === number(b);
    return a === b;
  }
  function compare(op, a, b) {
    var x, y;
    if (typeof a === "string" && typeof b === "string" && ISO_DATE.test(a) && ISO_DATE.test(b)) {
      x = a; y = b;
    } else {
      x = number(a); y = number(b);
      if (isNaN(x) || isNaN(y)) return false;
    }
    if (op === "<") return x < y;
    if (op === "<=") return x <= y;
    if (op === ">") return x > y;
    return x >= y;
  }
  function todayIso(ctx) {
    if (ctx.today) return ctx.today;
    var d = new Date();
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }
  function words(v) { return string(v).split(/\s+/).filter(function (w) { return w !== ""; }); }

  var CALLS = {
    "selected": function (a) { return words(a[0]()).indexOf(string(a[1]()).trim()) >= 0; },
    "count-selected": function (a) { return words(a[0]()).length; },
    "string-length": function (a) { return Array.from(string(a[0]())).length; },
    "if": function (a) { return bool(a[0]()) ? a[1]() : a[2](); },
    "today": function (a, ctx) { return todayIso(ctx); },
    "regex": function (a) {
      // No "u" flag: like ODK's Java, "[\w-.]" then reads the dash as a literal.
      try { return new RegExp(string(a[1]())).test(string(a[0]())); }
      catch (e) { return false; }
    },
    "not": function (a) { return !bool(a[0]()); },
    "true": function () { return true; },
    "false": function () { return false; },
    "concat": function (a) { return a.map(function (t) { return string(t()); }).join(""); },
    "normalize-space": function (a) { return words(a[0]()).join(" "); },
    "contains": function (a) { return string(a[0]()).indexOf(string(a[1]())) >= 0; },
    "starts-with": function (a) { return string(a[0]()).indexOf(string(a[1]())) === 0; },
    "number": function (a) { return number(a[0]()); },
    "int": function (a) { var x = number(a[0]()); return isFinite(x) ? Math.trunc(x) : x; },
    "round": function (a) {
      var x = number(a[0]()), d = a.length > 1 ? Math.trunc(number(a[1]())) : 0;
      if (!isFinite(x)) return x;
      var s = Math.pow(10, d);
      return Math.floor(x * s + 0.5) / s;
    },
    "string": function (a) { return string(a[0]()); },
    "boolean": function (a) { return bool(a[0]()); },
    "coalesce": function (a) { var x = a[0](); return string(x) !== "" ? x : a[1](); }
  };

  function binary(node, ctx) {
    var op = node.o, left = evaluate(node.a[0], ctx);
    if (op === "or") return bool(left) || bool(evaluate(node.a[1], ctx));
    if (op === "and") return bool(left) && bool(evaluate(node.a[1], ctx));
    var right = evaluate(node.a[1], ctx);
    if (op === "=") return equal(left, right);
    if (op === "!=") return !equal(left, right);
    if (op === "<" || op === "<=" || op === ">" || op === ">=") return compare(op, left, right);
    var x = number(left), y = number(right);
    if (op === "+") return x + y;
    if (op === "-") return x - y;
    if (op === "*") return x * y;
    if (op === "div") return x / y;
    return y === 0 ? NaN : x % y;
  }

  function evaluate(node, ctx) {
    switch (node.k) {
      case "lit": return node.v;
      case "ref": return valueOf((ctx.answers || {})[node.v]);
      case "cur": return valueOf(ctx.current);
      case "name": var c = ctx.choice || {}; return c[node.v] === undefined ? "" : String(c[node.v]);
      case "neg": return -number(evaluate(node.a[0], ctx));
      case "bin": return binary(node, ctx);
      case "call":
        var thunks = (node.a || []).map(function (arg) {
          return function () { return evaluate(arg, ctx); };
        });
        return CALLS[node.v](thunks, ctx);
    }
    throw new Error("unknown node kind " + node.k);
  }

  var NUMERIC_TYPES = { integer: 1, decimal: 1, range: 1 };
  function empty(v) {
    return v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0);
  }

  /* What the page shows for these answers, with forms.validation's rules: questions in
     `logic.order` (Form.logic_json), hidden ones (own or a group's `relevant` false)
     count as unanswered, calculations are computed. Returns {relevant: {question: bool},
     groups: {group: bool}, answers: {question: value}, choices: {question: [allowed names]}}. */
  function state(logic, raw, today) {
    var answers = {}, relevant = {}, groups = {}, choices = {};
    var ctx = { answers: answers, today: today };
    function groupShown(name) {
      if (!(name in groups)) {
        var g = logic.groups[name];
        groups[name] = g.parents.every(groupShown) && (!g.relevant || bool(evaluate(g.relevant, ctx)));
      }
      return groups[name];
    }
    logic.order.forEach(function (name) {
      var q = logic.questions[name];
      var shown = q.parents.every(groupShown) && (!q.relevant || bool(evaluate(q.relevant, ctx)));
      relevant[name] = shown;
      if (!shown) return;
      if (q.calculation) {
        var v = evaluate(q.calculation, ctx);
        if (v !== "" && !(typeof v === "number" && !isFinite(v))) answers[name] = v;
        return;
      }
      var value = raw[name];
      if (empty(value)) return;
      if (NUMERIC_TYPES[q.type] && typeof value === "string" && NUMBER.test(value.trim())) {
        value = parseFloat(value);
      }
      answers[name] = value;
    });
    Object.keys(logic.groups).forEach(groupShown);
    Object.keys(logic.questions).forEach(function (name) {
      var q = logic.questions[name];
      if (!q.choice_filter || !relevant[name]) return;
      choices[name] = (logic.choices[q.list] || []).filter(function (c) {
        return bool(evaluate(q.choice_filter, { answers: answers, choice: c, today: today }));
      }).map(function (c) { return c.name; });
    });
    return { relevant: relevant, groups: groups, answers: answers, choices: choices };
  }

  var api = { evaluate: evaluate, state: state, truth: bool, string: string, number: number };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.MinshengExpr = api;
})(this);
