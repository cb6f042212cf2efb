// "Load images" on one email: copy each held-back remote address from data-src to src.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-load-images]");
  if (!button) return;
  const body = button.closest("[data-mail-body]");
  body.querySelectorAll("img[data-src]").forEach((img) => {
    img.src = img.dataset.src;
    img.removeAttribute("data-src");
  });
  button.closest(".mail-images-blocked").remove();
});
