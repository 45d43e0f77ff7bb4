// Settings view: the choices that outlast a push — the window's language (Auto follows the system),
// and the layer compression per owner (gzip, which every client pulls, or zstd: fewer bytes, for the
// clients that pull it). Each owner's choice is what the push dialog starts with and what a push
// without the dialog uses.
import { h, emptyState, errorView, fill } from '../dom.js';
import { compressionFor, setCompressionFor } from '../preferences.js';
import { t, choice } from '../i18n.js';

export function render(root, { invoke, show, ready, chooseLanguage }) {
  const owners = h('div', { id: 'compression-owners', class: 'settings-rows' });
  // Each language is named in itself, as every system's language menu does.
  const languageSelect = h('select', { id: 'language', 'aria-label': t('settings.language') },
    h('option', { value: 'auto' }, t('settings.language.auto')),
    h('option', { value: 'en', lang: 'en', translate: 'no' }, 'English'),
    h('option', { value: 'zh-CN', lang: 'zh-CN', translate: 'no' }, '简体中文'));
  languageSelect.value = choice();
  languageSelect.addEventListener('change', () => chooseLanguage(languageSelect.value));
  root.replaceChildren(
    h('h1', {}, t('nav.settings')),
    h('section', { class: 'card', id: 'language-settings', 'aria-labelledby': 'language-title' },
      h('h2', { id: 'language-title' }, t('settings.language')),
      h('div', { class: 'settings-row' }, h('label', { for: 'language' }, t('settings.language.label')), languageSelect)),
    h('section', { class: 'card', id: 'compression-settings', 'aria-labelledby': 'compression-title' },
      h('h2', { id: 'compression-title' }, t('settings.compression')),
      h('p', {}, t('settings.compression.about'), ' ', t('settings.zstd_note')),
      owners));

  // `name` is the owner as GitHub spells it; the account's own row says so ("octo (you)").
  const row = (owner, name, you = false) => {
    const select = h('select', { id: `compression-${owner}`, dataset: { owner },
      'aria-label': t('settings.compression_for', { owner: you ? t('settings.owner_you', { login: name }) : name }) },
      h('option', { value: 'gzip' }, t('settings.gzip_option')),
      h('option', { value: 'zstd' }, t('settings.zstd_option')));
    select.value = compressionFor(owner);
    select.addEventListener('change', () => setCompressionFor(owner, select.value));
    const shown = h('span', { translate: 'no' }, name);
    return h('div', { class: 'settings-row' },
      h('label', { for: `compression-${owner}` }, you ? fill(t('settings.owner_you'), { login: shown }) : shown), select);
  };
  ready(invoke('owners').then(({ login, orgs }) => {
    owners.replaceChildren(row(login.toLowerCase(), login, true), ...orgs.map((org) => row(org.toLowerCase(), org)));
  }).catch((error) => {
    const signIn = error.code === 'token.missing' || error.code === 'token.invalid';
    owners.replaceChildren(signIn
      ? emptyState({ id: 'settings-sign-in', glyph: '⚙', title: t('settings.sign_in.title'), text: t('settings.sign_in.text'),
        actions: [h('button', { class: 'primary', type: 'button', onclick: () => show('account', { focus: true }) }, t('actions.open_account'))] })
      : errorView(error));
  }));
}
