// "Push an archive": a modal form for a dropped or picked image archive (docker save .tar/.tar.gz, OCI
// layout folder or .tar): where to push it (owner and name:tag, checked as typed like the tag dialog)
// and, optionally, the repository to connect it to. Pushes directly: no engine is needed.
import { h, debounce, errorView, markPending, markChecked, fill } from '../dom.js';
import { t, errorText } from '../i18n.js';
import { offerRepositories, problemNodes } from './push-dialog.js';
import { compressionFor } from '../preferences.js';

// A registry name from a file name: `My App-1.2.tar.gz` → `my-app-1.2`.
function nameFromPath(path) {
  const file = path.split(/[\\/]/).filter(Boolean).pop() || 'image';
  const stem = file.replace(/\.(tar\.gz|tgz|tar|gz)$/i, '');
  return stem.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+|[._-]+$/g, '') || 'image';
}

export async function openArchiveDialog({ path, invoke }) {
  let owners = null;
  try {
    owners = await invoke('owners');
  } catch {
    owners = null;
  }
  const probe = await invoke('tag_proposal', { source: 'image', owner: owners ? owners.login : 'owner' });
  const registry = probe.registry;
  const ownerField = owners
    ? h('select', { id: 'archive-owner' },
      h('option', { value: owners.login.toLowerCase() }, t('archive.owner.you', { login: owners.login })),
      owners.orgs.map((org) => h('option', { value: org.toLowerCase() }, t('archive.owner.organization', { org }))))
    : h('input', { id: 'archive-owner', autocomplete: 'off', spellcheck: 'false' });
  const nameField = h('input', { id: 'archive-name', autocomplete: 'off', spellcheck: 'false' });
  nameField.value = `${nameFromPath(path)}:latest`;
  // The repository to link a new package to, among the owner's (ghcr.io reads it only at creation).
  const repoField = owners
    ? h('select', { id: 'archive-repo' }, h('option', { value: '' }, t('archive.repo.none')))
    : h('input', { id: 'archive-repo', autocomplete: 'off', spellcheck: 'false', placeholder: t('archive.repo.placeholder') });
  let listed = { owner: null, repositories: null };
  const offer = async () => {
    if (!owners) return;
    const owner = ownerField.value;
    if (listed.owner !== owner) {
      const org = owner === owners.login.toLowerCase() ? null : owner;
      listed = { owner, repositories: await invoke('package_repositories', { org, owner }).catch(() => null) };
    }
    if (ownerField.value === owner) offerRepositories(repoField, listed.repositories, nameField.value.trim().split(':')[0]);
  };
  const preview = h('code', { id: 'archive-preview' });
  const problem = h('div', { id: 'archive-problem', class: 'result error', hidden: true, role: 'alert' });
  const zstd = h('input', { type: 'checkbox', id: 'archive-zstd' });
  const push = h('button', { id: 'archive-push', class: 'primary', type: 'submit' }, t('archive.push'));
  const cancel = h('button', { id: 'archive-cancel', class: 'ghost', type: 'button' }, t('archive.cancel'));
  const form = h('form', { method: 'dialog' },
    h('h2', { id: 'archive-title' }, t('archive.title')),
    h('p', { class: 'muted' }, fill(t('archive.goes_straight'), { path: h('code', {}, path) })),
    !owners && h('p', { class: 'note' },
      fill(t('archive.sign_in_first'), { scope: h('span', { translate: 'no' }, 'write:packages') })),
    h('div', { class: 'form-grid' },
      h('label', { for: 'archive-owner' }, t('archive.owner')), ownerField,
      h('label', { for: 'archive-name' }, t('archive.name_and_tag')), nameField,
      h('label', { for: 'archive-repo' }, t('archive.repo.label')), repoField),
    h('p', { class: 'preview' }, fill(t('archive.pushes_to'), { target: preview })),
    problem,
    h('label', { class: 'check' }, zstd, ` ${t('archive.zstd')}`),
    h('p', { class: 'muted small-print' }, t('settings.zstd_note')),
    h('div', { class: 'actions' }, push, cancel));
  const dialog = h('dialog', { id: 'archive-dialog', 'aria-labelledby': 'archive-title' }, form);
  document.body.append(dialog);

  const target = () => `${registry}/${ownerField.value.trim()}/${nameField.value.trim()}`;
  // The owner's choice in Settings, as the owner is chosen (a choice made here is kept until then).
  const followOwner = () => { zstd.checked = compressionFor(ownerField.value.trim().toLowerCase()) === 'zstd'; };
  followOwner();
  ownerField.addEventListener('change', followOwner);
  let latest = 0;
  const check = async () => {
    const asked = ++latest;
    const text = target();
    preview.textContent = text;
    const [result] = await Promise.all([
      invoke('tag_check', { target: text }).catch((error) => ({ problems: [errorText(error).message] })), offer()]);
    if (asked !== latest) return;
    push.disabled = !result.reference;
    problem.hidden = Boolean(result.reference);
    problem.replaceChildren(...(result.reference ? [] : problemNodes(result, 'archive.try_fix')));
    markChecked(dialog, text);
  };
  // `data-pending` from a keystroke until the check (and the owner's repositories) have answered.
  const checkSoon = debounce(check, 120);
  nameField.addEventListener('input', () => { push.disabled = true; markPending(dialog); checkSoon(); });
  ownerField.addEventListener(owners ? 'change' : 'input', () => { push.disabled = true; markPending(dialog); checkSoon(); });

  return new Promise((resolve) => {
    let started = null;
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => { dialog.remove(); resolve(started); });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (push.disabled) return;
      push.disabled = true;
      try {
        const repository = repoField.value.trim(); // a chosen repository's page, or one typed
        started = await invoke('push_start', {
          request: {
            source: { kind: 'archive', value: path }, target: target(), via: 'direct',
            source_repository: repository || null, compression: zstd.checked ? 'zstd' : 'gzip',
          },
        });
        dialog.close();
      } catch (error) {
        problem.hidden = false;
        problem.replaceChildren(errorView(error));
        push.disabled = false;
      }
    });
    dialog.showModal();
    nameField.focus();
    check();
  });
}
