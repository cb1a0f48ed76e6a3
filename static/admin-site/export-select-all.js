// The export page's "Select all" toggle, wired here rather than in an inline onchange
// attribute, which our Content-Security-Policy blocks. onSelectToggleChange comes from
// django-import-export's export_selectable_fields.js, loaded before this file.
document.addEventListener("DOMContentLoaded", () => {
  const toggle = document.getElementById("select-all-toggle");
  if (toggle && typeof onSelectToggleChange === "function") {
    toggle.addEventListener("change", onSelectToggleChange);
  }
});
