// "Tag for GitHub": a modal form that proposes registry/owner/name:tag for a local image (owner from the
// signed-in login and its orgs, lowercased), checks the name in the core as it is typed, says what is
// wrong and offers the fixed form, then tags the image. Resolves to the new name, or null if cancelled.
import { h, debounce, errorView, markPending, markChecked, data, sentence, problemsOf } from '../dom.js';
import { t, errorText } from '../i18n.js';

export async function openTagDialog({ image, invoke }) {
  const source = image.reference || image.id;
  let owners = null;
  try {
    owners = await invoke('owners');
  } catch {
    owners = null; // not signed in (or GitHub unreachable): the owner is typed instead
  }
  const login = owners ? owners.login : '';
  const proposal = await invoke('tag_proposal', { source, owner: login || 'owner' });
  const registry = proposal.registry;

  const ownerField = owners
    ? h('select', { id: 'tag-owner' },
      h('option', { value: login.toLowerCase() }, t('tag.option.you', { login })),
      owners.orgs.map((org) => h('option', { value: org.toLowerCase() }, t('tag.option.organization', { org }))))
    : h('input', { id: 'tag-owner', autocomplete: 'off', spellcheck: 'false' });
  if (owners && ![...ownerField.options].some((o) => o.value === proposal.owner)) {
    ownerField.append(h('option', { value: proposal.owner, translate: 'no' }, proposal.owner));
  }
  ownerField.value = proposal.owner;
  const nameField = h('input', { id: 'tag-name', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'tag-problem' });
  nameField.value = proposal.name_and_tag;
  const preview = h('code', { id: 'tag-preview' });
  const problems = h('ul', { id: 'tag-problems' });
  const fixButton = h('button', { id: 'tag-fix', class: 'ghost', type: 'button' });
  const problem = h('div', { id: 'tag-problem', class: 'result error', hidden: true, role: 'alert' }, problems, fixButton);
  const create = h('button', { id: 'tag-create', class: 'primary', type: 'submit' }, t('tag.create'));
  const cancel = h('button', { id: 'tag-cancel', class: 'ghost', type: 'button' }, t('tag.cancel'));
  const outcome = h('p', { id: 'tag-outcome', role: 'status' });
  const form = h('form', { method: 'dialog' },
    h('h2', { id: 'tag-title' }, t('tag.title')),
    h('p', { class: 'muted' }, sentence('tag.intro', { source: h('code', {}, source) })),
    // The core's explanation is one fixed text (reference::docker_pkg): the catalog says it.
    proposal.translation && h('p', { id: 'tag-explanation', class: 'note' },
      h('strong', {}, sentence('tag.translation.names', { from: data(proposal.translation.from), to: data(proposal.translation.to) })),
      t('tag.translation.explanation')),
    !owners && h('p', { class: 'note' }, t('tag.sign_in_note')),
    h('div', { class: 'form-grid' },
      h('label', { for: 'tag-owner' }, t('tag.field.owner')), ownerField,
      h('label', { for: 'tag-name' }, t('tag.field.name_and_tag')), nameField),
    h('p', { class: 'preview' }, sentence('tag.new_name', { name: preview })),
    problem,
    h('div', { class: 'actions' }, create, cancel),
    outcome);
  const dialog = h('dialog', { id: 'tag-dialog', 'aria-labelledby': 'tag-title' }, form);
  document.body.append(dialog);

  const target = () => `${registry}/${ownerField.value.trim()}/${nameField.value.trim()}`;
  let latest = 0;
  let fixed = null; // the offered fix's owner and name:tag, as the core split them
  const check = async () => {
    const asked = ++latest;
    const text = target();
    preview.textContent = text;
    const result = await invoke('tag_check', { target: text }).catch((error) => ({ problems: [errorText(error).message] }));
    if (asked !== latest) return;
    const valid = Boolean(result.reference);
    create.disabled = !valid;
    problem.hidden = valid;
    dialog.dataset.valid = String(valid);
    if (valid) {
      preview.textContent = result.reference;
    } else {
      problems.replaceChildren(...problemsOf(result).map((p) => h('li', {}, p)));
      fixButton.hidden = !result.fields;
      fixButton.replaceChildren(...(result.fields ? sentence('tag.fix', { fix: data(result.fix) }) : []));
      fixed = result.fields;
    }
    markChecked(dialog, text);
  };
  // `data-pending` from a keystroke until the check of what it typed has answered (see dom.js).
  const checkSoon = debounce(check, 120);
  nameField.addEventListener('input', () => { create.disabled = true; markPending(dialog); checkSoon(); });
  ownerField.addEventListener(owners ? 'change' : 'input', () => { create.disabled = true; markPending(dialog); checkSoon(); });
  fixButton.addEventListener('click', () => {
    if (!fixed) return;
    const { owner, name_and_tag: nameAndTag } = fixed;
    if (owners && ![...ownerField.options].some((o) => o.value === owner)) ownerField.append(h('option', { value: owner }, owner));
    ownerField.value = owner;
    nameField.value = nameAndTag;
    check();
    nameField.focus();
  });

  return new Promise((resolve) => {
    let result = null;
    const close = () => dialog.close();
    cancel.addEventListener('click', close);
    dialog.addEventListener('close', () => { dialog.remove(); resolve(result); });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (create.disabled) return;
      create.disabled = true;
      create.textContent = t('tag.creating');
      try {
        result = await invoke('image_tag', { source, target: target() });
        close();
      } catch (error) {
        outcome.replaceChildren(errorView(error));
        create.disabled = false;
        create.textContent = t('tag.create');
      }
    });
    dialog.showModal();
    nameField.focus();
    nameField.select();
    check();
  });
}
