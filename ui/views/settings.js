// Settings view: the choices that outlast a push — for now, the layer compression per owner (gzip,
// which every client pulls, or zstd: fewer bytes, for the clients that pull it). Each owner's choice
// is what the push dialog starts with and what a push without the dialog uses.
import { h, emptyState, errorView } from '../dom.js';
import { compressionFor, setCompressionFor, ZSTD_NOTE } from '../preferences.js';

export const title = 'Settings';

export function render(root, { invoke, show, ready }) {
  const owners = h('div', { id: 'compression-owners', class: 'settings-rows' });
  root.replaceChildren(
    h('h1', {}, 'Settings'),
    h('section', { class: 'card', id: 'compression-settings', 'aria-labelledby': 'compression-title' },
      h('h2', { id: 'compression-title' }, 'Layer compression'),
      h('p', {}, 'gzip is what every client pulls. zstd sends fewer bytes — often far fewer, because the same file met again anywhere in a layer is sent once — which is time on a slow uplink. ', ZSTD_NOTE),
      owners));

  const row = (owner, label) => {
    const select = h('select', { id: `compression-${owner}`, 'aria-label': `Layer compression for ${label}`, dataset: { owner } },
      h('option', { value: 'gzip' }, 'gzip (every client)'),
      h('option', { value: 'zstd' }, 'zstd (smaller upload)'));
    select.value = compressionFor(owner);
    select.addEventListener('change', () => setCompressionFor(owner, select.value));
    return h('div', { class: 'settings-row' }, h('label', { for: `compression-${owner}` }, label), select);
  };
  ready(invoke('owners').then(({ login, orgs }) => {
    owners.replaceChildren(row(login.toLowerCase(), `${login} (you)`), ...orgs.map((org) => row(org.toLowerCase(), org)));
  }).catch((error) => {
    const signIn = error.code === 'token.missing' || error.code === 'token.invalid';
    owners.replaceChildren(signIn
      ? emptyState({ id: 'settings-sign-in', glyph: '⚙', title: 'Sign in to choose per owner', text: 'Your account and its organizations are listed here once a token is set up.',
        actions: [h('button', { class: 'primary', type: 'button', onclick: () => show('account', { focus: true }) }, 'Open Account')] })
      : errorView(error));
  }));
}
