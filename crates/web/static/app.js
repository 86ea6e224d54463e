// GridSafe's small script: progressive enhancements only; every page works without it.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // A form sent from this page brought it back: go to the place its answer named.
  const hash = sessionStorage.getItem("gridsafe-next-hash");
  if (hash !== null) {
    sessionStorage.removeItem("gridsafe-next-hash");
    history.replaceState(null, "", location.pathname + location.search + (hash === "#" ? "" : hash));
    if (hash !== "#") document.getElementById(hash.slice(1))?.scrollIntoView();
  }
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
      // After the form's data is taken (a disabled button's value would not be sent).
      setTimeout(() => form.querySelectorAll("button[type=submit]").forEach((b) => (b.disabled = true)), 0);
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
  // Forms are sent by the script so that a refusal (409) or a field problem (422) is shown above
  // the form's action, each field problem beside its field, with everything typed kept. Success
  // goes where the server says; a page answered in place replaces this one. Without script the
  // form posts as usual and the refusal has a page of its own with a way back.
  document.querySelectorAll("form").forEach((form) => {
    if (form.method.toLowerCase() !== "post" || form.hasAttribute("data-native") || form.target) return;
    form.addEventListener("submit", (event) => {
      if (event.defaultPrevented) return;
      event.preventDefault();
      submitInline(form, event.submitter);
    });
  });
  // Checklists start unanswered; one deliberate press marks every item still unanswered as
  // passed (an item already answered keeps its answer).
  document.querySelectorAll("[data-all-ok]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => {
      const form = button.closest("form");
      const groups = new Set([...form.querySelectorAll("input[type=radio]")].map((r) => r.name));
      groups.forEach((name) => {
        const radios = [...form.querySelectorAll(`input[type=radio][name="${CSS.escape(name)}"]`)];
        if (radios.some((r) => r.checked)) return;
        radios.find((r) => r.value === button.dataset.allOk)?.click();
      });
    });
  });
  // People are picked, not typed: a field naming a person lists, as one types a 工号, a name or
  // pinyin initials, the people of the register it finds, each with his unit and, for a ticket
  // role, whether he may act in it today. The field keeps the 工号 picked. A field of several
  // people (data-picker-list: a crew) looks up the one being typed and keeps those before it.
  document.querySelectorAll("input[data-picker]").forEach((input, n) => {
    const list = document.createElement("datalist");
    list.id = `people-pick-${n}`;
    input.setAttribute("list", list.id);
    input.setAttribute("autocomplete", "off");
    input.after(list);
    let timer;
    input.addEventListener("input", () => {
      clearTimeout(timer);
      const many = input.hasAttribute("data-picker-list");
      const [, before, last] = many ? /^(.*[\s,，、;；])?([^\s,，、;；]*)$/.exec(input.value) || [] : [];
      const q = (many ? last || "" : input.value).trim();
      if (!q) return;
      timer = setTimeout(async () => {
        const role = input.dataset.picker ? `&role=${encodeURIComponent(input.dataset.picker)}` : "";
        const response = await fetch(`/people/pick?q=${encodeURIComponent(q)}${role}`, { credentials: "same-origin" });
        if (!response.ok) return;
        const people = await response.json();
        list.replaceChildren(...people.map((p) => {
          const option = document.createElement("option");
          option.value = many ? `${before || ""}${p.value}` : p.value;
          option.label = p.label;
          return option;
        }));
      }, 200);
    });
  });
  if (toggle && nav) {
    toggle.addEventListener("click", () => {
      const open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", String(open));
    });
  }
});

/** Sends `form` (with the button that sent it) and shows the answer: see the comment above. */
async function submitInline(form, submitter) {
  const data = new FormData(form, submitter || undefined);
  const body = form.enctype === "multipart/form-data" ? data : new URLSearchParams(data);
  const buttons = form.querySelectorAll("button");
  buttons.forEach((b) => (b.disabled = true));
  const done = () => {
    buttons.forEach((b) => (b.disabled = false));
    form.querySelectorAll("[data-busy-status]").forEach((e) => (e.hidden = true));
  };
  let response;
  try {
    response = await fetch(form.action, { method: "POST", body, headers: { "X-GridSafe-Inline": "1" }, credentials: "same-origin" });
  } catch {
    done();
    showProblems(form, null, document.body.dataset.offline || "");
    return;
  }
  const next = response.headers.get("X-GridSafe-Location");
  if (next) {
    const target = new URL(next, location.href);
    if (target.pathname === location.pathname && target.search === location.search) {
      // Back to this page (a step taken, a line added): load it afresh; the new page moves to
      // the target's place (#fragment) once it is there.
      sessionStorage.setItem("gridsafe-next-hash", target.hash || "#");
      location.reload();
    } else {
      location.assign(target.href);
    }
    return;
  }
  const type = response.headers.get("Content-Type") || "";
  const text = type.startsWith("text/html") ? await response.text() : null;
  if (response.ok && text !== null) {
    // A page answered in place (a preview, an import's result).
    document.open();
    document.write(text);
    document.close();
    return;
  }
  if (response.ok) {
    // A file: save it under the name the server gave.
    const blob = await response.blob();
    const name = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(response.headers.get("Content-Disposition") || "");
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name ? decodeURIComponent(name[1]) : "";
    a.click();
    done();
    return;
  }
  const page = text === null ? null : new DOMParser().parseFromString(text, "text/html").querySelector(".error-page");
  if (page === null && text !== null) {
    // A form page answered with its own words (sign-in): it replaces this one.
    document.open();
    document.write(text);
    document.close();
    return;
  }
  done();
  showProblems(form, page, response.statusText);
}

/** Puts an error page's words above the form's action, and each field problem beside its field. */
function showProblems(form, page, fallback) {
  form.querySelectorAll(".form-errors, .field-error").forEach((e) => e.remove());
  form.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
  const box = document.createElement("div");
  box.className = "form-errors";
  box.setAttribute("role", "alert");
  if (page) {
    const title = page.querySelector("h1");
    box.dataset.status = title?.dataset.status || "";
    const heading = document.createElement("p");
    heading.className = "form-errors-title";
    heading.textContent = title?.textContent || "";
    box.append(heading);
    page.querySelectorAll(".error-message, .problems, .rule").forEach((e) => box.append(document.importNode(e, true)));
    page.querySelectorAll(".problems li[data-field]").forEach((li) => {
      const input = form.querySelector(`[name="${CSS.escape(li.dataset.field)}"]`);
      if (!input || input.type === "hidden") return;
      input.setAttribute("aria-invalid", "true");
      const note = document.createElement("span");
      note.className = "field-error";
      note.textContent = li.textContent;
      (input.closest("label") || input).after(note);
    });
  } else {
    box.textContent = fallback;
  }
  const action = form.querySelector("button[type=submit], button:not([type]), .actions");
  const place = action?.closest(".actions") || action;
  if (place && place.parentElement && form.contains(place)) place.before(box);
  else form.prepend(box);
  box.scrollIntoView({ block: "nearest" });
}
