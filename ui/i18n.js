// The window's words in the person's language: `t(key, args)` looks a key up in ui/locales/<lang>.json
// (English when the chosen catalog lacks it), fills `{name}` placeholders and picks plural forms;
// sizes, times and errors are told the same way. docs/i18n.md has the rules and the glossary.
export const LANGUAGES = ['en', 'zh-CN'];
const CHOICE_KEY = 'ghcr.language';

const catalogs = {};
let current = 'en';
const listeners = new Set();

async function load(language) {
  if (!catalogs[language]) {
    const response = await fetch(`locales/${language}.json`);
    catalogs[language] = await response.json();
  }
  return catalogs[language];
}

// The language a locale tag (`zh_CN.UTF-8`, `zh-Hans-CN`, `en-US`) gives: Simplified Chinese for
// mainland China, Singapore and any zh-Hans; English for everything else (zh-TW and zh-HK too, until
// there is a Traditional catalog). The core's `language::for_locale` answers the same; tests hold both.
export function languageFor(tag) {
  const parts = String(tag || '').split('.')[0].replace(/_/g, '-').toLowerCase().split('-');
  if (parts[0] !== 'zh') return 'en';
  if (parts[1] === 'hans') return 'zh-CN';
  return parts[1] === 'cn' || parts[1] === 'sg' ? 'zh-CN' : 'en';
}

// 'auto' (follow the system), 'en' or 'zh-CN', as Settings shows it; remembered across starts.
export function choice() {
  const kept = localStorage.getItem(CHOICE_KEY);
  return LANGUAGES.includes(kept) ? kept : 'auto';
}

// The language in use now.
export function language() {
  return current;
}

// Loads the catalog for `chosen` ('auto' asks `systemLocale()`), makes it current, marks <html lang>
// and tells every listener (the app redraws what is on screen). English is always loaded: it is
// every key's fallback.
export async function useLanguage(chosen, systemLocale) {
  if (chosen === 'auto') localStorage.removeItem(CHOICE_KEY);
  else localStorage.setItem(CHOICE_KEY, chosen);
  const next = chosen === 'auto' ? languageFor(await systemLocale()) : chosen;
  await Promise.all([load('en'), load(next)]);
  current = next;
  document.documentElement.lang = next;
  for (const listener of listeners) listener(next);
  return next;
}

// Hears each language change; returns the way to stop.
export function onLanguageChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

// The text for `key`, its `{name}` placeholders filled from `args`. A key whose entry is an object is
// a plural: `args.count` picks the form (Intl.PluralRules: `one`/`other` in English, `other` in
// Chinese). A key in no catalog comes back as itself, so a missing one shows where it is.
export function t(key, args = {}) {
  let entry = catalogs[current]?.[key] ?? catalogs.en?.[key];
  if (entry === undefined) return key;
  if (typeof entry === 'object') {
    const form = new Intl.PluralRules(current).select(Number(args.count) || 0);
    entry = entry[form] ?? entry.other;
  }
  return entry.replace(/\{(\w+)\}/g, (whole, name) => (name in args ? String(args[name]) : whole));
}

// Whether a catalog has `key` (errors fall back to the core's English words when it doesn't).
export function has(key) {
  return catalogs[current]?.[key] !== undefined || catalogs.en?.[key] !== undefined;
}

// A number as the language writes it (1,234 / 1,234).
export function number(value, options) {
  return new Intl.NumberFormat(current, options).format(value);
}

// "3 hours ago" / "3 小时前" from seconds since the epoch; under a minute, "just now" / "刚刚".
export function ago(seconds, now = Date.now() / 1000) {
  const age = Math.max(0, now - seconds);
  if (age < 60) return t('time.just_now');
  const units = [[60, 'minute', 3600], [3600, 'hour', 86400], [86400, 'day', 2592000],
    [2592000, 'month', 31536000], [31536000, 'year', Infinity]];
  const [size, unit] = units.find(([, , below]) => age < below);
  return new Intl.RelativeTimeFormat(current, { numeric: 'always' }).format(-Math.floor(age / size), unit);
}

// A date as the language writes it: "3 Dec 2026" / "2026年12月3日".
export function date(seconds) {
  return new Date(seconds * 1000).toLocaleDateString(current, { day: 'numeric', month: 'short', year: 'numeric' });
}

// A time of day: "21:04:05".
export function time(when) {
  return when.toLocaleTimeString(current);
}

// An error from the core ({code, message, hint, args}) in the person's language: in English the core's
// own words (they name the socket, the image, GitHub's reason); in another, `errors.<code>` and
// `errors.<code>.hint` with the error's arguments — or the core's words for a code the catalog lacks.
export function errorText(error) {
  const code = error && error.code;
  const core = { message: (error && error.message) || String(error), hint: (error && error.hint) || '' };
  if (current === 'en' || !code || catalogs[current]?.[`errors.${code}`] === undefined) return core;
  const args = (error && error.args) || {};
  return { message: t(`errors.${code}`, args), hint: t(`errors.${code}.hint`, args) };
}

// Every element under `root` that names its words by key: `data-i18n` (its text), `data-i18n-label`
// (aria-label) and `data-i18n-title` (title) — the static parts of index.html.
export function translateStatic(root = document) {
  for (const node of root.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll('[data-i18n-label]')) node.setAttribute('aria-label', t(node.dataset.i18nLabel));
  for (const node of root.querySelectorAll('[data-i18n-title]')) node.setAttribute('title', t(node.dataset.i18nTitle));
}
