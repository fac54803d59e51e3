// Submit stays disabled until the terms were downloaded and the box is ticked (the server
// checks both again).
(function () {
  var form = document.getElementById("terms-form");
  var link = document.getElementById("terms-download");
  var box = document.getElementById("agree");
  var submit = document.getElementById("terms-submit");
  var hint = document.getElementById("terms-hint");
  if (!form || !link || !box || !submit) return;
  var downloaded = form.getAttribute("data-downloaded") === "true";
  function update() {
    var ready = downloaded && box.checked;
    submit.disabled = !ready;
    if (hint) hint.hidden = ready;
  }
  link.addEventListener("click", function () { downloaded = true; setTimeout(update, 0); });
  box.addEventListener("change", update);
  update();
})();
