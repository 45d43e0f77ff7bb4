// Images view: the local container engine and, once connected, its images. Without an engine it is the
// "No container engine found" state, saying how to start one, with a retry.
import { h, emptyState } from '../dom.js';

export const title = 'Images';

export function render(root, { engine, refreshEngine }) {
  const draw = ({ state, info, error }) => {
    if (state === 'checking') {
      root.replaceChildren(h('div', { class: 'spinner', role: 'progressbar', 'aria-label': 'Looking for a container engine' }));
      return;
    }
    if (state === 'error') {
      const retry = h('button', { class: 'primary', type: 'button', id: 'engine-retry' }, 'Try again');
      retry.addEventListener('click', async () => {
        retry.disabled = true;
        retry.textContent = 'Looking…';
        await refreshEngine();
      });
      const unreachable = error.code === 'engine.unreachable';
      root.replaceChildren(emptyState({
        id: 'no-engine', error: true, glyph: '!',
        title: unreachable ? 'No container engine found' : 'The container engine cannot be used',
        text: 'GHCR Desktop lists and pushes the images of a local Docker or Podman engine.',
        detail: error.message, hint: error.hint, actions: [retry],
      }));
      return;
    }
    root.replaceChildren(
      h('h1', {}, 'Images'),
      h('p', { class: 'lede' }, `Connected to ${info.product} ${info.version}. Listing its images comes in the next version of GHCR Desktop.`),
      h('section', { class: 'card', id: 'engine-card', 'aria-label': 'Container engine' },
        h('dl', { class: 'facts' },
          h('dt', {}, 'Engine'), h('dd', { id: 'engine-product' }, `${info.product} ${info.version}`),
          h('dt', {}, 'Socket'), h('dd', { id: 'engine-endpoint' }, info.endpoint),
          h('dt', {}, 'API'), h('dd', { id: 'engine-api' }, `${info.api_version} (the engine offers up to ${info.server_api_version})`),
          h('dt', {}, 'Platform'), h('dd', {}, `${info.os}/${info.arch}`))));
  };
  draw(engine);
  return engine.subscribe(draw);
}
