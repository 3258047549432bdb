// The action-serve page: upload a video to /v1/timeline (with the whole-video prediction, the plot and the
// labelled video), show the progress, then the top-k bars, the timeline and the video. Plain script, no
// build step, nothing loaded from elsewhere.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const form = $("upload-form");
  const input = $("file-input");
  const dropZone = $("drop-zone");
  const button = $("analyse-button");
  const progressArea = $("progress-area");
  const progress = $("progress");
  const progressLabel = $("progress-label");
  const statusLine = $("status");
  const errorBox = $("error");
  const results = $("results");
  const tokenRow = $("token-row");
  const tokenInput = $("token-input");

  let limits = null;
  let chosen = null;
  let busy = false;
  let videoUrl = null;

  // A token handed over in the address (#token=...) is kept for this tab only and removed from the address.
  const hashToken = new URLSearchParams(location.hash.slice(1)).get("token");
  if (hashToken) {
    sessionStorage.setItem("action-serve-token", hashToken);
    history.replaceState(null, "", location.pathname + location.search);
  }
  tokenInput.value = sessionStorage.getItem("action-serve-token") || "";
  tokenInput.addEventListener("change", () => {
    sessionStorage.setItem("action-serve-token", tokenInput.value.trim());
    loadModel();
  });

  function authHeaders() {
    const token = tokenInput.value.trim();
    return token ? { Authorization: "Bearer " + token } : {};
  }

  function formatBytes(n) {
    return n >= 1048576 ? (n / 1048576).toFixed(1) + " MB" : Math.max(1, Math.round(n / 1024)) + " KB";
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
    statusLine.textContent = "";
  }

  function clearError() {
    errorBox.hidden = true;
    errorBox.textContent = "";
  }

  async function loadModel() {
    try {
      const health = await (await fetch("/healthz")).json();
      if (health.token_required) tokenRow.hidden = false;
      const response = await fetch("/v1/models", { headers: authHeaders() });
      const body = await response.json();
      if (!response.ok) {
        $("model-info").textContent = "";
        showError(body.error ? body.error.message : "The server did not describe its model.");
        if (response.status === 401) { tokenRow.hidden = false; tokenInput.focus(); }
        return;
      }
      clearError();
      const model = body.models[0];
      limits = body.limits;
      const labels = model.labels.slice(0, 12).join(", ") + (model.labels.length > 12 ? ", …" : "");
      $("model-info").textContent =
        `Model ${model.type} (${model.name}), ${model.num_classes} actions: ${labels}.`;
      $("limits").textContent =
        `Videos up to ${formatBytes(limits.max_upload_bytes)} and ${limits.max_duration_seconds} s.`;
    } catch (err) {
      showError("The server cannot be reached: " + err.message);
    }
  }

  function choose(file) {
    chosen = file || null;
    button.disabled = !chosen || busy;
    if (chosen) analyse();
  }

  input.addEventListener("change", () => choose(input.files[0]));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (chosen && !busy) analyse();
  });
  ["dragenter", "dragover"].forEach((type) =>
    dropZone.addEventListener(type, (event) => {
      event.preventDefault();
      dropZone.classList.add("dragging");
    }));
  ["dragleave", "drop"].forEach((type) =>
    dropZone.addEventListener(type, () => dropZone.classList.remove("dragging")));
  dropZone.addEventListener("drop", (event) => {
    event.preventDefault();
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) choose(file);
  });

  function setBusy(value) {
    busy = value;
    button.disabled = value || !chosen;
    input.disabled = value;
    results.setAttribute("aria-busy", value ? "true" : "false");
  }

  function analyse() {
    const file = chosen;
    clearError();
    if (limits && file.size > limits.max_upload_bytes) {
      showError(`“${file.name}” is ${formatBytes(file.size)}, larger than this server accepts ` +
        `(${formatBytes(limits.max_upload_bytes)}); trim or compress it.`);
      return;
    }
    results.hidden = true;
    setBusy(true);
    progressArea.hidden = false;
    progress.value = 0;
    progressLabel.textContent = `Uploading ${file.name}…`;
    statusLine.textContent = `Uploading ${file.name}`;

    const data = new FormData();
    data.append("file", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/v1/timeline?include=prediction,plot,video");
    for (const [key, value] of Object.entries(authHeaders())) xhr.setRequestHeader(key, value);
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) progress.value = Math.round((100 * event.loaded) / event.total);
    });
    xhr.upload.addEventListener("load", () => {
      progress.removeAttribute("value"); // indeterminate while the model works
      progressLabel.textContent = "The model is watching the video…";
      statusLine.textContent = "Uploaded; the model is working";
    });
    xhr.addEventListener("load", () => {
      setBusy(false);
      progressArea.hidden = true;
      const body = xhr.response;
      if (xhr.status === 200 && body) {
        render(body);
        return;
      }
      let message = body && body.error ? body.error.message : `The server answered ${xhr.status}.`;
      if (xhr.status === 503 && xhr.getResponseHeader("Retry-After")) {
        message += ` (try again in ${xhr.getResponseHeader("Retry-After")} s)`;
      }
      if (xhr.status === 401) { tokenRow.hidden = false; tokenInput.focus(); }
      showError(message);
    });
    xhr.addEventListener("error", () => {
      setBusy(false);
      progressArea.hidden = true;
      showError("The upload failed: the connection to the server was lost." +
        (limits ? ` Videos above ${formatBytes(limits.max_upload_bytes)} are refused.` : ""));
    });
    xhr.send(data);
  }

  function render(doc) {
    const prediction = doc.prediction;
    $("result-name").textContent = doc.video.source;
    $("result-facts").textContent =
      `${doc.video.duration.toFixed(1)} s at ${doc.video.fps.toFixed(1)} frames/s; ` +
      `${doc.windows.length} windows of ${doc.window.seconds.toFixed(2)} s; the model took ${doc.seconds.toFixed(1)} s.`;

    const list = $("top-k");
    list.replaceChildren();
    for (const [label, score] of prediction.top_k) {
      const item = document.createElement("li");
      const name = document.createElement("span");
      name.className = "label";
      name.textContent = label;
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.setAttribute("aria-hidden", "true");
      const fill = document.createElement("span");
      fill.style.width = (100 * score).toFixed(1) + "%";
      bar.appendChild(fill);
      const value = document.createElement("span");
      value.className = "score";
      value.textContent = (100 * score).toFixed(1) + " %";
      item.append(name, bar, value);
      list.appendChild(item);
    }

    const plot = $("timeline-plot");
    plot.removeAttribute("data-loaded");
    plot.onload = () => plot.setAttribute("data-loaded", "true");
    const segmentText = doc.segments.length
      ? doc.segments.map((s) => `${s.label} from ${s.start.toFixed(1)} to ${s.end.toFixed(1)} s`).join("; ")
      : "no class stays above its threshold";
    plot.alt = `Class scores over the ${doc.video.duration.toFixed(1)} s of the video; segments: ${segmentText}.`;
    plot.src = doc.renders.plot;

    const rows = $("segments").tBodies[0];
    rows.replaceChildren();
    for (const s of doc.segments) {
      const row = rows.insertRow();
      for (const text of [s.label, s.start.toFixed(2), s.end.toFixed(2), s.score.toFixed(3)]) {
        row.insertCell().textContent = text;
      }
    }
    if (!doc.segments.length) {
      const cell = rows.insertRow().insertCell();
      cell.colSpan = 4;
      cell.textContent = "No segment: no class stays above its threshold.";
    }

    const video = $("labelled-video");
    video.removeAttribute("data-loaded");
    video.onloadeddata = () => video.setAttribute("data-loaded", "true");
    if (videoUrl) URL.revokeObjectURL(videoUrl);
    videoUrl = URL.createObjectURL(dataUrlToBlob(doc.renders.video));
    video.src = videoUrl;

    results.hidden = false;
    statusLine.textContent = `Done: the most likely action is ${prediction.top_k[0][0]}.`;
    $("results-heading").setAttribute("tabindex", "-1");
    $("results-heading").focus();
  }

  function dataUrlToBlob(url) {
    const comma = url.indexOf(",");
    const type = url.slice(5, url.indexOf(";"));
    const bytes = atob(url.slice(comma + 1));
    const array = new Uint8Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) array[i] = bytes.charCodeAt(i);
    return new Blob([array], { type });
  }

  loadModel();
})();
