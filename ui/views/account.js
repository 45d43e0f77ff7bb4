// Account view: the GitHub account and token GHCR Desktop publishes with. Token setup is not in this
// version yet; the view says what it will do and what works meanwhile.
import { h, emptyState } from '../dom.js';

export const title = 'Account';

export function render(root) {
  root.replaceChildren(emptyState({
    id: 'no-account', glyph: '🔑',
    title: 'No GitHub account connected',
    text: 'ghcr.io accepts classic personal access tokens with the write:packages scope. GHCR Desktop will check a token as you paste it and keep it in your system keyring, never in a file.',
    hint: 'Token setup is not in this version yet.',
  }));
}
