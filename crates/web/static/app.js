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
  // 到岗到位: a form that records where the phone is fills its hidden position fields when the
  // browser gives one (the form works without it).
  document.querySelectorAll("form[data-geo]").forEach((form) => {
    const status = form.querySelector("[data-geo-status]");
    const say = (key) => { if (status) status.textContent = status.dataset[key] || ""; };
    if (!navigator.geolocation) { say("geoNone"); return; }
    navigator.geolocation.getCurrentPosition(
      (p) => {
        const set = (name, v) => { const i = form.querySelector(`input[name=${name}]`); if (i) i.value = String(v); };
        set("lat", p.coords.latitude);
        set("lon", p.coords.longitude);
        set("accuracy", Math.round(p.coords.accuracy));
        say("geoOk");
      },
      () => say("geoNone"),
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 },
    );
  });
  if (toggle && nav) {
    toggle.addEventListener("click", () => {
      const open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", String(open));
    });
  }
});
