// Checks the password rules as the person types (the server checks them again).
(function () {
  var input = document.getElementById("password");
  var list = document.getElementById("password-rules");
  if (!input || !list) return;
  var min = parseInt(list.getAttribute("data-min-length"), 10);
  // The server's pattern rule (admit.domain.passwords.without_patterns), the same steps here:
  // keyboard rows, sequences and repeats do not count towards the length.
  var LINES = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "qwertzuiop", "yxcvbnm", "azertyuiop",
               "qsdfghjklm", "wxcvbn", "abcdefghijklmnopqrstuvwxyz", "01234567890"];
  var steps = {};
  LINES.forEach(function (line, n) {
    for (var i = 0; i + 1 < line.length; i++) {
      (steps[line[i] + line[i + 1]] = steps[line[i] + line[i + 1]] || []).push(n + ":1");
      (steps[line[i + 1] + line[i]] = steps[line[i + 1] + line[i]] || []).push(n + ":-1");
    }
  });
  function withoutPatterns(value) {
    var chars = Array.from(value.normalize("NFKC"));
    var low = chars.map(function (c) { return Array.from(c.toLowerCase())[0]; });
    var keep = chars.map(function () { return true; });
    var start = 0, ways = [];
    for (var i = 1; i <= low.length; i++) {
      var step = i < low.length ? (steps[low[i - 1] + low[i]] || []) : [];
      if (i - start > 1) step = step.filter(function (w) { return ways.indexOf(w) >= 0; });
      if (!step.length) {
        if (i - start >= 4) for (var k = start; k < i; k++) keep[k] = false;
        if (i < low.length) { start = i - 1; step = steps[low[i - 1] + low[i]] || []; } else { start = i; }
      }
      ways = step;
    }
    var rest = chars.filter(function (c, k) { return keep[k]; }).join("");
    rest = rest.replace(/(.{2,}?)\1+/gisu, function (m, unit) { return Array.from(m).length >= 7 ? unit : m; });
    return rest.replace(/(.)\1{2,}/gisu, "$1");
  }
  var checks = {
    min_length: function (v) { return Array.from(v.normalize("NFKC")).length >= min; },
    uppercase: function (v) { return /\p{Lu}/u.test(v); },
    lowercase: function (v) { return /\p{Ll}/u.test(v); },
    digit_or_symbol: function (v) { return /[\p{N}\p{P}\p{S}]/u.test(v); },
    max_length: function (v) { return Array.from(v.normalize("NFKC")).length <= 256; },
    no_patterns: function (v) { return Array.from(withoutPatterns(v)).length >= min; }
  };
  function update() {
    list.querySelectorAll("li[data-rule]").forEach(function (item) {
      var check = checks[item.getAttribute("data-rule")];
      if (check) item.classList.toggle("ok", input.value.length > 0 && check(input.value));
    });
  }
  input.addEventListener("input", update);
  update();
})();
