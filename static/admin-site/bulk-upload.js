// Bulk upload, one file per request: each file gets its own progress bar and result line,
// and no request carries more than one file's work (the router gives a request 30 s).
// Files go one after another, so the last answer tells which images are still on the
// shelf: earlier ones that a later file pushed off lose their link (their page is gone).
// Without this script the form sends every file at once, and the server lists them.
// Its words come translated in the form's data- attributes (bulk_upload.html).
"use strict";

// The form's data-<key>, its %(name)s placeholders filled from `values`.
function say(form, key, values = {}) {
  return form.dataset[key].replace(/%\((\w+)\)s/g, (_, name) => values[name]);
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("bulk-upload-form");
  if (!form || typeof FormData === "undefined") {
    return;
  }
  const input = form.querySelector('input[type="file"]');
  const descriptions = document.getElementById("bulk-descriptions");
  input.addEventListener("change", () => showDescriptions(descriptions, input.files));
  form.addEventListener("submit", (event) => {
    const files = Array.from(input.files);
    if (files.length === 0) {
      return; // sent as it is: the server answers with the form's error
    }
    event.preventDefault();
    uploadAll(form, input, files, descriptions);
  });
});

// A description field per chosen file, filled in before sending. The texts come from the
// template (data-label, data-help), which translates them.
function showDescriptions(area, files) {
  area.replaceChildren();
  for (const [index, file] of Array.from(files).entries()) {
    const row = document.createElement("div");
    row.className = "form-row";
    const label = document.createElement("label");
    label.htmlFor = `id_description_${index}`;
    label.textContent = area.dataset.label.replace("%(name)s", file.name);
    const field = document.createElement("input");
    field.type = "text";
    field.name = "description";
    field.id = label.htmlFor;
    field.maxLength = 500;
    field.className = "vTextField";
    field.setAttribute("aria-describedby", "bulk-descriptions-help");
    row.append(label, field);
    area.append(row);
  }
  if (files.length) {
    const help = document.createElement("div");
    help.className = "help";
    help.id = "bulk-descriptions-help";
    help.textContent = area.dataset.help;
    area.append(help);
  }
}

async function uploadAll(form, input, files, descriptions) {
  const texts = Array.from(descriptions.querySelectorAll("input"), (field) => field.value);
  const button = form.querySelector('[type="submit"]');
  button.disabled = true;
  const { rows, summary } = showTable(form, files);
  let stored = 0;
  for (const [index, file] of files.entries()) {
    const row = rows[index];
    const answer = await send(form, input.name, file, texts[index] || "", row.progress);
    row.progress.value = row.progress.max;
    const result = answer.body && answer.body.results ? answer.body.results[0] : null;
    if (result) {
      showResult(form, row, result);
      stored += result.image ? 1 : 0;
      markReplaced(rows, answer.body.on_shelf);
    } else if (answer.body && answer.body.error) {
      row.result.textContent = answer.body.error;
    } else {
      row.result.textContent = say(form, "notSent");
    }
  }
  summary.textContent = say(form, "summary", { stored, total: files.length });
  form.reset();
  descriptions.replaceChildren();
  button.disabled = false;
}

function showTable(form, files) {
  const area = document.getElementById("bulk-results-area");
  area.replaceChildren();
  const heading = document.createElement("h2");
  heading.textContent = say(form, "results");
  const table = document.createElement("table");
  table.id = "bulk-results";
  const head = table.createTHead().insertRow();
  for (const title of ["file", "progress", "result"].map((key) => say(form, key))) {
    const cell = document.createElement("th");
    cell.scope = "col";
    cell.textContent = title;
    head.append(cell);
  }
  const body = table.createTBody();
  const rows = files.map((file) => {
    const tr = body.insertRow();
    tr.insertCell().textContent = file.name;
    const progress = document.createElement("progress");
    progress.max = Math.max(file.size, 1);
    progress.value = 0;
    progress.setAttribute("aria-label", say(form, "uploadOf", { name: file.name }));
    tr.insertCell().append(progress);
    const result = tr.insertCell();
    result.textContent = say(form, "waiting");
    return { tr, progress, result };
  });
  const summary = document.createElement("p");
  summary.setAttribute("role", "status");
  area.append(heading, table, summary);
  return { rows, summary };
}

function send(form, name, file, description, progress) {
  return new Promise((resolve) => {
    const data = new FormData();
    data.append("csrfmiddlewaretoken", form.elements.csrfmiddlewaretoken.value);
    data.append(name, file);
    data.append("description", description);
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) {
        progress.max = event.total;
        progress.value = event.loaded;
      }
    });
    request.addEventListener("load", () => {
      let body = null;
      try {
        body = JSON.parse(request.responseText);
      } catch {
        body = null;
      }
      resolve({ status: request.status, body });
    });
    request.addEventListener("error", () => resolve({ status: 0, body: null }));
    request.send(data);
  });
}

function showResult(form, row, result) {
  row.result.replaceChildren();
  if (result.url) {
    const link = document.createElement("a");
    link.href = result.url;
    link.textContent = result.title;
    // The link where the translation puts the title ("Stored as %(title)s").
    const [before, after] = say(form, "storedAs", { title: "\u0000" }).split("\u0000");
    row.result.append(before, link, after, result.note ? ` ${result.note}` : "");
    row.tr.dataset.image = result.image;
    row.tr.dataset.replaced = result.replaced;
  } else {
    row.result.textContent = result.message;
  }
}

function markReplaced(rows, onShelf) {
  const present = new Set(onShelf.map(String));
  for (const row of rows) {
    if (row.tr.dataset.image && !present.has(row.tr.dataset.image)) {
      row.result.textContent = row.tr.dataset.replaced;
      delete row.tr.dataset.image;
    }
  }
}
