// Pushes view: push jobs with their per-layer progress. Empty until a push is started.
import { emptyState } from '../dom.js';

export const title = 'Pushes';

export function render(root) {
  root.replaceChildren(emptyState({
    id: 'no-pushes', glyph: '↑',
    title: 'No pushes yet',
    text: 'Pushes you start appear here with per-layer progress, speed and time left, and can be cancelled or retried.',
  }));
}
