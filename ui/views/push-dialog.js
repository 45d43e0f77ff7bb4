// "Push to OWNER": the small confirmation at a drop (or an owner button) before an image goes up: the
// name and tag, editable and checked as typed; for a package that doesn't exist yet, the repository to
// link it to (ghcr.io reads that only when a package is created), pre-selected by name; Enter pushes,
// Esc cancels, and "don't ask again for this owner" skips it next time; "Smaller upload (zstd)" starts
// as the owner's choice in Settings. Resolves to `{ reference, sourceRepository, compression }`, or
// null when cancelled.
import { h, debounce, errorView, markPending, markChecked, relativeTime, fill, data, problemsOf } from '../dom.js';
import { t, errorText } from '../i18n.js';
import { compressionFor } from '../preferences.js';

const SKIP_KEY = 'ghcr.push-confirm.skip';

function skipped() {
  try {
    return JSON.parse(localStorage.getItem(SKIP_KEY) || '[]');
  } catch {
    return [];
  }
}

/// What `tag_check` found wrong and, when there is one, the name to try instead.
export function problemNodes(result, key) {
  return [...problemsOf(result).flatMap((problem, i) => [...(i ? [' '] : []), ...problem]),
    ...(result.fix ? [' ', ...fill(t(key), { fix: data(result.fix) })] : [])];
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
  select.replaceChildren(h('option', { value: '' }, repositories ? t('push.repo.none') : t('push.repo.none_unavailable')),
    ...(repositories || []).map((r) => h('option', { value: r.html_url, translate: 'no' }, r.full_name)));
  select.value = choice ? choice.html_url : '';
}

export async function openPushDialog({ source, registry, owner, org, nameAndTag, invoke }) {
  const nameField = h('input', { id: 'push-name', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'push-problem' });
  nameField.value = nameAndTag;
  const preview = h('code', { id: 'push-preview' });
  const problem = h('div', { id: 'push-problem', class: 'result error', hidden: true, role: 'alert' });
  // A tag the registry has already: what it points to, and that pushing replaces it.
  const exists = h('p', { id: 'push-exists', class: 'note', hidden: true, role: 'status' });
  const repoField = h('select', { id: 'push-repo' }, h('option', { value: '' }, t('push.repo.loading')));
  const repoRow = h('div', { class: 'form-grid', id: 'push-repo-row' },
    h('label', { for: 'push-repo' }, t('push.repo.label')), repoField);
  const repoNote = h('p', { class: 'muted small-print', id: 'push-repo-note' });
  const skip = h('input', { type: 'checkbox', id: 'push-skip' });
  const zstd = h('input', { type: 'checkbox', id: 'push-zstd' });
  zstd.checked = compressionFor(owner) === 'zstd';
  const push = h('button', { id: 'push-confirm', class: 'primary', type: 'submit', disabled: true }, t('push.push'));
  const cancel = h('button', { id: 'push-cancel', class: 'ghost', type: 'button' }, t('push.cancel'));
  const form = h('form', { method: 'dialog' },
    h('h2', { id: 'push-title' }, fill(t('push.title'), { owner: data(owner) })),
    h('p', { class: 'muted' }, fill(t('push.goes_up_as'), { source: h('code', {}, source) })),
    h('div', { class: 'form-grid' }, h('label', { for: 'push-name' }, t('push.name_and_tag')), nameField),
    h('p', { class: 'preview' }, fill(t('push.pushes_to'), { target: preview })),
    problem, exists,
    repoRow, repoNote,
    h('label', { class: 'check' }, zstd, ` ${t('push.zstd')}`),
    h('p', { class: 'muted small-print', id: 'push-zstd-note' }, t('settings.zstd_note')),
    h('label', { class: 'check' }, skip, ' ', fill(t('push.dont_ask_again'), { owner: data(owner) })),
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
      repoNote.replaceChildren(...fill(t('push.repo.exists_note'), { package: data(`${owner}/${name}`) }));
      return;
    }
    const repositories = await repositoriesLoaded;
    if (asked !== latestPackage) return;
    offerRepositories(repoField, repositories, name);
    repoNote.textContent = t('push.repo.new_note');
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
    if (found) push.replaceChildren(...fill(t('push.replace'), { tag: data(tag) }));
    else push.textContent = t('push.push');
    if (found) {
      dialog.dataset.replaces = found.digest;
      const when = found.pushed_at ? t('push.exists.pushed_at', { ago: relativeTime(Date.parse(found.pushed_at) / 1000) }) : '';
      exists.replaceChildren(...fill(t('push.exists', { when }),
        { tag: data(tag), digest: data(`${found.digest.slice(0, 19)}…`) }));
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
    const result = await invoke('tag_check', { target: text }).catch((error) => ({ problems: [errorText(error).message] }));
    if (asked !== latest) return;
    push.disabled = !result.reference;
    problem.hidden = Boolean(result.reference);
    problem.replaceChildren(...(result.reference ? [] : problemNodes(result, 'push.try_fix')));
    if (result.reference) await Promise.all([checkPackage(), checkExisting(result.reference)]);
    else { exists.hidden = true; push.textContent = t('push.push'); delete dialog.dataset.replaces; }
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
        problem.replaceChildren(...(result.error ? [errorView(result.error)] : problemNodes(result, 'push.try_fix')));
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
