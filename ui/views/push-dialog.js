// "Push to OWNER": the small confirmation at a drop (or an owner button) before an image goes up: the
// name and tag, editable and checked as typed; for a package that doesn't exist yet, the repository to
// link it to (ghcr.io reads that only when a package is created), pre-selected by name; Enter pushes,
// Esc cancels, and "don't ask again for this owner" skips it next time; "Smaller upload (zstd)" starts
// as the owner's choice in Settings. Resolves to `{ reference, sourceRepository, compression }`, or
// null when cancelled.
import { h, debounce, errorView, markPending, markChecked, relativeTime } from '../dom.js';
import { compressionFor, ZSTD_NOTE } from '../preferences.js';

const SKIP_KEY = 'ghcr.push-confirm.skip';

function skipped() {
  try {
    return JSON.parse(localStorage.getItem(SKIP_KEY) || '[]');
  } catch {
    return [];
  }
}

/// Whether the person asked not to confirm pushes to `owner` again.
export function confirmSkipped(owner) {
  return skipped().includes(owner);
}

function skipFrom(owner) {
  const owners = new Set(skipped());
  owners.add(owner);
  localStorage.setItem(SKIP_KEY, JSON.stringify([...owners]));
}

/// Fills `select` with "None" and `repositories` (null: they couldn't be listed), the one named like
/// the package's last path part chosen.
export function offerRepositories(select, repositories, packageName) {
  const last = packageName.split('/').pop().toLowerCase();
  const choice = (repositories || []).find((r) => r.full_name.split('/').pop().toLowerCase() === last);
  select.replaceChildren(h('option', { value: '' }, repositories ? 'None' : 'None (repositories unavailable)'),
    ...(repositories || []).map((r) => h('option', { value: r.html_url }, r.full_name)));
  select.value = choice ? choice.html_url : '';
}

export async function openPushDialog({ source, registry, owner, org, nameAndTag, invoke }) {
  const nameField = h('input', { id: 'push-name', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'push-problem' });
  nameField.value = nameAndTag;
  const preview = h('code', { id: 'push-preview' });
  const problem = h('div', { id: 'push-problem', class: 'result error', hidden: true, role: 'alert' });
  // A tag the registry has already: what it points to, and that pushing replaces it.
  const exists = h('p', { id: 'push-exists', class: 'note', hidden: true, role: 'status' });
  const repoField = h('select', { id: 'push-repo' }, h('option', { value: '' }, 'Loading repositories…'));
  const repoRow = h('div', { class: 'form-grid', id: 'push-repo-row' },
    h('label', { for: 'push-repo' }, 'Link to repository'), repoField);
  const repoNote = h('p', { class: 'muted small-print', id: 'push-repo-note' });
  const skip = h('input', { type: 'checkbox', id: 'push-skip' });
  const zstd = h('input', { type: 'checkbox', id: 'push-zstd' });
  zstd.checked = compressionFor(owner) === 'zstd';
  const push = h('button', { id: 'push-confirm', class: 'primary', type: 'submit', disabled: true }, 'Push');
  const cancel = h('button', { id: 'push-cancel', class: 'ghost', type: 'button' }, 'Cancel');
  const form = h('form', { method: 'dialog' },
    h('h2', { id: 'push-title' }, `Push to ${owner}`),
    h('p', { class: 'muted' }, h('code', {}, source), ' goes up as:'),
    h('div', { class: 'form-grid' }, h('label', { for: 'push-name' }, 'Name and tag'), nameField),
    h('p', { class: 'preview' }, 'Pushes to: ', preview),
    problem, exists,
    repoRow, repoNote,
    h('label', { class: 'check' }, zstd, ' Smaller upload (zstd)'),
    h('p', { class: 'muted small-print', id: 'push-zstd-note' }, ZSTD_NOTE),
    h('label', { class: 'check' }, skip, ` Don’t ask again for ${owner}`),
    h('div', { class: 'actions' }, push, cancel));
  const dialog = h('dialog', { id: 'push-dialog', 'aria-labelledby': 'push-title' }, form);
  document.body.append(dialog);

  const target = () => `${registry}/${owner}/${nameField.value.trim()}`;
  const packageName = () => nameField.value.trim().split(':')[0].split('@')[0];
  const repositoriesLoaded = invoke('package_repositories', { org, owner }).catch(() => null);

  // A new package gets the repository choice; an existing one is linked on GitHub's settings page.
  let latestPackage = 0;
  const checkPackage = async () => {
    const asked = ++latestPackage;
    const name = packageName();
    let exists = false;
    try {
      await invoke('package_get', { org, name });
      exists = true;
    } catch { /* not found (or not visible): a new package */ }
    if (asked !== latestPackage) return;
    dialog.dataset.newPackage = String(!exists);
    repoRow.hidden = exists;
    if (exists) {
      repoField.value = '';
      repoNote.textContent = `${owner}/${name} exists: its repository link is set on GitHub (Packages → the package → Connect).`;
      return;
    }
    const repositories = await repositoriesLoaded;
    if (asked !== latestPackage) return;
    offerRepositories(repoField, repositories, name);
    repoNote.textContent = 'GitHub links a package to a repository only when the package is created. To push from that repository’s Actions later, grant it access under “Manage Actions access” on the package’s settings.';
  };
  // Whether the tag is on the registry already: said, with its digest and when it was pushed, and the
  // button says "Replace" — a push over a tag is never silent.
  let latestExisting = 0;
  const checkExisting = async (reference) => {
    const asked = ++latestExisting;
    const found = await invoke('registry_tag_existing', { target: reference }).catch(() => null);
    if (asked !== latestExisting) return;
    const tag = reference.split('/').pop();
    exists.hidden = !found;
    push.textContent = found ? `Replace ${tag}` : 'Push';
    if (found) {
      dialog.dataset.replaces = found.digest;
      const when = found.pushed_at ? `, pushed ${relativeTime(Date.parse(found.pushed_at) / 1000)}` : '';
      exists.textContent = `${tag} is on the registry already (${found.digest.slice(0, 19)}…${when}). Pushing replaces it; the image it pointed to stays as an untagged version.`;
    } else {
      delete dialog.dataset.replaces;
    }
  };
  // `data-ready` once the first check (name, whether the package and the tag exist) has answered;
  // `data-pending` from a keystroke until the check of what it typed has.
  let latest = 0;
  const check = async () => {
    const asked = ++latest;
    const text = target();
    preview.textContent = text;
    const result = await invoke('tag_check', { target: text }).catch((error) => ({ problems: [error.message] }));
    if (asked !== latest) return;
    push.disabled = !result.reference;
    problem.hidden = Boolean(result.reference);
    problem.textContent = result.reference ? '' : `${result.problems.join(' ')}${result.fix ? ` Try ${result.fix}.` : ''}`;
    if (result.reference) await Promise.all([checkPackage(), checkExisting(result.reference)]);
    else { exists.hidden = true; push.textContent = 'Push'; delete dialog.dataset.replaces; }
    if (asked === latest) markChecked(dialog, text);
  };
  const checkSoon = debounce(check, 120);
  nameField.addEventListener('input', () => { push.disabled = true; markPending(dialog); checkSoon(); });

  return new Promise((resolve) => {
    let chosen = null;
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => { dialog.remove(); resolve(chosen); });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (push.disabled) return;
      push.disabled = true;
      const result = await invoke('tag_check', { target: target() }).catch((error) => ({ error }));
      if (!result.reference) {
        problem.hidden = false;
        problem.replaceChildren(result.error ? errorView(result.error) : result.problems.join(' '));
        push.disabled = false;
        return;
      }
      if (skip.checked) skipFrom(owner);
      chosen = {
        reference: result.reference, sourceRepository: repoRow.hidden ? null : repoField.value || null,
        compression: zstd.checked ? 'zstd' : 'gzip',
      };
      dialog.close();
    });
    dialog.showModal();
    nameField.focus();
    nameField.select();
    check();
  });
}
