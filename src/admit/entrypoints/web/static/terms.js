// Submit stays disabled until the terms were downloaded and the box is ticked (the server
// checks both again). The download is a form's POST, which the server records; the page stays.
(function () {
  var form = document.getElementById("terms-form");
  var download = document.getElementById("terms-download-form");
  var box = document.getElementById("agree");
  var submit = document.getElementById("terms-submit");
  var hint = document.getElementById("terms-hint");
  if (!form || !download || !box || !submit) return;
  var downloaded = form.getAttribute("data-downloaded") === "true";
  function update() {
    var ready = downloaded && box.checked;
    submit.disabled = !ready;
    if (hint) hint.hidden = ready;
  }
  download.addEventListener("submit", function () { downloaded = true; setTimeout(update, 0); });
  box.addEventListener("change", update);
  update();
})();
