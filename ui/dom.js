// A small DOM builder for the views: h('p', {class: 'x'}, 'text', child). Text always goes in as text,
// never as HTML, so nothing an engine or GitHub says can inject markup.
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') node.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// The empty (or error) state every view uses: a glyph, a title, what it means, and what to do.
export function emptyState({ glyph, title, text, detail, hint, actions = [], error = false, id }) {
  return h('section', { class: error ? 'empty error' : 'empty', id, 'aria-labelledby': id && `${id}-title` },
    h('div', { class: 'glyph', 'aria-hidden': 'true' }, glyph),
    h('h2', { id: id && `${id}-title` }, title),
    text && h('p', {}, text),
    detail && h('p', { class: 'detail' }, detail),
    hint && h('p', { class: 'hint' }, hint),
    actions.length > 0 && h('div', { class: 'actions' }, actions));
}

// What a person can do about an error, by its stable code (DESIGN principle 4: codes become actions):
// the button's words and the view it leads to. The app listens for `ghcr:show` and switches views.
const ACTIONS = {
  'token.missing': ['Set up a token', 'account'],
  'token.invalid': ['Set up a new token', 'account'],
  'token.missing_scope': ['Create a token with the scope', 'account'],
  'token.unsupported_kind': ['Create a classic token', 'account'],
  'keyring.unavailable': ['Open Account', 'account'],
  'push.failed': ['Show pushes', 'pushes'],
};

// The window's own words for what to do, by code, where the core's hint is written for the command
// line ("--owner ORG", "ghcr login"); other codes keep the core's hint.
const WINDOW_HINTS = {
  'package.not_found': 'Check the package’s name and the owner chosen above: an organization’s packages show only to its members, with a token that may read them.',
  'token.invalid': 'Create a new classic token with write:packages and save it in Account.',
};

// The one way the page shows an error: its message, the hint, and the action its code calls for (plus
// any `actions` the caller adds). `data-code` carries the code for tests and styles.
export function errorView(error, { actions = [], id } = {}) {
  const known = ACTIONS[error.code];
  const here = document.getElementById('view')?.dataset.view;
  const go = known && known[1] !== here
    ? h('button', { class: 'ghost inline error-action', type: 'button',
      onclick: () => document.dispatchEvent(new CustomEvent('ghcr:show', { detail: known[1] })) }, known[0])
    : null;
  const buttons = [...actions, go].filter(Boolean);
  // A page the person should open (the one a browser couldn't, an org's SSO authorisation): the
  // address in full, with Copy.
  const hint = error.url && error.code === 'app.browser_unavailable' ? 'Open this address yourself:' : WINDOW_HINTS[error.code] || error.hint;
  return h('div', { class: 'result error', role: 'alert', id, dataset: { code: error.code || 'app.unexpected' } },
    h('p', { class: 'message' }, error.message || String(error)),
    hint && h('p', { class: 'hint' }, hint),
    error.url && addressView(error.url),
    buttons.length > 0 && h('div', { class: 'row' }, buttons));
}

// An address to open by hand: on one line (scrolled sideways where it is longer than the room; one
// click selects it whole), with Copy beside it (or selected for Ctrl+C).
export function addressView(url) {
  const code = h('code', { class: 'handoff-url', tabindex: '0', title: url }, url);
  const copy = h('button', { class: 'ghost small handoff-copy', type: 'button' }, 'Copy');
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(url);
      copy.textContent = 'Copied';
    } catch {
      window.getSelection().selectAllChildren(code);
      copy.textContent = 'Selected — press Ctrl+C';
    }
  });
  return h('div', { class: 'handoff' }, code, copy);
}

// Bytes in decimal units with three significant digits, as `docker images` shows them: 7.81 MB.
export function humanSize(bytes) {
  let value = bytes;
  for (const unit of ['B', 'kB', 'MB', 'GB', 'TB']) {
    if (value < 999.5) {
      if (unit === 'B') return `${value} B`;
      return `${value >= 99.95 ? value.toFixed(0) : value >= 9.995 ? value.toFixed(1) : value.toFixed(2)} ${unit}`;
    }
    value /= 1000;
  }
  return `${value.toFixed(0)} PB`;
}

// "3 hours ago" from seconds since the epoch.
export function relativeTime(seconds, now = Date.now() / 1000) {
  const age = Math.max(0, now - seconds);
  if (age < 60) return 'just now';
  const units = [[60, 'minute', 3600], [3600, 'hour', 86400], [86400, 'day', 2592000],
    [2592000, 'month', 31536000], [31536000, 'year', Infinity]];
  const [size, name] = units.find(([, , below]) => age < below);
  const n = Math.floor(age / size);
  return `${n} ${name}${n === 1 ? '' : 's'} ago`;
}

// Calls `fn` once `ms` have passed without another call.
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// A token's time left as the core reported it ({at, days_left, soon}): "in 3 days", "today".
export function expiryLeft(expiry) {
  return expiry.days_left === 0 ? 'today' : expiry.days_left === 1 ? 'tomorrow' : `in ${expiry.days_left} days`;
}

// "expires 3 Dec 2026 (in 3 days)".
export function expiryText(expiry) {
  const date = new Date(expiry.at * 1000).toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
  return `expires ${date} (${expiryLeft(expiry)})`;
}

// Readiness, so that a person's first click (and a test's) is never lost: an element says
// `data-ready` once its listeners are wired and its first data is drawn, and `data-pending` while a
// check of what was typed is on its way (`data-checked` names the last value checked).
export function markReady(node, ...work) {
  return Promise.allSettled(work).then(() => { node.dataset.ready = '1'; });
}
export function markPending(node) {
  node.dataset.pending = '1';
}
export function markChecked(node, what) {
  delete node.dataset.pending;
  node.dataset.checked = what;
  node.dataset.ready = '1';
}

// Resolves once `store` (app.js's observables) satisfies `settled`.
export function until(store, settled) {
  return new Promise((resolve) => {
    if (settled(store)) { resolve(); return; }
    const stop = store.subscribe(() => { if (settled(store)) { stop(); resolve(); } });
  });
}
