// The xsearch search page: plain JavaScript, no build step.
// Every piece of server data goes into the page through textContent (never
// innerHTML), so a document's text can never inject markup.
"use strict";

const KEY_STORAGE = "xsearch.apiKey";
const PAGE_SIZE = 10;
const $ = (id) => document.getElementById(id);

const state = { offset: 0, langs: new Set(), lastQuery: "", seq: 0 };

// Ranking options (GET /search balance, mode, group_translations). An option
// the user has not set is not sent, so the server's default applies; once set
// (on the page or through the URL) it is sent and kept in the URL.
const BALANCES = ["none", "centered", "interleave", "fair"];
const MODES = ["dense", "hybrid"];
const ranking = { balance: "", mode: null, group: null };

function rankingFromUrl(params) {
  const balance = params.get("balance");
  if (BALANCES.includes(balance)) ranking.balance = balance;
  const mode = params.get("mode");
  if (MODES.includes(mode)) ranking.mode = mode;
  const group = params.get("group_translations");
  if (group === "true" || group === "false") ranking.group = group === "true";
  $("balance").value = ranking.balance;
  if (ranking.mode !== null) $("hybrid").checked = ranking.mode === "hybrid";
  if (ranking.group !== null) $("group").checked = ranking.group;
}

// The ranking options that are set, as query parameters.
function rankingParams() {
  const params = {};
  if (ranking.balance) params.balance = ranking.balance;
  if (ranking.mode !== null) params.mode = ranking.mode;
  if (ranking.group !== null) params.group_translations = String(ranking.group);
  return params;
}

function initRanking() {
  const rerun = () => {
    if ($("q").value.trim()) search(0);
  };
  $("balance").addEventListener("change", () => {
    ranking.balance = BALANCES.includes($("balance").value) ? $("balance").value : "";
    rerun();
  });
  $("hybrid").addEventListener("change", () => {
    ranking.mode = $("hybrid").checked ? "hybrid" : "dense";
    rerun();
  });
  $("group").addEventListener("change", () => {
    ranking.group = $("group").checked;
    rerun();
  });
}

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

// Function words of the commonest languages: marking "in", "the", "un" in every
// snippet says nothing about why a hit matched.
const STOP_WORDS = new Set((
  "a an and are as at be by can did do does for from has have how in is it its of on or " +
  "that the this to was were what when where which who why will with " +
  "am auf aus bei das dem den der des die ein eine einem einen einer für im ist mit " +
  "nach oder sind und von war was wann wer wie wo zu zum zur " +
  "au aux ce cette dans de des du en est et la le les ou où par pour qui que quand sur un une " +
  "al con cómo cuándo del dónde el es las los para por qué quién se son una unos unas y " +
  "com da das dos em na nas no nos os onde são um uma é " +
  "che come di dove gli il lo nel nella per sono è " +
  "het een op voor wat waar " +
  "в во где и из как к кто на не о об от по с со что это у " +
  "bir bu da de ile mi mı ne nerede ve"
).split(" "));

// Words of the query (letters and digits in any script), for highlighting;
// stop words and single Latin letters are left unmarked.
function queryTerms(query) {
  const words = query.normalize("NFC").toLocaleLowerCase().match(/[\p{L}\p{N}\p{M}]+/gu) || [];
  return [...new Set(words)].filter(
    (w) => (w.length > 1 || /[^\x00-\x7f]/.test(w)) && !STOP_WORDS.has(w),
  );
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

// The other language versions of a grouped hit: one small badge each, the
// version's title and id as the tooltip (and as hidden text for screen readers).
function renderAlsoIn(versions) {
  const list = el("ul", { className: "also-in", "aria-label": "Also in other languages" });
  for (const a of versions) {
    const name = a.title ? `${a.title} (${a.doc_id})` : a.doc_id;
    const badge = el("span", { className: "badge lang", lang: "en",
      title: `${name} · score ${a.score.toFixed(3)}` }, a.lang);
    list.append(el("li", { dataset: { lang: a.lang, doc: a.doc_id } }, badge,
      el("span", { className: "visually-hidden", dir: "auto" }, `: ${name}`)));
  }
  return el("div", { className: "also" }, el("span", { "aria-hidden": "true" }, "also in:"),
    list);
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
  if (hit.also_in && hit.also_in.length) item.append(renderAlsoIn(hit.also_in));
  return item;
}

async function search(offset) {
  const q = $("q").value.trim();
  const collection = $("collection").value;
  if (!q || !collection) return;
  clearError();
  state.offset = offset;
  state.lastQuery = q;
  const seq = ++state.seq; // only the latest search may fill the page
  const options = rankingParams();
  const params = new URLSearchParams({ q, collection, k: String(PAGE_SIZE),
    offset: String(offset), ...options });
  for (const lang of state.langs) params.append("lang", lang);
  history.replaceState(null, "", `?${new URLSearchParams({ q, collection, ...options })}`);
  $("status").textContent = "Searching…";
  $("results").setAttribute("aria-busy", "true");
  const started = performance.now();
  try {
    const data = await api(`/search?${params}`);
    if (seq !== state.seq) return;
    const roundTrip = performance.now() - started;
    const terms = queryTerms(data.query);
    $("results").replaceChildren(...data.hits.map((h) => renderHit(h, terms, data.query_lang)));
    const cross = data.hits.filter((h) => h.cross_language).length;
    $("status").replaceChildren(
      "Query language: ", el("strong", { id: "query-lang" }, data.query_lang),
      ` · ${data.hits.length} hits (${cross} in other languages) · ` +
      `${data.timings.total_ms.toFixed(1)} ms on the server, ${roundTrip.toFixed(0)} ms total`,
      el("span", { className: "applied", title: "ranking applied by the server" },
        " · balance ", el("span", { id: "applied-balance" }, data.balance),
        " · mode ", el("span", { id: "applied-mode" }, data.mode)),
    );
    // Options left to the server show what it applied.
    if (ranking.mode === null) $("hybrid").checked = data.mode === "hybrid";
    if (ranking.group === null) $("group").checked = data.group_translations === true;
    $("pager").hidden = offset === 0 && data.hits.length < PAGE_SIZE;
    $("prev").disabled = offset === 0;
    $("next").disabled = data.hits.length < PAGE_SIZE;
  } catch (err) {
    if (seq !== state.seq) return;
    $("status").textContent = "";
    $("results").replaceChildren();
    showError(err);
  } finally {
    if (seq === state.seq) $("results").removeAttribute("aria-busy");
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
  initRanking();
  const urlParams = new URLSearchParams(location.search);
  rankingFromUrl(urlParams);
  const q = urlParams.get("q");
  loadCollections().then(() => {
    if (q) {
      $("q").value = q;
      search(0);
    }
  });
}

document.addEventListener("DOMContentLoaded", init);
