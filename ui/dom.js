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
