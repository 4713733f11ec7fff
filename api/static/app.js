// The xsearch search page: plain JavaScript, no build step.
// Every piece of server data goes into the page through textContent (never
// innerHTML), so a document's text can never inject markup.
"use strict";

const KEY_STORAGE = "xsearch.apiKey";
const PAGE_SIZE = 10;
const $ = (id) => document.getElementById(id);

const state = { offset: 0, langs: new Set(), lastQuery: "" };

function apiKey() {
  return localStorage.getItem(KEY_STORAGE) || "";
}

async function api(path) {
  const headers = { Accept: "application/json" };
  const key = apiKey();
  if (key) headers["X-API-Key"] = key;
  const resp = await fetch(path, { headers });
  let body = null;
  try {
    body = await resp.json();
  } catch (_) {
    body = { error: "bad_response", detail: `HTTP ${resp.status}` };
  }
  if (!resp.ok) {
    const err = new Error(body.detail || `HTTP ${resp.status}`);
    err.status = resp.status;
    throw err;
  }
  return body;
}

function showError(err) {
  const box = $("error");
  box.textContent = err.message;
  box.hidden = false;
  if (err.status === 401) $("key-box").open = true;
}

function clearError() {
  $("error").hidden = true;
  $("error").textContent = "";
}

async function loadCollections() {
  const select = $("collection");
  try {
    const data = await api("/collections");
    select.replaceChildren();
    for (const c of data.collections) {
      const opt = document.createElement("option");
      opt.value = c.name;
      opt.textContent = c.compatible ? c.name : `${c.name} (other model)`;
      opt.disabled = !c.compatible;
      select.append(opt);
    }
    const wanted = new URLSearchParams(location.search).get("collection");
    if (wanted && data.collections.some((c) => c.name === wanted)) select.value = wanted;
    if (!data.collections.length) {
      $("status").textContent = "No collection yet: index documents first (xsearch index …).";
    }
    await loadLanguages();
  } catch (err) {
    showError(err);
  }
}

async function loadLanguages() {
  const name = $("collection").value;
  const box = $("lang-chips");
  box.replaceChildren();
  state.langs.clear();
  if (!name) return;
  const info = await api(`/collections/${encodeURIComponent(name)}`);
  const langs = Object.entries(info.languages).sort((a, b) => b[1] - a[1]);
  for (const [lang, count] of langs) {
    const chip = document.createElement("button");
    chip.type = "button";
    chip.className = "chip";
    chip.dataset.lang = lang;
    chip.setAttribute("aria-pressed", "false");
    chip.title = `${count} passages`;
    chip.textContent = lang;
    chip.addEventListener("click", () => {
      const on = chip.getAttribute("aria-pressed") !== "true";
      chip.setAttribute("aria-pressed", String(on));
      if (on) state.langs.add(lang);
      else state.langs.delete(lang);
      if (state.lastQuery) search(0);
    });
    box.append(chip);
  }
  $("langs").hidden = langs.length < 2;
}

// Words of the query (letters and digits in any script), for highlighting.
function queryTerms(query) {
  const words = query.normalize("NFC").toLocaleLowerCase().match(/[\p{L}\p{N}\p{M}]+/gu) || [];
  return [...new Set(words)].filter((w) => w.length > 1 || /[^\x00-\x7f]/.test(w));
}

// Scripts written without spaces between words: there a term matches anywhere.
const SPACELESS = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;

function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// Whole words elsewhere: "el" must not light up inside "cancelled".
function termPattern(term) {
  const t = escapeRegExp(term);
  return SPACELESS.test(term) ? t : `(?<![\\p{L}\\p{N}\\p{M}])${t}(?![\\p{L}\\p{N}\\p{M}])`;
}

// Append `text` to `parent`, wrapping occurrences of the terms in <mark>.
function appendHighlighted(parent, text, terms) {
  if (!terms.length) {
    parent.append(text);
    return;
  }
  // Longest first, so a longer term wins over a shorter one it contains.
  const sorted = [...terms].sort((a, b) => b.length - a.length);
  const pattern = new RegExp(sorted.map(termPattern).join("|"), "giu");
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    if (m.index > last) parent.append(text.slice(last, m.index));
    const mark = document.createElement("mark");
    mark.textContent = m[0];
    parent.append(mark);
    last = m.index + m[0].length;
  }
  if (last < text.length) parent.append(text.slice(last));
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "dataset") Object.assign(node.dataset, v);
    else if (k in node) node[k] = v;
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

function renderHit(hit, terms, queryLang) {
  const title = hit.title || hit.doc_id;
  const heading = el("h2", { className: "hit-title", dir: "auto" });
  if (hit.url && /^https?:\/\//i.test(hit.url)) {
    heading.append(el("a", { href: hit.url, rel: "noopener noreferrer" }, title));
  } else {
    heading.append(title);
  }
  const meta = el("div", { className: "hit-meta" },
    el("span", { className: "badge lang", title: `document language: ${hit.lang}`,
      lang: "en" }, hit.lang),
  );
  if (hit.cross_language) {
    meta.append(el("span", { className: "badge cross",
      title: `found across languages: query in ${queryLang}, document in ${hit.lang}` },
    `↔ ${queryLang}→${hit.lang}`));
  }
  meta.append(el("span", { className: "score", title: "similarity score" },
    `score ${hit.score.toFixed(3)}`));
  meta.append(el("span", { className: "offsets", title: "snippet position in the document" },
    `chars ${hit.snippet.start}–${hit.snippet.end}`));
  const snippet = el("p", { className: "snippet", dir: "auto", lang: hit.lang });
  appendHighlighted(snippet, hit.snippet.text, terms);
  const item = el("li", { className: "hit", dataset: { lang: hit.lang, doc: hit.doc_id,
    cross: String(hit.cross_language) } }, heading, meta, snippet);
  if (hit.also_in && hit.also_in.length) {
    const also = hit.also_in.map((a) => `${a.lang}: ${a.title || a.doc_id}`).join(" · ");
    item.append(el("p", { className: "also", dir: "auto" }, `also in ${also}`));
  }
  return item;
}

async function search(offset) {
  const q = $("q").value.trim();
  const collection = $("collection").value;
  if (!q || !collection) return;
  clearError();
  state.offset = offset;
  state.lastQuery = q;
  const params = new URLSearchParams({ q, collection, k: String(PAGE_SIZE),
    offset: String(offset) });
  for (const lang of state.langs) params.append("lang", lang);
  history.replaceState(null, "", `?${new URLSearchParams({ q, collection })}`);
  $("status").textContent = "Searching…";
  $("results").setAttribute("aria-busy", "true");
  const started = performance.now();
  try {
    const data = await api(`/search?${params}`);
    const roundTrip = performance.now() - started;
    const terms = queryTerms(data.query);
    $("results").replaceChildren(...data.hits.map((h) => renderHit(h, terms, data.query_lang)));
    const cross = data.hits.filter((h) => h.cross_language).length;
    $("status").replaceChildren(
      "Query language: ", el("strong", { id: "query-lang" }, data.query_lang),
      ` · ${data.hits.length} hits (${cross} in other languages) · ` +
      `${data.timings.total_ms.toFixed(1)} ms on the server, ${roundTrip.toFixed(0)} ms total`,
    );
    $("pager").hidden = offset === 0 && data.hits.length < PAGE_SIZE;
    $("prev").disabled = offset === 0;
    $("next").disabled = data.hits.length < PAGE_SIZE;
  } catch (err) {
    $("status").textContent = "";
    $("results").replaceChildren();
    showError(err);
  } finally {
    $("results").removeAttribute("aria-busy");
  }
}

function init() {
  $("api-key").value = apiKey();
  $("save-key").addEventListener("click", () => {
    const key = $("api-key").value.trim();
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
    loadCollections();
  });
  $("search-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    search(0);
  });
  $("collection").addEventListener("change", () => loadLanguages().catch(showError));
  $("prev").addEventListener("click", () => search(Math.max(0, state.offset - PAGE_SIZE)));
  $("next").addEventListener("click", () => search(state.offset + PAGE_SIZE));
  const q = new URLSearchParams(location.search).get("q");
  loadCollections().then(() => {
    if (q) {
      $("q").value = q;
      search(0);
    }
  });
}

document.addEventListener("DOMContentLoaded", init);
