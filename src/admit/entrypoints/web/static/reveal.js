// Show/Hide buttons beside password fields: the typed password can be read before it is sent.
(function () {
  document.querySelectorAll("button.reveal-toggle").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-target"));
    if (!input) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var shown = input.type === "password";
      input.type = shown ? "text" : "password";
      button.textContent = button.getAttribute(shown ? "data-hide" : "data-show");
      button.setAttribute("aria-pressed", shown ? "true" : "false");
      input.focus();
    });
  });
})();
