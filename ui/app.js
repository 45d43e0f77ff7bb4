// GHCR Desktop's page: boot, view switching (sidebar, Alt+1..5, arrow keys), the theme, the engine state
// that the status bar and the views share, and the one IPC wrapper around window.__TAURI__.
import * as accountView from './views/account.js';
import * as imagesView from './views/images.js';
import * as pushesView from './views/pushes.js';
import * as packages from './views/packages.js';
import * as settings from './views/settings.js';
import { openArchiveDialog } from './views/archive-dialog.js';
import { h, expiryLeft, expiryText, until } from './dom.js';
import { place, keepPlace } from './preferences.js';
import { t, errorText, time, choice, useLanguage, onLanguageChange, translateStatic, language } from './i18n.js';

const views = { account: accountView, images: imagesView, pushes: pushesView, packages, settings };
// A token can be revoked or expire while the app runs: look again now and then (one GET /user and a
// push probe), and whenever the account in the status bar is clicked.
const ACCOUNT_POLL_MS = 5 * 60 * 1000;

// Calls a backend command; failures always arrive as {code, message, hint}.
export async function invoke(command, args = {}) {
  const core = window.__TAURI__ && window.__TAURI__.core;
  if (!core) {
    throw { code: 'app.no_ipc', message: t('errors.app.no_ipc'), hint: t('errors.app.no_ipc.hint') };
  }
  try {
    return await core.invoke(command, args);
  } catch (error) {
    if (error && typeof error === 'object' && 'code' in error) throw error;
    throw { code: 'app.unexpected', message: String(error), hint: '' };
  }
}

// A small observable: views subscribe while shown; the status bar for as long as the app runs.
function store(initial) {
  return {
    ...initial,
    listeners: new Set(),
    subscribe(listener) { this.listeners.add(listener); return () => this.listeners.delete(listener); },
    set(next) { Object.assign(this, next); for (const listener of this.listeners) listener(this); },
  };
}

// The engine as the app last saw it: {state: 'checking'|'ok'|'error', info, error}.
const engine = store({ state: 'checking', info: null, error: null });
// The engine's images, live from the watcher: {state: 'waiting'|'ok'|'gone', list, engine (info), error,
// events (the last burst), startedAt (when the watch began, for the load-time measurement)}.
const images = store({ state: 'waiting', list: [], engine: null, error: null, events: [], startedAt: 0, measured: false, picked: '' });
// The account in use: {state: 'checking'|'ok'|'none'|'error', account, error}; never the token itself.
const account = store({ state: 'checking', account: null, error: null });

// Push jobs by id, as the core last reported them (see src-tauri/src/events.rs); listeners hear which
// job changed, so the Pushes view updates one card at a time.
// Finished jobs are kept for 7 days (localStorage: targets, digests, errors — never a token) and shown
// after a restart as history, without Retry (the core no longer knows them).
const HISTORY_KEY = 'ghcr.push-history';
const HISTORY_MS = 7 * 24 * 3600 * 1000;
const HISTORY_MAX = 100;
const SESSION = Date.now();
const FINISHED = ['done', 'failed', 'cancelled'];
function pushHistory() {
  try {
    const kept = JSON.parse(localStorage.getItem(HISTORY_KEY) || '[]');
    return Array.isArray(kept) ? kept.filter((job) => job && job.finished_at > Date.now() - HISTORY_MS && job.request) : [];
  } catch {
    return []; // a damaged history is dropped
  }
}
// The package a push's target names, as `open_package` takes it (a card of the past opens its page
// with that: the core no longer knows the push). The owner is an organization unless it is the account
// that pushed.
function packageOf(target) {
  const [, owner = '', ...path] = target.split('/');
  const name = path.join('/').replace(/@.*$/, '').replace(/:[^:/]*$/, '');
  const login = account.state === 'ok' ? account.account.report.login : '';
  return { org: login && login.toLowerCase() !== owner.toLowerCase() ? owner : null, owner, name };
}
// Written once pushes have been quiet for a few seconds, and only what a card of the past shows:
// localStorage is a synchronous call to WebKit's storage process, which stalls the page while the app
// is busy (with every finished job written at once, 10 pushes at once made the page's timers 1.5 s late).
const finishedHere = new Map();
let historyTimer = null;
function remember(job) {
  const { progress } = job;
  finishedHere.set(job.id, {
    id: `past-${SESSION}-${job.id}`, historic: true, finished_at: Date.now(), state: job.state,
    request: job.request, pushed: job.pushed, pull: job.pull, error: job.error,
    package: job.state === 'done' ? packageOf(job.request.target) : null,
    progress: progress && { bytes: progress.bytes, total: progress.total, layers: progress.layers || [],
      bytes_per_second: 0, eta_seconds: null, unreported: progress.unreported, way: progress.way },
  });
  clearTimeout(historyTimer);
  historyTimer = setTimeout(saveHistory, 3000);
}
function saveHistory() {
  if (finishedHere.size === 0) return;
  const earlier = pushHistory().filter((j) => !j.id.startsWith(`past-${SESSION}-`));
  localStorage.setItem(HISTORY_KEY, JSON.stringify([...earlier, ...finishedHere.values()].slice(-HISTORY_MAX)));
}
// A window closed before the quiet moment still keeps its last pushes.
window.addEventListener('pagehide', saveHistory);

const pushes = {
  jobs: new Map(),
  listeners: new Set(),
  subscribe(listener) { this.listeners.add(listener); return () => this.listeners.delete(listener); },
  apply(job) {
    this.jobs.set(job.id, job);
    if (!job.historic && FINISHED.includes(job.state)) remember(job);
    this.changed(job);
  },
  clearFinished() {
    for (const [id, job] of this.jobs) if (FINISHED.includes(job.state)) this.jobs.delete(id);
    clearTimeout(historyTimer);
    finishedHere.clear();
    localStorage.removeItem(HISTORY_KEY);
    this.changed(null);
  },
  changed(job) {
    const active = [...this.jobs.values()].filter((j) => ['queued', 'running', 'retrying', 'cancelling'].includes(j.state)).length;
    const badge = document.getElementById('pushes-active');
    badge.textContent = active ? String(active) : '';
    badge.hidden = active === 0;
    for (const listener of this.listeners) listener(this, job);
  },
};

function watchPushes() {
  const core = window.__TAURI__ && window.__TAURI__.core;
  if (!core) return;
  const updates = new core.Channel();
  updates.onmessage = (job) => {
    pushes.apply(job);
    // A push refused because the token was revoked or expired: the status bar says so at once.
    if (job.state === 'failed' && job.error && job.error.code === 'token.invalid') refreshAccount();
  };
  // Last sessions' pushes first (oldest first: the view shows the newest on top).
  for (const job of pushHistory().filter((j) => !j.id.startsWith(`past-${SESSION}-`))) pushes.apply(job);
  invoke('pushes_watch', { updates }).then((jobs) => { for (const job of jobs) pushes.apply(job); }).catch(() => {});
}

// Files dropped from the file manager (Tauri's drag-drop events): an archive or layout folder is pushed
// with no engine, after asking where to.
function acceptDroppedArchives() {
  const events = window.__TAURI__ && window.__TAURI__.event;
  if (!events) return;
  const overlay = document.getElementById('drop-overlay');
  events.listen('tauri://drag-enter', () => { overlay.hidden = false; });
  events.listen('tauri://drag-leave', () => { overlay.hidden = true; });
  events.listen('tauri://drag-drop', async (event) => {
    overlay.hidden = true;
    const [path] = (event.payload && event.payload.paths) || [];
    if (!path) return;
    const started = await openArchiveDialog({ path, invoke }).catch(() => null);
    if (started) show('pushes');
  });
}

// Once per config.json: a plaintext token for the registry found there is pointed out (its login and
// scopes, checked; never the token) with an offer to move it into the keyring.
async function pointOutPlaintextToken() {
  let status;
  try {
    status = await invoke('docker_cli_status');
  } catch {
    return;
  }
  const key = `plaintext-pointed-out:${status.config}`;
  if (!status.plaintext_user || localStorage.getItem(key)) return;
  localStorage.setItem(key, '1');
  const report = await invoke('docker_cli_plaintext').catch(() => null);
  const banner = document.getElementById('banner');
  const who = report
    ? t(report.scope_check.write ? 'banner.whose_token_can_push' : 'banner.whose_token_cannot_push',
      { login: report.login, kind: t(`account.kind.${report.kind}`) })
    : t('banner.token_of', { user: status.plaintext_user });
  const move = h('button', { class: 'primary small', type: 'button', id: 'banner-move' }, t('banner.move'));
  const later = h('button', { class: 'ghost small', type: 'button', id: 'banner-dismiss' }, t('banner.not_now'));
  move.addEventListener('click', () => { banner.hidden = true; show('account', { focus: true }); document.getElementById('docker-cli')?.scrollIntoView(); });
  later.addEventListener('click', () => { banner.hidden = true; });
  const [before, after] = t('banner.plaintext', { who }).split('{config}');
  banner.replaceChildren(h('span', {}, before, h('code', {}, status.config), after), move, later);
  banner.hidden = false;
}

// Follows the engine's images through a Channel (see src-tauri/src/events.rs); a new watch replaces the
// old one. Updates also keep the status bar's engine current; a lost engine shows as a gap there.
let currentWatch = null;
function watchImages() {
  const core = window.__TAURI__ && window.__TAURI__.core;
  if (!core) return;
  const updates = new core.Channel();
  currentWatch = updates;
  Object.assign(images, { startedAt: performance.now(), receivedAt: 0, measured: false });
  // The rows by key (reference, or ID when untagged): the first snapshot fills it, changes amend it.
  let rows = new Map();
  const keyOf = (image) => image.reference || image.id;
  updates.onmessage = (update) => {
    if (currentWatch !== updates) return;
    if (update.kind === 'snapshot' || update.kind === 'changes') {
      if (update.kind === 'snapshot') {
        rows = new Map(update.images.map((image) => [keyOf(image), image]));
      } else {
        for (const key of update.removed) rows.delete(key);
        for (const image of update.changed) rows.set(keyOf(image), image);
      }
      if (!images.receivedAt) images.receivedAt = performance.now();
      images.set({ state: 'ok', list: [...rows.values()], engine: update.engine, events: update.events || [], error: null });
      engine.set({ state: 'ok', info: update.engine, error: null, lostAt: null });
    } else {
      const lostAt = engine.state === 'ok' ? new Date() : engine.lostAt;
      images.set({ state: 'gone', error: update.error });
      engine.set({ state: 'error', info: null, error: update.error, lostAt });
    }
  };
  invoke('images_watch', { updates }).catch((error) => {
    images.set({ state: 'gone', error });
    engine.set({ state: 'error', info: null, error });
  });
}

// "Try again": asks the engine now and restarts the watch (its backoff starts over).
let engineCheck = null;
function refreshEngine() {
  if (!engineCheck) {
    engineCheck = invoke('engine_status')
      .then((info) => engine.set({ state: 'ok', info, error: null }))
      .catch((error) => {
        engine.set({ state: 'error', info: null, error });
        images.set({ state: 'gone', error });
      })
      .finally(() => { engineCheck = null; watchImages(); });
  }
  return engineCheck;
}

// Checks overlap (a save, then "Use it" at once; each asks GitHub): only the last one asked may set
// the account, or an earlier answer arriving late shows the account switched away from.
let accountAsked = 0;
async function refreshAccount() {
  const asked = ++accountAsked;
  let next;
  try {
    const found = await invoke('account_in_use');
    next = found ? { state: 'ok', account: found, error: null } : { state: 'none', account: null, error: null };
  } catch (error) {
    next = { state: 'error', account: null, error };
  }
  if (asked === accountAsked) account.set(next);
}

function renderAccountStatus({ state, account: found, error }) {
  const status = document.getElementById('account-status');
  status.dataset.state = state;
  const text = status.querySelector('.text');
  if (state === 'ok') {
    const { report, source } = found;
    const write = report.scope_check.write ? '✓ write:packages' : '✗ write:packages';
    const soon = report.expiry && report.expiry.soon ? `${t('status.token_expires', { left: expiryLeft(report.expiry) })} · ` : '';
    text.textContent = `${soon}${report.login} · ${write}${source === 'environment' ? ` · ${t('status.from_env')}` : ''}`;
    status.dataset.expiring = String(Boolean(soon));
    status.title = `${t(`account.kind.${report.kind}`)} ${report.hint}${report.expiry ? ` · ${expiryText(report.expiry)}` : ''}`;
  } else if (state === 'none') {
    text.textContent = t('status.not_signed_in');
    status.title = t('status.not_signed_in.title');
  } else if (state === 'error') {
    text.textContent = error.code === 'token.invalid' ? t('status.token_invalid') : errorText(error).message;
    status.title = errorText(error).hint;
  } else {
    text.textContent = t('status.checking_account');
  }
}

// The status bar is a live region: its text is only rewritten when it changes, so a new image
// snapshot (every engine event) is not announced again.
function renderEngineStatus({ state, info, error, lostAt }) {
  const status = document.getElementById('engine-status');
  status.dataset.state = state;
  let text = t('status.looking_for_engine');
  let where = ''; // the socket, left out of a narrow window's status bar
  let title = '';
  if (state === 'ok') {
    text = `${info.product} ${info.version} · API ${info.api_version}`;
    where = ` · ${info.endpoint}`;
    const store = ['classic', 'containerd', 'podman'].includes(info.image_store) ? t(`status.store.${info.image_store}`) : '';
    title = t(store ? 'status.connected_store' : 'status.connected', { platform: `${info.os}/${info.arch}`, store });
  } else if (state === 'error' && lostAt) {
    text = t('status.engine_gone', { time: time(lostAt) });
    title = errorText(error).message;
  } else if (state === 'error') {
    text = error.code === 'engine.unreachable' ? t('status.no_engine') : errorText(error).message;
    title = errorText(error).hint;
  }
  const shown = status.querySelector('.text');
  // A connected engine's line is its name, version and socket: data, in every language.
  if (shown.textContent !== text + where) {
    shown.replaceChildren(text, ...(where ? [h('span', { class: 'where' }, where)] : []));
    if (state === 'ok') shown.setAttribute('translate', 'no');
    else shown.removeAttribute('translate');
  }
  status.title = title;
}

// A view says when its first data is drawn (`ready(promise)`, any number of times while it renders);
// then `#view[data-ready]` is set — until then a click may land on what is about to be replaced.
let cleanup = null;
let shown = 0;
function show(name, { focus = false } = {}) {
  const view = views[name];
  if (!view) return Promise.resolve();
  for (const button of document.querySelectorAll('.nav')) {
    if (button.dataset.view === name) button.setAttribute('aria-current', 'page');
    else button.removeAttribute('aria-current');
  }
  if (cleanup) cleanup();
  const root = document.getElementById('view');
  root.replaceChildren();
  delete root.dataset.ready;
  root.dataset.view = name;
  // A view opens at its top (the main element scrolls, and kept the last view's offset).
  root.scrollTop = 0;
  if (place().view !== name) keepPlace({ view: name });
  const drawing = [];
  const ready = (promise) => { drawing.push(promise); };
  cleanup = view.render(root, { engine, images, refreshEngine, watchImages, account, refreshAccount, pushes, invoke, show, ready, chooseLanguage }) || null;
  document.title = `${t(`nav.${name}`)} — ${t('app.title')}`;
  if (focus) root.focus();
  const showing = ++shown;
  return Promise.allSettled(drawing).then(() => {
    if (showing === shown) root.dataset.ready = '1';
  });
}

// Themes: follow the system, or force light or dark; remembered across starts.
const THEMES = ['system', 'light', 'dark'];
function applyTheme(theme) {
  if (theme === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  document.getElementById('theme-toggle').textContent = t('theme.toggle', { theme: t(`theme.${theme}`) });
}

// Redraws every word on screen in the language just chosen: the static page, the status bar, the
// view shown (its place is kept), and the window's title.
let theme = 'system';
function relabel() {
  translateStatic();
  applyTheme(theme);
  renderEngineStatus(engine);
  renderAccountStatus(account);
  invoke('window_language', { language: language() }).catch(() => {});
}

// The language Settings chose ('auto' follows the system's locale, which the core reads).
async function chooseLanguage(chosen) {
  await useLanguage(chosen, () => invoke('system_locale').catch(() => navigator.language));
}

async function boot() {
  await chooseLanguage(choice()).catch(() => {});
  translateStatic();
  const nav = document.getElementById('nav');
  const buttons = [...nav.querySelectorAll('.nav')];
  nav.addEventListener('click', (event) => {
    const button = event.target.closest('.nav');
    if (button) show(button.dataset.view);
  });
  // In a small window the sidebar is icons: the name of the one under the pointer or the keyboard's
  // focus shows beside it (.nav.tip), drawn by the page — GTK's tooltips covered the next item and, under
  // X without a window manager, left blank boxes behind.
  for (const button of buttons) {
    button.addEventListener('pointerenter', () => button.classList.add('tip'));
    button.addEventListener('pointerleave', () => button.classList.remove('tip'));
    button.addEventListener('focus', () => button.classList.toggle('tip', button.matches(':focus-visible')));
    button.addEventListener('blur', () => button.classList.remove('tip'));
  }
  nav.addEventListener('keydown', (event) => {
    const index = buttons.indexOf(document.activeElement);
    if (index < 0 || !['ArrowDown', 'ArrowUp'].includes(event.key)) return;
    event.preventDefault();
    const next = (index + (event.key === 'ArrowDown' ? 1 : buttons.length - 1)) % buttons.length;
    buttons[next].focus();
  });
  document.addEventListener('keydown', (event) => {
    if (!event.altKey || event.ctrlKey || event.metaKey) return;
    const button = buttons[Number(event.key) - 1];
    if (button) {
      event.preventDefault();
      show(button.dataset.view, { focus: true });
    }
  });

  theme = localStorage.getItem('theme');
  if (!THEMES.includes(theme)) theme = 'system';
  applyTheme(theme);
  relabel();
  onLanguageChange(() => {
    relabel();
    const name = document.getElementById('view').dataset.view;
    if (name) show(name);
  });
  document.getElementById('theme-toggle').addEventListener('click', () => {
    theme = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length];
    localStorage.setItem('theme', theme);
    applyTheme(theme);
  });

  // An error's action button (dom.js errorView) asks for the view that fixes it.
  document.addEventListener('ghcr:show', (event) => show(event.detail, { focus: true }));
  engine.subscribe(renderEngineStatus);
  account.subscribe(renderAccountStatus);
  document.getElementById('account-status').addEventListener('click', () => {
    show('account', { focus: true });
    refreshAccount();
  });
  // The view the person was in when the app last closed.
  const firstView = show(Object.hasOwn(views, place().view) ? place().view : 'images');
  watchImages();
  watchPushes();
  acceptDroppedArchives();
  const banner = pointOutPlaintextToken();
  refreshAccount();
  setInterval(refreshAccount, ACCOUNT_POLL_MS);
  // Every listener is wired; the page is ready once the first view and the account have drawn.
  Promise.allSettled([firstView, banner, until(account, (a) => a.state !== 'checking')])
    .then(() => { document.documentElement.dataset.ready = '1'; });
}

boot();
