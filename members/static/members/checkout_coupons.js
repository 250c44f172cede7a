/* Checkout: picking a held coupon fills the coupon-code field and recalculates (works without it too). */
document.addEventListener("change", function (event) {
  var pick = event.target.closest("[data-coupon-pick]");
  if (!pick) return;
  var field = document.querySelector("[data-coupon-code]");
  if (!field) return;
  field.value = pick.value;
  var preview = pick.form && pick.form.querySelector('button[name="preview"]');
  if (preview) preview.click();
});
