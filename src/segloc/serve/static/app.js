"use strict";
// The segloc viewer: upload a scan, draw the detector's boxes, masks and scores (filtered by the
// slider), CHR class scores with CAM overlays, and the pretraining run's synthesised pairs.

const $ = (id) => document.getElementById(id);
const state = { info: null, image: null, detections: [], masks: [], colours: new Map() };

// COCO compressed RLE (pycocotools' string form) -> run lengths, zeros first, column-major.
function decodeCounts(text) {
  const counts = [];
  let p = 0;
  while (p < text.length) {
    let x = 0, k = 0, more = true;
    while (more) {
      const c = text.charCodeAt(p) - 48;
      x |= (c & 0x1f) << (5 * k);
      more = (c & 0x20) !== 0;
      p += 1;
      k += 1;
      if (!more && (c & 0x10)) x |= -1 << (5 * k);
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return counts;
}

// One detection's mask painted in its class colour on a canvas of the scan's size.
function maskCanvas(rle, colour) {
  const [h, w] = rle.size;
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d");
  const pixels = ctx.createImageData(w, h);
  const counts = decodeCounts(rle.counts);
  let p = 0;
  counts.forEach((run, i) => {
    if (i % 2 === 1) {
      for (let q = p; q < p + run; q++) {
        const o = ((q % h) * w + Math.floor(q / h)) * 4;
        pixels.data.set([colour[0], colour[1], colour[2], 115], o);
      }
    }
    p += run;
  });
  ctx.putImageData(pixels, 0, 0);
  return canvas;
}

function colourOf(categoryId) {
  return state.colours.get(categoryId) || [255, 255, 0];
}

function rgb(colour) {
  return `rgb(${colour[0]}, ${colour[1]}, ${colour[2]})`;
}

function draw() {
  const threshold = parseFloat($("score").value);
  $("score-value").textContent = threshold.toFixed(2);
  const canvas = $("view");
  const ctx = canvas.getContext("2d");
  ctx.drawImage(state.image, 0, 0);
  const shown = state.detections.map((d, i) => [d, i]).filter(([d]) => d.score >= threshold);
  const lowestFirst = [...shown].reverse();  // the best detections end up on top
  for (const [, i] of lowestFirst) if (state.masks[i]) ctx.drawImage(state.masks[i], 0, 0);
  const line = Math.max(2, Math.round(Math.max(canvas.width, canvas.height) / 300));
  ctx.font = `${6 * line + 4}px system-ui, sans-serif`;
  ctx.textBaseline = "top";
  for (const [d] of lowestFirst) {
    const [x, y, w, h] = d.bbox;
    const colour = rgb(colourOf(d.category_id));
    ctx.lineWidth = line;
    ctx.strokeStyle = colour;
    ctx.strokeRect(x, y, w, h);
    const text = `${d.category} ${d.score.toFixed(2)}`;
    const tw = ctx.measureText(text).width + 2 * line;
    const th = 6 * line + 8;
    const top = Math.max(0, y - th);
    ctx.fillStyle = colour;
    ctx.fillRect(x, top, tw, th);
    ctx.fillStyle = "#fff";
    ctx.fillText(text, x + line, top + 2);
  }
  canvas.dataset.drawn = String(shown.length);
  $("shown").textContent = `${shown.length} of ${state.detections.length} detections shown`;
  const body = $("detections").querySelector("tbody");
  body.replaceChildren(...shown.map(([d]) => {
    const row = document.createElement("tr");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = rgb(colourOf(d.category_id));
    const name = document.createElement("td");
    name.append(swatch, d.category);
    row.append(name, cell(d.score.toFixed(3)), cell(d.bbox.map((v) => v.toFixed(1)).join(", ")));
    return row;
  }));
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

async function post(endpoint, file) {
  const response = await fetch(endpoint, {
    method: "POST", body: file, headers: { "Content-Type": file.type || "application/octet-stream" },
  });
  let payload;
  try {
    payload = await response.json();
  } catch (err) {
    throw new Error(`${endpoint}: HTTP ${response.status}`);
  }
  if (!response.ok) throw new Error(payload.error || `HTTP ${response.status}`);
  return payload;
}

function showDetections(result) {
  state.detections = result.detections;
  state.masks = result.detections.map((d) => (d.segmentation ? maskCanvas(d.segmentation, colourOf(d.category_id)) : null));
  const canvas = $("view");
  canvas.width = result.width;
  canvas.height = result.height;
  $("score").min = String(state.info.detector.min_score);
  $("result").hidden = false;
  draw();
}

function showCam(result, name) {
  $("cam").src = result.cams[name];
  $("cam-caption").textContent = `CAM of ${name}`;
  for (const button of $("chr-scores").querySelectorAll("button")) {
    button.classList.toggle("selected", button.dataset.name === name);
  }
}

function showClassification(result) {
  const items = result.class_names.map((name, c) => {
    const button = document.createElement("button");
    button.dataset.name = name;
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = `${Math.round(100 * result.scores[c])}%`;
    const label = document.createElement("span");
    label.textContent = name;
    button.append(label, bar, result.scores[c].toFixed(3));
    button.addEventListener("click", () => showCam(result, name));
    const item = document.createElement("li");
    item.append(button);
    return item;
  });
  $("chr-scores").replaceChildren(...items);
  const best = result.scores.indexOf(Math.max(...result.scores));
  showCam(result, result.class_names[best]);
  $("chr").hidden = false;
}

async function handle(file) {
  if (!file) return;
  showError("");
  $("status").textContent = `${file.name}: working...`;
  try {
    const [detected, classified] = await Promise.all([
      state.info.detector ? post(`/api/detect?min_score=${state.info.detector.min_score}`, file) : null,
      state.info.chr ? post("/api/classify", file) : null,
    ]);
    state.image = await createImageBitmap(file);
    if (detected) showDetections(detected);
    if (classified) showClassification(classified);
    $("status").textContent = file.name;
  } catch (err) {
    $("status").textContent = "";
    showError(`${file.name}: ${err.message}`);
  }
}

function showOrigins(origins) {
  $("origins").replaceChildren(...Object.entries(origins).map(([role, path]) => {
    const item = document.createElement("li");
    item.textContent = `${role}: ${path}`;
    return item;
  }));
}

async function start() {
  state.info = await (await fetch("/api/info")).json();
  if (state.info.detector) {
    for (const c of state.info.detector.categories) state.colours.set(c.id, c.colour);
  }
  showOrigins(state.info.origins);
  $("upload").hidden = !(state.info.detector || state.info.chr);
  const gallery = [];
  for (let k = 0; k < state.info.pairs; k++) {
    const img = document.createElement("img");
    img.src = `/api/pairs/${k}.png`;
    img.alt = `synthesised pair ${k}`;
    gallery.push(img);
  }
  $("gallery").replaceChildren(...gallery);
  $("pairs").hidden = state.info.pairs === 0;
  $("file").addEventListener("change", (e) => handle(e.target.files[0]));
  $("score").addEventListener("input", draw);
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    handle(e.dataTransfer.files[0]);
  });
  document.body.dataset.ready = "true";
}

start();
