// A small DOM builder for the views: h('p', {class: 'x'}, 'text', child). Text always goes in as text,
// never as HTML, so nothing an engine or GitHub says can inject markup.
import { t, ago, date, errorText, language } from './i18n.js';

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

// Data (a name, a reference, a path), not words: kept out of translation (`translate="no"`, which
// the language test skips too).
export function data(text) {
  return h('span', { translate: 'no' }, text);
}

// A catalog text with nodes in it: `fill(t('key'), {login: data(login)})` puts each node (or list of
// them) where its `{name}` stands (t leaves a placeholder it has no argument for), in the language's
// word order. A node named twice is put in twice.
export function fill(text, nodes) {
  const used = new Set();
  return text.split(/(\{\w+\})/).filter(Boolean).map((part) => {
    const name = part.match(/^\{(\w+)\}$/);
    const node = name && nodes[name[1]];
    if (node === undefined || node === null) return part;
    const again = used.has(name[1]);
    used.add(name[1]);
    return again && node instanceof Node ? node.cloneNode(true) : node;
  });
}

// `t(key, …)` as page parts: arguments that are nodes (or lists of them) go in where their `{name}`
// stands, the others are filled in as text.
export function sentence(key, ...argSets) {
  const words = {};
  const nodes = {};
  for (const [name, value] of argSets.flatMap((args) => Object.entries(args || {}))) {
    (value instanceof Node || Array.isArray(value) ? nodes : words)[name] = value;
  }
  return fill(t(key, words), nodes);
}

// What is wrong with a typed name, as the core found it (`kinds` of a tag check: {kind, component, …};
// src/reference), in the person's language, with what it names as code.
export function problemView(problem) {
  const nodes = {};
  for (const [name, value] of Object.entries(problem)) {
    if (name !== 'kind' && name !== 'length') nodes[name] = h('code', {}, String(value));
  }
  return fill(t(`problems.${problem.kind}`, { length: problem.length }), nodes);
}

// Each problem a tag check found (`kinds` from the core; an error's words when the check itself failed),
// as page parts.
export function problemsOf(result) {
  return result.kinds ? result.kinds.map(problemView) : (result.problems || []).map((problem) => [problem]);
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
  'token.missing': ['actions.set_up_token', 'account'],
  'token.invalid': ['actions.set_up_new_token', 'account'],
  'token.missing_scope': ['actions.create_token_with_scope', 'account'],
  'token.unsupported_kind': ['actions.create_classic_token', 'account'],
  'keyring.unavailable': ['actions.open_account', 'account'],
  'push.failed': ['actions.show_pushes', 'pushes'],
};

// The window's own words for what to do, by code, where the core's hint is written for the command
// line ("--owner ORG", "ghcr login"): `window_hints.<code>`; other codes keep the error's hint.
const WINDOW_HINTS = ['package.not_found', 'token.invalid'];

// The one way the page shows an error: its message, the hint, and the action its code calls for (plus
// any `actions` the caller adds). `data-code` carries the code for tests and styles.
export function errorView(error, { actions = [], id } = {}) {
  const known = ACTIONS[error.code];
  const here = document.getElementById('view')?.dataset.view;
  const go = known && known[1] !== here
    ? h('button', { class: 'ghost inline error-action', type: 'button',
      onclick: () => document.dispatchEvent(new CustomEvent('ghcr:show', { detail: known[1] })) }, t(known[0]))
    : null;
  const buttons = [...actions, go].filter(Boolean);
  // A page the person should open (the one a browser couldn't, an org's SSO authorisation): the
  // address in full, with Copy.
  const told = errorText(error);
  const hint = error.url && error.code === 'app.browser_unavailable' ? t('errors.open_yourself')
    : WINDOW_HINTS.includes(error.code) ? t(`window_hints.${error.code}`) : told.hint;
  // In another language the core's own English words stay one click away (what a search or a bug
  // report needs), folded.
  const original = language() !== 'en' && error.message && told.message !== error.message
    && h('details', { class: 'original' }, h('summary', {}, t('errors.original')),
      h('p', { translate: 'no', lang: 'en' }, error.message), error.hint && h('p', { translate: 'no', lang: 'en' }, error.hint));
  return h('div', { class: 'result error', role: 'alert', id, dataset: { code: error.code || 'app.unexpected' } },
    h('p', { class: 'message' }, told.message),
    hint && h('p', { class: 'hint' }, hint),
    original,
    error.url && addressView(error.url),
    buttons.length > 0 && h('div', { class: 'row' }, buttons));
}

// An address to open by hand: on one line (scrolled sideways where it is longer than the room; one
// click selects it whole), with Copy beside it (or selected for Ctrl+C).
export function addressView(url) {
  const code = h('code', { class: 'handoff-url', tabindex: '0', title: url }, url);
  const copy = h('button', { class: 'ghost small handoff-copy', type: 'button' }, t('common.copy'));
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(url);
      copy.textContent = t('common.copied');
    } catch {
      window.getSelection().selectAllChildren(code);
      copy.textContent = t('common.selected_press_ctrl_c');
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

// "3 hours ago" (or "3 小时前") from seconds since the epoch.
export function relativeTime(seconds, now = Date.now() / 1000) {
  return ago(seconds, now);
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
  return expiry.days_left === 0 ? t('expiry.today') : expiry.days_left === 1 ? t('expiry.tomorrow')
    : t('expiry.in_days', { count: expiry.days_left });
}

// "expires 3 Dec 2026 (in 3 days)".
export function expiryText(expiry) {
  return t('expiry.expires', { date: date(expiry.at), left: expiryLeft(expiry) });
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
