// The accent colour's picker and its text field show the same colour (the text field is what is
// sent; without script, it alone is shown). The picker cannot say "default": an empty field can.
(function () {
  var picker = document.getElementById("accent_color_picker");
  var text = document.getElementById("accent_color");
  if (!picker || !text) return;
  picker.hidden = false;
  picker.addEventListener("input", function () { text.value = picker.value; });
  text.addEventListener("input", function () {
    var value = text.value.trim().toLowerCase();
    if (/^#[0-9a-f]{6}$/.test(value)) picker.value = value;
  });
})();
