// The retrieval server's web page: pick a product, describe a change, refine turn by turn, roll back.
// Plain browser JavaScript on purpose: no build step, no framework, nothing loaded from another origin.

const PAGE_SIZE = 24;
const RESULT_LIMIT = 12;
const TOKEN_KEY = 'cir.token';
const POLL_MILLISECONDS = 2000;
/** How long the catalog filter waits after the last key before it asks the server. */
const FILTER_DELAY_MILLISECONDS = 250;

const state = {
  token: '',
  collections: [],
  collection: '',
  catalogOffset: 0,
  /** The catalog filter's words (`GET …/items?q=`): the catalog shows the products they find. */
  catalogQuery: '',
  /** Counts catalog requests, so that an answer overtaken by a newer request is dropped. */
  catalogRequests: 0,
  /** Counts collection choices, so that a wait for a collection being built ends when the shopper picks another. */
  collectionChoices: 0,
  sessionId: undefined,
  /** The next turn's reference: { id, imageUrl, caption }. */
  reference: undefined,
  /** The session's turns as the server reports them: { turn, referenceId, text, results }. */
  turns: [],
  results: [],
  pending: 0,
};
/** Image URL and caption of every item shown so far, so that history entries can show their reference. */
const seenItems = new Map();

const element = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// ---- Status line and busy indicator -------------------------------------------------------------------------

function showStatus(message, kind = 'info') {
  const status = element('status');
  status.textContent = message;
  status.dataset.kind = kind;
}

function showError(error) {
  if (error instanceof ApiError) showStatus(`Error: ${error.message} (${error.code})`, 'error');
  else showStatus(`Error: ${error instanceof Error ? error.message : String(error)}`, 'error');
}

/** Runs a user action; whatever goes wrong ends up in the status line. */
async function guarded(action) {
  try {
    await action();
  } catch (error) {
    showError(error);
  }
}

function setBusy(change) {
  state.pending += change;
  const busy = state.pending > 0;
  element('busy').hidden = !busy;
  document.body.setAttribute('aria-busy', String(busy));
  element('search-button').disabled = busy;
}

// ---- Talking to the API -------------------------------------------------------------------------------------

/** The token comes once in the URL (`?token=`), then lives in sessionStorage, out of the address bar. */
function readToken() {
  const url = new URL(window.location.href);
  // An empty `?token=` is no token: it neither replaces the saved one nor stays in the address bar.
  const fromUrl = url.searchParams.get('token') || undefined;
  if (url.searchParams.has('token')) {
    url.searchParams.delete('token');
    window.history.replaceState(null, '', url);
  }
  try {
    if (fromUrl) sessionStorage.setItem(TOKEN_KEY, fromUrl);
    return fromUrl ?? sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    // Storage can be disabled (private modes, strict settings): the URL's token still works for this page.
    return fromUrl ?? '';
  }
}

async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  setBusy(1);
  try {
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new ApiError(0, 'network', `cannot reach the server (${error.message})`);
    }
    if (response.status === 401) {
      throw new ApiError(
        401,
        'unauthorized',
        state.token
          ? 'the server refused the access token; open this page with ?token=<a valid token>'
          : 'this server needs an access token; open this page with ?token=<your token>',
      );
    }
    const text = await response.text();
    let json;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      const message = json?.error?.message ?? `${response.status} ${response.statusText}`;
      throw new ApiError(response.status, json?.error?.code ?? `http_${response.status}`, message);
    }
    if (json === undefined)
      throw new ApiError(response.status, 'bad_response', `${path} did not return JSON`);
    return json;
  } finally {
    setBusy(-1);
  }
}

const sessionPath = (suffix = '') => `/v1/sessions/${encodeURIComponent(state.sessionId)}${suffix}`;

// ---- Rendering ----------------------------------------------------------------------------------------------

function remember(item) {
  const known = seenItems.get(item.id) ?? {};
  seenItems.set(item.id, {
    imageUrl: item.imageUrl ?? known.imageUrl,
    caption: item.caption ?? known.caption,
  });
}

/** Object URLs of images fetched with the token, by API URL. */
const authorizedImages = new Map();
const imageObserver = new IntersectionObserver(
  (entries) => {
    for (const entry of entries.filter((candidate) => candidate.isIntersecting)) {
      imageObserver.unobserve(entry.target);
      guarded(() => loadAuthorizedImage(entry.target));
    }
  },
  { rootMargin: '200px' },
);

/**
 * With a token, the API's images need the Authorization header, which `<img src>` cannot send: they are fetched
 * when they scroll into view and shown from object URLs.
 */
async function loadAuthorizedImage(image) {
  const url = image.dataset.src;
  let objectUrl = authorizedImages.get(url);
  if (!objectUrl) {
    objectUrl = fetch(url, { headers: { Authorization: `Bearer ${state.token}` } }).then(async (response) => {
      if (!response.ok) throw new Error(`could not load image ${url} (${response.status})`);
      return URL.createObjectURL(await response.blob());
    });
    authorizedImages.set(url, objectUrl);
    objectUrl.catch(() => authorizedImages.delete(url));
  }
  image.src = await objectUrl;
}

function thumbnail(item, size) {
  const image = document.createElement('img');
  if (state.token && item.imageUrl.startsWith('/v1/')) {
    image.dataset.src = item.imageUrl;
    imageObserver.observe(image);
  } else {
    image.src = item.imageUrl;
  }
  image.alt = item.caption || item.id;
  image.loading = 'lazy';
  image.decoding = 'async';
  image.width = size;
  image.height = size;
  return image;
}

/** A product tile: a real button (keyboard and screen-reader friendly) holding the picture and its caption. */
function tile(item, testId, extra) {
  remember(item);
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'tile';
  button.dataset.testid = testId;
  button.dataset.id = item.id;
  button.title = item.caption || item.id;
  button.setAttribute('aria-pressed', String(state.reference?.id === item.id));
  button.append(thumbnail(item, 96));
  const label = document.createElement('span');
  label.className = 'caption';
  label.textContent = item.caption || item.id;
  button.append(label);
  if (extra) button.append(extra);
  button.addEventListener('click', () => pickReference(item));
  return button;
}

function renderReference() {
  const box = element('reference');
  box.replaceChildren();
  const reference = state.reference;
  if (!reference) {
    box.textContent =
      state.turns.length > 0 ? 'Next turn refines the top result.' : 'No reference yet: pick a product.';
    return;
  }
  const label = document.createElement('span');
  label.textContent = 'Reference: ';
  const name = document.createElement('strong');
  name.dataset.testid = 'reference-id';
  name.textContent = reference.caption || reference.id;
  box.append(thumbnail(reference, 48), label, name);
}

function renderHighlights() {
  for (const button of document.querySelectorAll('.tile')) {
    button.setAttribute('aria-pressed', String(button.dataset.id === state.reference?.id));
  }
}

function renderResults() {
  const latest = state.turns.at(-1)?.turn;
  element('results-heading').textContent = latest ? `Results of turn ${latest}` : 'Results';
  const grid = element('results-grid');
  grid.replaceChildren(
    ...state.results.map((result, rank) => {
      const score = document.createElement('span');
      score.className = 'score';
      score.dataset.testid = 'result-score';
      score.textContent = `#${rank + 1} · ${Number(result.score).toFixed(3)}`;
      return tile(result, 'result-item', score);
    }),
  );
}

function renderHistory() {
  const latest = state.turns.at(-1)?.turn;
  const list = element('history-list');
  list.dataset.session = state.sessionId ?? '';
  list.replaceChildren(
    ...state.turns.map((turn) => {
      const entry = document.createElement('li');
      entry.className = 'history-turn';
      entry.dataset.testid = 'history-turn';
      entry.dataset.turn = String(turn.turn);
      const heading = document.createElement('strong');
      heading.textContent = `Turn ${turn.turn}`;
      entry.append(heading);
      // A text that returned to an earlier item ("go back to the second one") started from that item.
      const startId = turn.returnedTo ?? turn.referenceId;
      if (turn.returnedTo) {
        const back = document.createElement('span');
        back.className = 'returned-to';
        back.dataset.testid = 'returned-to';
        back.textContent = ' ↩ back to';
        heading.append(back);
      }
      const reference = startId ? seenItems.get(startId) : undefined;
      if (reference?.imageUrl) {
        entry.append(thumbnail({ id: startId, ...reference }, 40));
      } else if (startId) {
        entry.append(document.createTextNode(` ${startId} `));
      }
      const text = document.createElement('q');
      text.textContent = turn.text;
      entry.append(text);
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset.testid = 'rollback-button';
      button.textContent = 'Roll back to here';
      button.setAttribute('aria-label', `Roll back to turn ${turn.turn}`);
      button.disabled = turn.turn === latest;
      button.addEventListener('click', () => guarded(() => rollback(turn.turn)));
      entry.append(button);
      return entry;
    }),
  );
}

function renderSession() {
  renderReference();
  renderResults();
  renderHistory();
  renderHighlights();
}

// ---- Collections and catalog --------------------------------------------------------------------------------

async function loadCollections() {
  const { collections } = await api('GET', '/v1/collections');
  state.collections = collections;
  const select = element('collection-select');
  select.replaceChildren(
    ...collections.map((collection) => {
      const option = document.createElement('option');
      option.value = collection.name;
      const suffix = collection.status === 'ready' ? '' : ` (${collection.status})`;
      option.textContent = `${collection.name} · ${collection.method} · ${collection.items} items${suffix}`;
      return option;
    }),
  );
  if (collections.length === 0) showStatus('No collections yet: create one through POST /v1/collections.');
}

async function chooseCollection(name) {
  const choice = ++state.collectionChoices;
  if (state.sessionId) await endSession();
  if (choice !== state.collectionChoices) return;
  state.collection = name;
  state.catalogOffset = 0;
  state.catalogQuery = '';
  element('catalog-filter').value = '';
  element('collection-select').value = name;
  const url = new URL(window.location.href);
  url.searchParams.set('collection', name);
  window.history.replaceState(null, '', url);
  if (!(await waitUntilReady(choice))) return;
  await loadCatalog();
}

/**
 * A collection still being indexed has no catalog to show yet: poll until it is ready or has failed. Resolves false
 * when the shopper has chosen another collection meanwhile (that choice polls for itself).
 */
async function waitUntilReady(choice) {
  for (;;) {
    if (choice !== state.collectionChoices) return false;
    const collection = state.collections.find((candidate) => candidate.name === state.collection);
    if (!collection) throw new Error(`there is no collection "${state.collection}"`);
    // A rebuild reports "building" while the previous state still serves (it has a builtAt): no need to wait.
    if (collection.status === 'ready' || (collection.status === 'building' && collection.builtAt))
      return true;
    if (collection.status === 'failed') {
      throw new Error(
        `collection "${collection.name}" failed to build: ${collection.error ?? 'no reason given'}`,
      );
    }
    showStatus(`Collection "${collection.name}" is being indexed…`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MILLISECONDS));
    await loadCollections();
    element('collection-select').value = state.collection;
  }
}

async function loadCatalog(offset = state.catalogOffset) {
  const name = encodeURIComponent(state.collection);
  const query = state.catalogQuery;
  const request = ++state.catalogRequests;
  const filter = query ? `&q=${encodeURIComponent(query)}` : '';
  const page = await api('GET', `/v1/collections/${name}/items?offset=${offset}&limit=${PAGE_SIZE}${filter}`);
  if (request !== state.catalogRequests) return;
  state.catalogOffset = offset;
  element('catalog-grid').replaceChildren(...page.items.map((item) => tile(item, 'catalog-item')));
  const last = Math.min(state.catalogOffset + page.items.length, page.total);
  element('catalog-range').textContent =
    page.total === 0
      ? query
        ? `no product matches “${query}”`
        : 'empty'
      : `${state.catalogOffset + 1}–${last} of ${page.total}`;
  element('catalog-previous').disabled = state.catalogOffset === 0;
  element('catalog-next').disabled = last >= page.total;
  showStatus(
    query
      ? `Collection "${state.collection}": ${page.total} products match “${query}”.`
      : `Collection "${state.collection}": ${page.total} products.`,
  );
}

/** Shows the first page of what the filter's words find, once the shopper has stopped typing. */
function filterCatalogSoon() {
  clearTimeout(filterCatalogSoon.timer);
  filterCatalogSoon.timer = setTimeout(() => {
    // Only letters and digits count (the server ignores the rest): "€" or "-" is no filter.
    const typed = element('catalog-filter').value.trim();
    const query = /[\p{L}\p{N}]/u.test(typed) ? typed : '';
    if (query === state.catalogQuery) return;
    state.catalogQuery = query;
    guarded(() => loadCatalog(0));
  }, FILTER_DELAY_MILLISECONDS);
}

// ---- Session actions ----------------------------------------------------------------------------------------

function pickReference(item) {
  state.reference = { id: item.id, imageUrl: item.imageUrl, caption: item.caption };
  renderReference();
  renderHighlights();
  showStatus(`Reference: ${item.caption || item.id}. Now describe the change.`);
  element('modification-input').focus();
}

async function search() {
  const input = element('modification-input');
  const text = input.value.trim();
  if (!state.collection) throw new Error('choose a collection first');
  if (!state.reference && state.turns.length === 0) {
    throw new Error('pick a reference first: click a product in the catalog');
  }
  if (!text) throw new Error('describe the change you want, e.g. "like this one, but red"');
  if (!state.sessionId) {
    const session = await api('POST', '/v1/sessions', { collection: state.collection });
    state.sessionId = session.id;
  }
  const referenceId = state.reference?.id ?? state.results[0]?.id;
  const body = { text, limit: RESULT_LIMIT, ...(state.reference && { referenceId }) };
  // What the shopper may change while the turn runs: a product picked meanwhile stays the next reference, and an
  // answer for a session ended meanwhile (New session, another collection) is dropped.
  const sessionAtStart = state.sessionId;
  const referenceAtStart = state.reference;
  const response = await api('POST', sessionPath('/turns'), body).catch(forgetExpiredSession);
  if (state.sessionId !== sessionAtStart) return;
  const pickedMeanwhile = state.reference !== referenceAtStart ? state.reference : undefined;
  state.turns = [
    ...state.turns.filter((turn) => turn.turn < response.turn),
    { turn: response.turn, referenceId, returnedTo: response.returnedTo, text, results: response.results },
  ];
  showTurnResults(response.results, pickedMeanwhile);
  input.value = '';
  const back = response.returnedTo
    ? `, back to ${seenItems.get(response.returnedTo)?.caption || response.returnedTo}`
    : '';
  showStatus(`Turn ${response.turn}${back}: ${response.results.length} results.`);
  revealResults();
}

/**
 * Scrolls the new results up to the top of the window when they start below its middle or above it: on a phone the
 * panels stack, and the results would be out of sight under the catalog and the search box.
 */
function revealResults() {
  const top = element('results-grid').getBoundingClientRect().top;
  if (top < 0 || top > window.innerHeight / 2) element('results-heading').scrollIntoView({ block: 'start' });
}

/**
 * Shows a turn's results; the top one is the next turn's reference until the shopper clicks another (`picked`: one
 * they clicked while the turn ran).
 */
function showTurnResults(results, picked) {
  state.results = results;
  for (const result of results) remember(result);
  const top = results[0];
  state.reference = picked ?? (top && { id: top.id, imageUrl: top.imageUrl, caption: top.caption });
  renderSession();
}

async function rollback(turn) {
  const response = await api('POST', sessionPath('/rollback'), { turn }).catch(forgetExpiredSession);
  state.turns = response.turns;
  showTurnResults(state.turns.at(-1)?.results ?? []);
  showStatus(`Rolled back to turn ${response.turn}.`);
}

function forgetSession() {
  state.sessionId = undefined;
  state.turns = [];
  state.results = [];
  state.reference = undefined;
  renderSession();
}

/** The server forgets idle sessions: start afresh, and say so. */
function forgetExpiredSession(error) {
  if (error instanceof ApiError && error.status === 404) {
    forgetSession();
    throw new ApiError(404, error.code, `${error.message}; pick a product to start a new session`);
  }
  throw error;
}

async function endSession() {
  const id = state.sessionId;
  forgetSession();
  // A session the server no longer has is as ended as it gets.
  if (id) await api('DELETE', `/v1/sessions/${encodeURIComponent(id)}`).catch(ignoreNotFound);
}

function ignoreNotFound(error) {
  if (!(error instanceof ApiError && error.status === 404)) throw error;
}

// ---- Start ----------------------------------------------------------------------------------------------------

function wireControls() {
  element('search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    guarded(search);
  });
  element('new-session-button').addEventListener('click', () =>
    guarded(async () => {
      await endSession();
      showStatus('New session: pick a product to start from.');
    }),
  );
  element('collection-select').addEventListener('change', (event) =>
    guarded(() => chooseCollection(event.target.value)),
  );
  element('catalog-previous').addEventListener('click', () =>
    guarded(() => loadCatalog(Math.max(0, state.catalogOffset - PAGE_SIZE))),
  );
  element('catalog-filter').addEventListener('input', filterCatalogSoon);
  element('catalog-next').addEventListener('click', () =>
    guarded(() => loadCatalog(state.catalogOffset + PAGE_SIZE)),
  );
  window.addEventListener('unhandledrejection', (event) => showError(event.reason));
}

async function start() {
  wireControls();
  state.token = readToken();
  renderSession();
  await loadCollections();
  if (state.collections.length === 0) return;
  const wanted = new URL(window.location.href).searchParams.get('collection');
  const initial =
    state.collections.find((collection) => collection.name === wanted) ??
    state.collections.find((collection) => collection.status === 'ready') ??
    state.collections[0];
  await chooseCollection(initial.name);
  if (wanted && initial.name !== wanted) {
    showStatus(`There is no collection "${wanted}"; showing "${initial.name}".`, 'error');
  }
}

guarded(start);
