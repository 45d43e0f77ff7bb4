// Packages view: the account's and its organisations' container packages on ghcr.io, with visibility.
// Needs a connected account.
import { h, emptyState } from '../dom.js';

export const title = 'Packages';

export function render(root, { show }) {
  const toAccount = h('button', { class: 'primary', type: 'button' }, 'Go to Account');
  toAccount.addEventListener('click', () => show('account', { focus: true }));
  root.replaceChildren(emptyState({
    id: 'no-packages', glyph: '▦',
    title: 'Connect an account to see your packages',
    text: 'Your packages and your organisations\' packages, their versions, tags and visibility, show here once a GitHub account is connected.',
    actions: [toAccount],
  }));
}
