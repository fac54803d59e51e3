// Checks the password rules as the person types (the server checks them again).
(function () {
  var input = document.getElementById("password");
  var list = document.getElementById("password-rules");
  if (!input || !list) return;
  var min = parseInt(list.getAttribute("data-min-length"), 10);
  var composition = list.getAttribute("data-kind") === "composition";
  var checks = {
    min_length: function (v) { return Array.from(v.normalize("NFKC")).length >= min; },
    uppercase: function (v) { return /\p{Lu}/u.test(v); },
    lowercase: function (v) { return /\p{Ll}/u.test(v); },
    digit_or_symbol: function (v) { return /[\p{N}\p{P}\p{S}]/u.test(v); },
    max_length: function (v) { return Array.from(v.normalize("NFKC")).length <= 256; }
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
