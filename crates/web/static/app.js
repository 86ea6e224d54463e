// GridSafe's small script: progressive enhancements only; every page works without it.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Phone-sized screens fold the navigation behind a menu button.
  const toggle = document.querySelector(".menu-toggle");
  const nav = document.getElementById("main-nav");
  // "Back" on error pages returns to the page the user came from.
  document.querySelectorAll("[data-back]").forEach((button) => {
    button.addEventListener("click", () => history.back());
  });
  // "Print" on a ticket opens the browser's print dialogue (A4, print stylesheet).
  document.querySelectorAll("[data-print]").forEach((button) => {
    button.addEventListener("click", () => window.print());
  });
  // Long operations: say so while the server works (the import runs the cross-audit too).
  document.querySelectorAll("form[data-busy]").forEach((form) => {
    form.addEventListener("submit", () => {
      const status = form.querySelector("[data-busy-status]");
      if (status) status.hidden = false;
      form.querySelectorAll("button[type=submit]").forEach((b) => (b.disabled = true));
    });
  });
  if (toggle && nav) {
    toggle.addEventListener("click", () => {
      const open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", String(open));
    });
  }
});
