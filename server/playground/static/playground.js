// The pixcast playground: pick an image, type a transformation, see what it does.
// Plain JavaScript, no build step. The server validates every keystroke
// (/playground/api/explain) and renders through the ordinary delivery URLs.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  // What an <img> sends, so f_auto negotiates here as it will on a real page.
  const IMAGE_ACCEPT = "image/avif,image/webp,image/apng,image/*,*/*;q=0.8";
  const SRCSET_WIDTHS = [320, 640, 960, 1280, 1920];
  const DEFAULT_TEXT = "c_fill,w_600,h_400";

  const state = {
    config: null,
    originals: [],
    uploads: [],
    image: null,
    explained: null,
    resultPath: "",
    result: null,
    resultUrl: "",
    token: 0,
    timer: 0,
    early: null,
    searchTimer: 0,
  };

  // --- small helpers -------------------------------------------------------------------

  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (name === "class") node.className = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value);
    }
    node.append(...children.filter((child) => child !== null && child !== undefined));
    return node;
  }

  function formatBytes(count) {
    if (count < 1024) return `${count} B`;
    if (count < 1024 * 1024) return `${(count / 1024).toFixed(1)} KB`;
    return `${(count / 1024 / 1024).toFixed(1)} MB`;
  }

  async function getJSON(path, signal) {
    const response = await fetch(path, { signal, headers: { accept: "application/json" } });
    return response.json();
  }

  // --- operator credentials: asked for on the first 401, kept in this tab only ----------

  const CREDENTIALS = "pixcast.credentials";

  function credentialHeaders() {
    const stored = sessionStorage.getItem(CREDENTIALS);
    return stored ? { authorization: `Basic ${stored}` } : {};
  }

  function askCredentials() {
    const dialog = $("credentials");
    return new Promise((resolve) => {
      dialog.addEventListener(
        "close",
        () => {
          const key = $("credentials-key").value;
          const secret = $("credentials-secret").value;
          $("credentials-secret").value = "";
          if (dialog.returnValue !== "ok" || !key) return resolve(false);
          const bytes = new TextEncoder().encode(`${key}:${secret}`);
          sessionStorage.setItem(CREDENTIALS, btoa(String.fromCharCode(...bytes)));
          resolve(true);
        },
        { once: true },
      );
      dialog.showModal();
    });
  }

  // Sends with the stored credentials; on a 401 asks once and sends again.
  async function withCredentials(send) {
    let response = await send(credentialHeaders());
    if (response.status === 401) {
      sessionStorage.removeItem(CREDENTIALS);
      if (await askCredentials()) response = await send(credentialHeaders());
    }
    return response;
  }

  function decodeHeader(value) {
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  }

  function setStatus(id, message, isError = false) {
    const node = $(id);
    node.textContent = message;
    node.classList.toggle("error", isError);
  }

  // --- the transformation string, edited as text ---------------------------------------

  function splitText(text) {
    const body = text.trim().replace(/^\/+|\/+$/g, "");
    return body ? body.split("/").map((component) => component.split(",")) : [];
  }

  function joinText(components) {
    return components.filter((c) => c.length).map((c) => c.join(",")).join("/");
  }

  function findParam(components, key) {
    for (let ci = 0; ci < components.length; ci++) {
      const pi = components[ci].findIndex((part) => part.startsWith(`${key}_`));
      if (pi >= 0) return { ci, pi, value: components[ci][pi].slice(key.length + 1) };
    }
    return null;
  }

  const DELIVERY_KEYS = /^(f|q|fl)_/;

  // Write key_value into the string (value "" removes it). Geometry and effects go into
  // the first component; format and quality into a trailing delivery component.
  function setParam(text, key, value, where) {
    const components = splitText(text);
    const found = findParam(components, key);
    const part = `${key}_${value}`;
    if (found) {
      if (value === "") components[found.ci].splice(found.pi, 1);
      else components[found.ci][found.pi] = part;
    } else if (value !== "") {
      const last = components[components.length - 1];
      if (!components.length) components.push([part]);
      else if (where !== "last") components[0].push(part);
      else if (last.every((p) => DELIVERY_KEYS.test(p))) last.push(part);
      else components.push([part]);
    }
    return joinText(components);
  }

  // --- URLs ------------------------------------------------------------------------------

  function encodeId(publicId) {
    return publicId.split("/").map(encodeURIComponent).join("/");
  }

  // The delivery path as the SDKs write it; uploads add their base in front.
  function deliveryPath(image, ...parts) {
    const steps = parts.filter(Boolean).join("/");
    const file = `${encodeId(image.public_id)}.${image.extension}`;
    return `/image/upload/${steps ? `${steps}/` : ""}${file}`;
  }

  function imagePath(image, ...parts) {
    return image.base + deliveryPath(image, ...parts);
  }

  async function signedPath(image, ...parts) {
    const path = deliveryPath(image, ...parts);
    const response = await withCredentials((headers) =>
      fetch(`/playground/api/sign?path=${encodeURIComponent(path)}`, {
        headers: { accept: "application/json", ...headers },
      }),
    );
    const answer = await response.json();
    if (!answer.ok) throw new Error(answer.error);
    return image.base + answer.path;
  }

  // In strict mode the server renders only signed URLs, so the page signs what it shows.
  function viewPath(image, ...parts) {
    const strict = state.config && state.config.signing.strict;
    return strict ? signedPath(image, ...parts) : Promise.resolve(imagePath(image, ...parts));
  }

  function absolute(path) {
    return new URL(path, location.origin).href;
  }

  // --- the image lists -----------------------------------------------------------------

  function sameImage(a, b) {
    return Boolean(a && b) && a.base === b.base && a.file === b.file;
  }

  function imageButton(image) {
    return el(
      "button",
      {
        type: "button",
        "aria-pressed": String(sameImage(image, state.image)),
        "data-file": image.file,
        onclick: () => selectImage(image),
      },
      el("span", {}, image.public_id),
      el("small", {}, formatBytes(image.bytes)),
    );
  }

  function renderLists() {
    $("image-list").replaceChildren(...state.originals.map((i) => el("li", {}, imageButton(i))));
    $("upload-list").replaceChildren(...state.uploads.map((i) => el("li", {}, imageButton(i))));
  }

  async function loadImages(query = "") {
    const listing = await getJSON(`/playground/api/images?q=${encodeURIComponent(query)}`);
    state.originals = listing.originals;
    state.uploads = listing.uploads;
    const count = listing.originals.length;
    const more = listing.truncated ? " (more exist: narrow the search)" : "";
    setStatus("list-status", `${count} original${count === 1 ? "" : "s"}${more}`);
    renderLists();
  }

  function selectImage(image) {
    state.image = image;
    renderLists();
    const original = $("original");
    // A preview as large as the pane shows it, in 200 px steps so it is cached across sizes.
    const wanted = original.parentElement.parentElement.clientWidth * devicePixelRatio;
    const side = Math.min(1600, Math.max(400, Math.ceil(wanted / 200) * 200));
    viewPath(image, `c_limit,h_${side},w_${side}`).then((path) => {
      if (sameImage(image, state.image)) original.src = path;
    });
    original.alt = `The original: ${image.public_id}`;
    $("original-info").textContent = formatBytes(image.bytes);
    $("overlay").replaceChildren();
    // The result on show belongs to the image before: it is stale until this one renders.
    document.body.dataset.result = "loading";
    scheduleUpdate(0);
  }

  // --- validation as you type ------------------------------------------------------------

  function scheduleUpdate(delay = 150) {
    clearTimeout(state.timer);
    state.timer = setTimeout(update, delay);
  }

  // The first explanation is asked for while the page loads its config, not after.
  function explainText(text) {
    const early = state.early;
    state.early = null;
    if (early && early.text === text) return early.answer;
    return getJSON(`/playground/api/explain?t=${encodeURIComponent(text)}`);
  }

  async function update() {
    const token = ++state.token;
    const text = $("transformation").value;
    saveHash(text);
    let explained;
    try {
      explained = await explainText(text);
    } catch (error) {
      setStatus("validation", `The server did not answer: ${error.message}`, true);
      return;
    }
    if (token !== state.token) return;
    syncControls(text);
    if (!explained.ok) {
      showInvalid(text, explained);
      return;
    }
    showValid(text, explained);
    if (state.image) await renderResult(token, explained);
  }

  function showInvalid(text, explained) {
    state.explained = null;
    $("transformation").setAttribute("aria-invalid", "true");
    setStatus("validation", explained.error, true);
    renderMirror(text, [], explained.parameter);
    $("steps").replaceChildren();
    $("canonical").textContent = "";
    document.body.dataset.result = "invalid";
  }

  function showValid(text, explained) {
    state.explained = explained;
    $("transformation").setAttribute("aria-invalid", "false");
    const count = explained.components.length;
    const what = count ? `Valid: ${count} step${count === 1 ? "" : "s"}` : "No transformation: the original as it is";
    setStatus("validation", what);
    $("canonical").textContent = explained.canonical || "(none)";
    const params = explained.components.flatMap((c) => c.params);
    renderMirror(text, params, null);
    renderSteps(explained);
  }

  // The string as typed, one span per parameter; the offending one marked.
  function renderMirror(text, params, bad) {
    const pieces = [];
    let at = 0;
    const marks = bad ? [{ ...bad, bad: true }] : [...params].sort((a, b) => a.start - b.start);
    for (const mark of marks) {
      if (mark.start < at) continue;
      pieces.push(text.slice(at, mark.start));
      const slice = text.slice(mark.start, mark.end);
      const attributes = { class: "param", "data-start": mark.start, "data-end": mark.end };
      pieces.push(mark.bad ? el("mark", { ...attributes, class: "param bad" }, slice) : el("span", attributes, slice));
      at = mark.end;
    }
    pieces.push(text.slice(at));
    $("mirror").replaceChildren(...pieces);
  }

  function renderSteps(explained) {
    const items = explained.components.map((component) =>
      el(
        "li",
        {},
        el("code", {}, component.tidy),
        el(
          "ul",
          {},
          ...component.params.map((param) =>
            el(
              "li",
              { "data-start": param.start, onmouseenter: light, onmouseleave: light },
              el("code", {}, param.text),
              " ",
              param.explanation,
            ),
          ),
        ),
      ),
    );
    $("steps").replaceChildren(...items);
  }

  function light(event) {
    const start = event.currentTarget.dataset.start;
    const on = event.type === "mouseenter";
    for (const span of $("mirror").querySelectorAll(".param")) {
      span.classList.toggle("lit", on && span.dataset.start === start);
    }
  }

  // A render error names a parameter (`Invalid dpr in transformation: 5`, `... with
  // c_scale`): mark the parameter of the typed string it is about.
  function highlightFromMessage(message) {
    if (!state.explained) return;
    const params = state.explained.components.flatMap((c) => c.params);
    const value = (message.match(/in transformation: (\S+)/) || [])[1];
    const gravity = (message.match(/^Gravity (\S+)/) || [])[1];
    const culprit =
      params.find((p) => message.includes(p.text)) ||
      params.find((p) => value !== undefined && p.text.endsWith(`_${value}`)) ||
      params.find((p) => gravity !== undefined && p.text === `g_${gravity}`);
    if (culprit) renderMirror($("transformation").value, [], culprit);
  }

  // --- the result --------------------------------------------------------------------------

  function serverTiming(header) {
    const spans = {};
    for (const item of (header || "").split(",")) {
      const [name, ...params] = item.trim().split(";");
      const duration = params.find((p) => p.trim().startsWith("dur="));
      if (name && duration) spans[name] = Number(duration.trim().slice(4));
    }
    return spans;
  }

  function loadInto(img, url) {
    return new Promise((resolve, reject) => {
      img.onload = () => resolve();
      img.onerror = () => reject(new Error("the browser could not decode the image"));
      img.src = url;
    });
  }

  async function renderResult(token, explained) {
    const path = await viewPath(state.image, explained.tidy);
    if (token !== state.token) return;
    state.resultPath = path;
    $("url").textContent = absolute(path);
    $("result-stage").classList.add("busy");
    document.body.dataset.result = "loading";
    let response;
    try {
      response = await fetch(path, { headers: { accept: IMAGE_ACCEPT } });
    } catch (error) {
      return showResultError(token, `The server did not answer: ${error.message}`);
    }
    if (token !== state.token) return;
    if (!response.ok) {
      const message = decodeHeader(response.headers.get("x-cld-error") || "") || (await response.text());
      highlightFromMessage(message);
      return showResultError(token, `${response.status}: ${message}`);
    }
    const type = response.headers.get("content-type") || "";
    const blob = await response.blob();
    if (token !== state.token) return;
    if (type.startsWith("application/json")) {
      return showResultError(token, `fl_getinfo answers JSON: ${await blob.text()}`, "json");
    }
    const url = URL.createObjectURL(blob);
    try {
      await loadInto($("result"), url);
    } catch (error) {
      URL.revokeObjectURL(url);
      return showResultError(token, error.message);
    }
    if (state.resultUrl) URL.revokeObjectURL(state.resultUrl);
    state.resultUrl = url;
    if (token !== state.token) return;
    showResultInfo(response, blob, type);
    await loadDetections(token, explained);
  }

  function showResultInfo(response, blob, type) {
    const img = $("result");
    const timing = serverTiming(response.headers.get("server-timing"));
    const format = type.replace("image/", "").toUpperCase();
    const cache = response.headers.get("x-cache") || "";
    const render = cache === "HIT" ? "cached" : `render ${(timing.render || 0).toFixed(1)} ms`;
    state.result = { width: img.naturalWidth, height: img.naturalHeight, format, bytes: blob.size };
    $("result-info").textContent =
      `${img.naturalWidth}×${img.naturalHeight} · ${format} · ${formatBytes(blob.size)} · ` +
      `${render} · total ${(timing.total || 0).toFixed(1)} ms${cache ? ` · ${cache}` : ""}`;
    $("result-stage").classList.remove("busy");
    $("result-error").textContent = "";
    $("result-error").className = "error";
    document.body.dataset.result = "ready";
    showSnippet(lastCopy).catch(() => {});
  }

  function showResultError(token, message, kind = "error") {
    if (token !== state.token) return;
    $("result-stage").classList.remove("busy");
    $("result-info").textContent = "";
    $("result-error").textContent = message;
    $("result-error").className = kind;
    state.result = null;
    document.body.dataset.result = kind;
  }

  // --- what the detectors saw, drawn over the original ------------------------------------

  async function loadDetections(token, explained) {
    const path = await viewPath(state.image, explained.tidy, "fl_getinfo");
    let info;
    try {
      const response = await fetch(path, { headers: { accept: IMAGE_ACCEPT } });
      info = await response.json();
    } catch {
      info = null;
    }
    if (token !== state.token) return;
    drawOverlay(info || {});
  }

  function box(kind, region, label) {
    const node = el("div", { class: `box ${kind}` }, el("span", {}, label));
    node.style.left = `${region.x * 100}%`;
    node.style.top = `${region.y * 100}%`;
    node.style.width = `${region.width * 100}%`;
    node.style.height = `${region.height * 100}%`;
    return node;
  }

  function score(region) {
    return typeof region.score === "number" ? ` ${Math.round(region.score * 100)}%` : "";
  }

  function drawOverlay(info) {
    const faces = Array.isArray(info.faces) ? info.faces : [];
    const objects = Array.isArray(info.objects) ? info.objects : [];
    const salient = Array.isArray(info.saliency) ? info.saliency : [];
    const boxes = [
      ...salient.map((s) => box("salient", s, `salient${score(s)}`)),
      ...faces.map((f) => box("face", f, `${f.label || "face"}${score(f)}`)),
      ...objects.map((o) => box("object", o, `${o.label || "object"}${score(o)}`)),
    ];
    if (info.crop) boxes.push(box("crop", info.crop, "kept"));
    const overlay = $("overlay");
    overlay.replaceChildren(...boxes);
    overlay.dataset.faces = String(faces.length);
    overlay.dataset.objects = String(objects.length);
    overlay.dataset.crop = info.crop ? "yes" : "no";
    if (info.input) {
      const i = info.input;
      $("original-info").textContent = `${i.width}×${i.height} · ${String(i.format).toUpperCase()} · ${formatBytes(i.bytes)}`;
    }
    $("detections").textContent = describeDetections(info, faces, objects);
  }

  function describeDetections(info, faces, objects) {
    const salient = Array.isArray(info.saliency) && info.saliency.length ? " The dotted box is the salient area." : "";
    if (!("faces" in info) && !("objects" in info)) {
      const crop = info.crop ? "The dashed box is the part of the original that was kept. " : "";
      return `${crop}${salient}No face or object detector ran: faces and objects are looked for with g_face, g_faces, g_auto and object gravities.`;
    }
    const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
    const kept = info.crop ? " The dashed box is the part of the original that was kept." : "";
    return `Found ${plural(faces.length, "face")} and ${plural(objects.length, "object")}.${salient}${kept}`;
  }

  // --- controls that write into the string and back --------------------------------------

  function fillSelect(select, values, labels = {}) {
    for (const value of values) select.append(el("option", { value }, labels[value] || value));
  }

  function setSelect(select, value) {
    if (value && ![...select.options].some((o) => o.value === value)) {
      select.append(el("option", { value }, value));
    }
    select.value = value;
  }

  function syncControls(text) {
    const components = splitText(text);
    for (const control of document.querySelectorAll(".controls [data-key]")) {
      const found = findParam(components, control.dataset.key);
      const value = found ? found.value : "";
      if (control.tagName === "SELECT") setSelect(control, value);
      else if (document.activeElement !== control) control.value = /^\d+$/.test(value) ? value : "";
    }
    const effect = findParam(components, "e");
    const [name, ...values] = effect ? effect.value.split(":") : [""];
    setSelect($("c-effect"), name);
    syncLevel(name, values.find((v) => /^-?\d+$/.test(v)));
  }

  function effectSpec(name) {
    return (state.config.effects || []).find((e) => e.name === name);
  }

  function syncLevel(name, level) {
    const slider = $("c-level");
    // The slider drives the effect's first numeric parameter (`e_sepia:50`).
    const param = (effectSpec(name) || { slider: null }).slider;
    slider.disabled = !param;
    if (!param) {
      $("c-level-value").textContent = "";
      return;
    }
    slider.min = param.low;
    slider.max = param.high;
    slider.step = Number.isInteger(param.low) && Number.isInteger(param.high) ? "1" : "any";
    slider.value = level !== undefined ? level : param.default !== null ? param.default : param.low;
    slider.setAttribute("aria-label", `${name} ${param.name}`);
    $("c-level-value").textContent = level !== undefined ? level : "default";
  }

  function onControl(event) {
    const control = event.target;
    const input = $("transformation");
    if (control.id === "c-effect" || control.id === "c-level") {
      const name = $("c-effect").value;
      const value = name && control.id === "c-level" ? `${name}:${$("c-level").value}` : name;
      input.value = setParam(input.value, "e", value, "first");
    } else {
      input.value = setParam(input.value, control.dataset.key, control.value.trim(), control.dataset.where);
    }
    scheduleUpdate(control.type === "number" || control.type === "range" ? 250 : 0);
  }

  // --- copy buttons --------------------------------------------------------------------

  let lastCopy = "url";

  // The components with `dpr_<n>` in the one that sets the width (none for 1x, so the
  // 1x URL is the plain one), parameters kept in the SDKs' sorted order.
  function withDpr(components, index, dpr) {
    const copy = components.map((c) => [...c]);
    copy[index] = copy[index].filter((p) => !p.startsWith("dpr_"));
    if (dpr !== 1) copy[index].push(`dpr_${dpr.toFixed(1)}`);
    copy[index].sort();
    return copy;
  }

  // 1x/2x/3x when the width is fixed in pixels, else widths for a fluid layout.
  function srcsetTag() {
    const components = splitText(state.explained ? state.explained.tidy : "");
    const width = findParam(components, "w");
    const alt = 'alt=""';
    if (width && /^\d+$/.test(width.value)) {
      const densities = [1, 2, 3].filter((d) => d <= state.config.max_dpr);
      const urls = densities.map((d) => absolute(imagePath(state.image, joinText(withDpr(components, width.ci, d)))));
      const srcset = urls.map((url, i) => `${url} ${densities[i]}x`).join(",\n        ");
      return `<img src="${urls[0]}"\n     srcset="${srcset}"\n     width="${width.value}" ${alt} loading="lazy" decoding="async">`;
    }
    const url = (n) => absolute(imagePath(state.image, joinText([...components, ["c_limit", `w_${n}`]])));
    const srcset = SRCSET_WIDTHS.map((n) => `${url(n)} ${n}w`).join(",\n        ");
    return `<img src="${url(960)}"\n     srcset="${srcset}"\n     sizes="100vw" ${alt} loading="lazy" decoding="async">`;
  }

  function imgTag() {
    const url = absolute(state.resultPath);
    const dpr = findParam(splitText(state.explained.tidy), "dpr");
    const ratio = dpr ? Number(dpr.value) || 1 : 1;
    const size = state.result
      ? ` width="${Math.round(state.result.width / ratio)}" height="${Math.round(state.result.height / ratio)}"`
      : "";
    return `<img src="${url}"${size} alt="" loading="lazy" decoding="async">`;
  }

  async function snippet(kind) {
    if (!state.image || !state.explained) return "";
    if (kind === "img") return imgTag();
    if (kind === "srcset") return srcsetTag();
    if (kind === "signed") return absolute(await signedPath(state.image, state.explained.tidy));
    return absolute(state.resultPath);
  }

  async function showSnippet(kind) {
    $("snippet").textContent = await snippet(kind);
  }

  async function copy(kind) {
    let text;
    try {
      text = await snippet(kind);
    } catch (error) {
      return setStatus("copy-status", `Could not sign the URL: ${error.message}`, true);
    }
    if (!text) return setStatus("copy-status", "Nothing to copy yet: the transformation is not valid.", true);
    lastCopy = kind;
    $("snippet").textContent = text;
    try {
      await navigator.clipboard.writeText(text);
      setStatus("copy-status", "Copied to the clipboard.");
    } catch {
      const range = document.createRange();
      range.selectNodeContents($("snippet"));
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      setStatus("copy-status", "Selected below: press Ctrl+C (or ⌘C) to copy.");
    }
  }

  function setUpSigning(signing) {
    const button = $("copy-signed");
    button.disabled = !signing.enabled;
    $("signing-note").textContent = signing.enabled ? "" : signing.note || "";
    if (!signing.enabled) button.setAttribute("aria-describedby", "signing-note");
  }

  // --- uploads -------------------------------------------------------------------------

  async function uploadFile(file) {
    const limits = state.config.uploads;
    if (file.size > limits.max_bytes) {
      return setStatus(
        "upload-status",
        `${file.name} is ${formatBytes(file.size)}; the playground accepts uploads up to ${formatBytes(limits.max_bytes)}.`,
        true,
      );
    }
    setStatus("upload-status", `Uploading ${file.name}…`);
    let answer;
    try {
      const response = await withCredentials((headers) =>
        fetch(`/playground/api/uploads?name=${encodeURIComponent(file.name)}`, {
          method: "POST",
          body: file,
          headers: { "content-type": file.type || "application/octet-stream", ...headers },
        }),
      );
      answer = await response.json();
    } catch (error) {
      return setStatus("upload-status", `${file.name} was not uploaded: ${error.message}`, true);
    }
    if (!answer.ok) return setStatus("upload-status", `${file.name} was refused: ${answer.error}`, true);
    const size = `${answer.width}×${answer.height} ${answer.format.toUpperCase()}`;
    setStatus("upload-status", `${file.name} uploaded (${size}, ${formatBytes(answer.image.bytes)}).`);
    await loadImages($("search").value);
    selectImage(state.uploads.find((i) => sameImage(i, answer.image)) || answer.image);
  }

  function setUpDrop() {
    const zone = $("drop-zone");
    const over = (on) => (event) => {
      event.preventDefault();
      zone.classList.toggle("over", on);
    };
    // Anywhere on the page: a file dropped beside the zone should not navigate away.
    document.addEventListener("dragover", over(true));
    document.addEventListener("dragleave", over(false));
    document.addEventListener("drop", (event) => {
      over(false)(event);
      const file = event.dataTransfer && event.dataTransfer.files[0];
      if (file) uploadFile(file);
    });
    $("file-input").addEventListener("change", (event) => {
      const file = event.target.files[0];
      if (file) uploadFile(file);
      event.target.value = "";
    });
    const limits = state.config.uploads;
    $("upload-limits").textContent =
      `${limits.formats}; up to ${formatBytes(limits.max_bytes)} and ${Math.round(limits.max_pixels / 1e6)} megapixels.`;
  }

  // --- the gallery ----------------------------------------------------------------------

  function renderGallery() {
    const items = state.config.examples.map((example) =>
      el(
        "li",
        {},
        el(
          "button",
          {
            type: "button",
            title: example.available ? example.transformation : example.reason,
            onclick: () => useExample(example),
            ...(example.available ? {} : { disabled: "" }),
          },
          el("strong", {}, example.title),
          el("span", {}, example.available ? example.description : example.reason),
        ),
      ),
    );
    $("gallery").replaceChildren(...items);
  }

  function useExample(example) {
    $("transformation").value = example.transformation;
    const image = state.originals.find((i) => i.file === example.image && !i.base);
    if (image) selectImage(image);
    else scheduleUpdate(0);
  }

  // --- state in the address bar, so a link reopens the same view -------------------------

  function saveHash(text) {
    const params = new URLSearchParams({ t: text });
    if (state.image) params.set("image", `${state.image.base ? "uploads:" : ""}${state.image.file}`);
    history.replaceState(null, "", `#${params}`);
  }

  function restore() {
    const params = new URLSearchParams(location.hash.slice(1));
    $("transformation").value = params.has("t") ? params.get("t") : DEFAULT_TEXT;
    const wanted = params.get("image") || "";
    const fromUploads = wanted.startsWith("uploads:");
    const file = fromUploads ? wanted.slice(8) : wanted;
    const pool = fromUploads ? state.uploads : state.originals;
    return (
      pool.find((i) => i.file === file) ||
      state.originals.find((i) => i.file === "sample.jpg") ||
      state.originals[0] ||
      state.uploads[0] ||
      null
    );
  }

  // --- start -----------------------------------------------------------------------------

  async function start() {
    const hashed = new URLSearchParams(location.hash.slice(1));
    const first = hashed.has("t") ? hashed.get("t") : DEFAULT_TEXT;
    const answer = getJSON(`/playground/api/explain?t=${encodeURIComponent(first)}`);
    state.early = { text: first, answer };
    const [config] = await Promise.all([getJSON("/playground/api/config"), loadImages()]);
    state.config = config;
    fillSelect($("c-crop"), config.crop_modes);
    fillSelect($("c-gravity"), config.gravities);
    fillSelect($("c-format"), config.formats);
    fillSelect($("c-quality"), config.qualities);
    fillSelect($("c-effect"), config.effects.map((e) => e.name));
    setUpSigning(config.signing);
    setUpDrop();
    renderGallery();
    for (const control of document.querySelectorAll(".controls select, .controls input")) {
      control.addEventListener(control.type === "number" || control.type === "range" ? "input" : "change", onControl);
    }
    $("transformation").addEventListener("input", () => scheduleUpdate());
    $("form").addEventListener("submit", (event) => {
      event.preventDefault();
      scheduleUpdate(0);
    });
    $("search").addEventListener("input", () => {
      clearTimeout(state.searchTimer);
      state.searchTimer = setTimeout(() => loadImages($("search").value), 200);
    });
    $("show-overlay").addEventListener("change", (event) => {
      $("overlay").classList.toggle("hidden", !event.target.checked);
    });
    $("mirror").addEventListener("click", (event) => {
      const span = event.target.closest(".param");
      if (!span) return;
      const input = $("transformation");
      input.focus();
      input.setSelectionRange(Number(span.dataset.start), Number(span.dataset.end));
    });
    for (const button of document.querySelectorAll("[data-copy]")) {
      button.addEventListener("click", () => copy(button.dataset.copy));
    }
    const image = restore();
    if (image) selectImage(image);
    else {
      setStatus("list-status", "No images yet: upload one.");
      scheduleUpdate(0);
    }
    document.body.dataset.ready = "yes";
  }

  start().catch((error) => setStatus("validation", `The playground could not start: ${error.message}`, true));
})();
