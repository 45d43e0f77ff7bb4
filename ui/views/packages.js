// Packages view: your (or an organization's) container packages with visibility, repository, versions
// and last update — shown at once from the last visit, refreshed in the background. A package opens
// its versions (tags, digest, pull command, delete with a confirmation naming exactly what goes) and
// its visibility: GitHub has no API to change it, so the switch opens the package's settings page and
// watches until GitHub reports the change, then proves it with an anonymous pull from the registry.
import { h, emptyState, errorView, relativeTime, data, sentence } from '../dom.js';
import { t, time, errorText } from '../i18n.js';

const WATCH_LIMIT_MS = 10 * 60 * 1000;
// Failed polls in a row after which a watch stops and says what failed.
const WATCH_FAILURES = 3;

const seconds = (text) => (text ? Date.parse(text) / 1000 : 0);

// GitHub's visibility in the window's words; one GitHub might add later stays as GitHub says it.
const VISIBILITIES = ['public', 'private', 'internal'];
const visibilityWord = (visibility) => (VISIBILITIES.includes(visibility) ? t(`packages.visibility.${visibility}`) : visibility);

// A tag as a pill, written as a reference writes it (`:2`), so a numeric tag isn't read as a count.
const tagPill = (tag) => h('span', { class: 'badge tag-pill', title: t('packages.tag_pill.title', { tag }), translate: 'no' }, `:${tag}`);

export function render(root, { invoke, show, account, pushes, ready }) {
  const ui = { owners: null, org: '', packages: [], selected: null, registry: '', watch: null };
  // Deleting needs delete:packages: without it the delete buttons say so and offer a replacement token.
  // (Unknown while the account is being checked: then GitHub's own refusal says it.)
  const canDelete = () => !(account.state === 'ok' && account.account && !account.account.report.scope_check.delete);
  const needsDeleteScope = () => {
    const replace = h('button', { class: 'ghost small', type: 'button', id: 'replace-token-delete' }, ...sentence('packages.delete_scope.replace', { scope: data('delete:packages') }));
    replace.addEventListener('click', () => invoke('open_new_token_page', { includeDelete: true })
      .then((url) => { replace.replaceWith(h('span', { class: 'muted' }, ...sentence('packages.delete_scope.opened', { url: data(url) }))); })
      .catch((error) => { replace.replaceWith(errorView(error)); }));
    return h('p', { class: 'note', id: 'delete-needs-scope' }, ...sentence('packages.delete_scope.note', { scope: data('delete:packages') }), replace);
  };

  const notSignedIn = () => {
    const toAccount = h('button', { class: 'primary', type: 'button' }, t('packages.signed_out.go'));
    toAccount.addEventListener('click', () => show('account', { focus: true }));
    root.replaceChildren(emptyState({
      id: 'no-packages', glyph: '▦', title: t('packages.signed_out.title'),
      text: t('packages.signed_out.text'),
      actions: [toAccount],
    }));
  };

  const ownerSelect = h('select', { id: 'package-owner', 'aria-label': t('packages.owner.label') });
  const refresh = h('button', { class: 'ghost small', type: 'button', id: 'packages-refresh' }, t('packages.refresh'));
  const count = h('span', { id: 'package-count', class: 'muted', 'aria-live': 'polite' });
  const notice = h('div', { id: 'package-notice', class: 'notice', role: 'status', hidden: true });
  const list = h('div', { id: 'package-list', class: 'package-list', role: 'list', 'aria-label': t('packages.title') });
  const detail = h('section', { id: 'package-detail', class: 'card package-detail', hidden: true, 'aria-live': 'polite' });

  // A line of text or its parts (an error when `error`), or an error object from the core shown as errorView.
  const say = (text, error = false) => {
    const failure = Boolean(text) && typeof text === 'object' && !Array.isArray(text);
    notice.replaceChildren(...(failure ? [errorView(text)] : [text].flat()));
    notice.classList.toggle('error', error || failure);
    notice.hidden = !text;
  };
  const ownerLogin = () => ui.org || (ui.owners ? ui.owners.login : '');
  const cacheKey = () => `packages:${ui.org || '@me'}`;

  const badge = (visibility) => h('span', { class: `badge visibility-badge ${visibility === 'public' ? 'ok' : ''}`, dataset: { visibility } }, visibilityWord(visibility));

  const drawList = () => {
    count.textContent = t('packages.count', { count: ui.packages.length });
    list.dataset.rows = String(ui.packages.length);
    if (ui.packages.length === 0) {
      const go = h('button', { class: 'ghost', type: 'button' }, t('packages.empty.go'));
      go.addEventListener('click', () => show('images', { focus: true }));
      list.replaceChildren(emptyState({ id: 'no-package-yet', glyph: '▦', title: t('packages.empty.title'),
        text: t('packages.empty.text'), actions: [go] }));
      return;
    }
    list.replaceChildren(...ui.packages.map((p) => {
      const row = h('div', { class: 'package-row', role: 'listitem', tabindex: '0', dataset: { name: p.name, visibility: p.visibility, versions: String(p.version_count) },
        'aria-label': t('packages.row.label', { name: p.name, visibility: visibilityWord(p.visibility), count: p.version_count }) },
      h('span', { class: 'package-name', translate: 'no' }, p.name), badge(p.visibility),
      h('span', { class: 'muted package-repo', translate: p.repository ? 'no' : null }, p.repository ? p.repository.full_name : t('packages.row.no_repository')),
      h('span', { class: 'muted' }, t('packages.row.versions', { count: p.version_count })),
      h('span', { class: 'muted' }, p.updated_at ? relativeTime(seconds(p.updated_at)) : ''));
      row.addEventListener('click', () => open(p.name));
      row.addEventListener('keydown', (event) => { if (event.key === 'Enter') open(p.name); });
      return row;
    }));
  };

  const load = async () => {
    // The last visit's list, shown at once; a cache that isn't a list (damaged, or from another
    // version) is dropped, never an error.
    try {
      const cached = JSON.parse(localStorage.getItem(cacheKey()) || 'null');
      if (Array.isArray(cached)) { ui.packages = cached; drawList(); }
    } catch {
      localStorage.removeItem(cacheKey());
    }
    try {
      ui.packages = await invoke('packages_list', { org: ui.org || null });
      localStorage.setItem(cacheKey(), JSON.stringify(ui.packages));
      // A loaded list clears an earlier load's error, not what an action said ("Deleted … Restore it").
      if (notice.classList.contains('error')) say('');
      drawList();
      if (ui.selected) {
        const current = ui.packages.find((p) => p.name === ui.selected.name);
        if (current) setVisibility(current.visibility);
        // GitHub counts another number of versions than the detail shows: the detail loads again.
        if (current && ui.versions && current.version_count !== ui.versions.length) redrawVersions();
      }
    } catch (error) {
      say(error);
      // An error is the whole story: no "No container packages yet" under it.
      if (ui.packages.length === 0) list.replaceChildren();
    }
    // Tests wait for this after a Refresh: the list has been asked for again and drawn.
    loads += 1;
    list.dataset.loaded = String(loads);
  };
  let loads = 0;

  const stopWatch = () => { if (ui.watch) { clearTimeout(ui.watch.timer); ui.watch = null; } };

  // The detail of one package: visibility (switch, verify, proof) and versions.
  let setVisibility = () => {};
  let redrawVersions = () => {};
  const open = async (name) => {
    stopWatch();
    const pkg = ui.packages.find((p) => p.name === name);
    if (!pkg) return;
    ui.selected = pkg;
    delete detail.dataset.ready;
    const toggle = h('button', { id: 'visibility-toggle', class: 'switch', type: 'button', role: 'switch' });
    const verify = h('button', { id: 'visibility-verify', class: 'ghost small', type: 'button' }, t('packages.visibility.verify'));
    const proof = h('div', { id: 'visibility-proof', class: 'proof', role: 'status' });
    const handoff = h('div', { id: 'visibility-handoff', class: 'note', hidden: true });
    const versions = h('div', { id: 'version-list', class: 'version-list', role: 'list', 'aria-label': t('packages.versions') });
    const heading = h('h2', { id: 'package-title', translate: 'no' }, `${ownerLogin()}/${pkg.name}`);
    const badgeSlot = h('span', { id: 'detail-visibility' });
    setVisibility = (visibility) => {
      pkg.visibility = visibility;
      detail.dataset.visibility = visibility;
      toggle.setAttribute('aria-checked', String(visibility === 'public'));
      toggle.textContent = t(visibility === 'public' ? 'packages.switch.public' : visibility === 'internal' ? 'packages.switch.internal' : 'packages.switch.private');
      badgeSlot.replaceChildren(badge(visibility));
    };
    setVisibility(pkg.visibility);

    const firstTag = () => {
      const tagged = ui.versions && ui.versions.find((v) => v.metadata.container.tags.length);
      return tagged ? tagged.metadata.container.tags[0] : null;
    };
    const prove = async () => {
      const tag = firstTag();
      if (!tag) { proof.textContent = t('packages.proof.no_tag'); return; }
      proof.textContent = t('packages.proof.pulling');
      proof.dataset.result = 'checking';
      try {
        const result = await invoke('package_prove', { owner: ownerLogin(), name: pkg.name, tag });
        const isPublic = pkg.visibility === 'public';
        if (result.anyone_can_pull === isPublic) {
          proof.dataset.result = 'ok';
          proof.replaceChildren(...sentence(isPublic ? 'packages.proof.public_ok' : 'packages.proof.private_ok', { reference: data(result.reference) }));
        } else {
          proof.dataset.result = 'mismatch';
          proof.replaceChildren(...(isPublic
            ? sentence('packages.proof.public_refused', { reference: data(result.reference) })
            : sentence('packages.proof.private_served', { visibility: visibilityWord(pkg.visibility), reference: data(result.reference) })));
        }
        // Said each time, so a Verify that finds the same as before still shows it ran.
        proof.append(h('span', { class: 'muted proof-at' }, t('packages.proof.checked_at', { time: time(new Date()) })));
      } catch (error) {
        proof.dataset.result = 'error';
        proof.replaceChildren(errorView(error));
      }
    };
    verify.addEventListener('click', prove);

    // Watch GitHub until `changed(package)` holds (2 s, then slower, up to 10 minutes), then `then`.
    // Three failed polls in a row end the watch: `failed(error, again)` says what failed, and `again()`
    // (the Refresh it offers) watches anew from an immediate poll.
    const watchUntil = (changed, then, gaveUp, failed, { now: pollNow = false } = {}) => {
      stopWatch();
      const started = Date.now();
      let wait = 2000;
      let failures = 0;
      const tick = async () => {
        if (!ui.watch) return;
        try {
          const now = await invoke('package_get', { org: ui.org || null, name: pkg.name });
          failures = 0;
          if (changed(now)) {
            stopWatch();
            delete detail.dataset.watching;
            await then(now);
            return;
          }
        } catch (error) {
          failures += 1;
          if (failures >= WATCH_FAILURES) {
            stopWatch();
            delete detail.dataset.watching;
            failed(error, () => watchUntil(changed, then, gaveUp, failed, { now: true }));
            return;
          }
        }
        if (Date.now() - started > WATCH_LIMIT_MS) {
          stopWatch();
          delete detail.dataset.watching;
          gaveUp();
          return;
        }
        wait = Math.min(wait * 1.5, 30000);
        ui.watch.timer = setTimeout(tick, wait);
      };
      ui.watch = { timer: setTimeout(tick, pollNow ? 0 : wait) };
      detail.dataset.watching = 'true';
    };
    // What a watch that failed says: the failure, and Refresh to watch again.
    const watchFailed = (where, id) => (error, again) => {
      const refresh = h('button', { class: 'primary small', type: 'button', id: `${id}-refresh` }, t('packages.refresh'));
      refresh.addEventListener('click', () => {
        where.replaceChildren(h('span', { class: 'muted' }, t('packages.watch.again')));
        again();
      });
      where.replaceChildren(
        h('p', {}, ...sentence('packages.watch.failed', { name: data(pkg.name), count: WATCH_FAILURES })),
        errorView(error, { actions: [refresh], id }));
    };
    // The visibility: when it changes, the switch follows and an anonymous pull proves it.
    const watch = (from) => watchUntil((now) => now.visibility !== from, async (now) => {
      handoff.hidden = true;
      setVisibility(now.visibility);
      const row = list.querySelector(`.package-row[data-name="${CSS.escape(pkg.name)}"]`);
      if (row) { row.dataset.visibility = now.visibility; row.querySelector('.visibility-badge').replaceWith(badge(now.visibility)); }
      await prove();
    }, () => handoff.replaceChildren(t('packages.watch.gave_up'), h('span', {}, t('packages.watch.use_verify'))),
    watchFailed(handoff, 'visibility-watch-error'));

    toggle.addEventListener('click', async () => {
      const from = pkg.visibility;
      const to = from === 'public' ? 'private' : 'public';
      const cancel = h('button', { class: 'ghost small', type: 'button', id: 'visibility-watch-cancel' }, t('packages.watch.stop'));
      cancel.addEventListener('click', () => { stopWatch(); handoff.hidden = true; delete detail.dataset.watching; });
      handoff.hidden = false;
      handoff.replaceChildren(
        h('p', {}, ...sentence('packages.visibility.handoff', { visibility: visibilityWord(to), label: data(t('packages.github.change_visibility')) })),
        h('div', { class: 'muted', id: 'visibility-settings-url' }, t('packages.settings.opening')), cancel);
      try {
        const url = await invoke('open_package_settings', { org: ui.org || null, owner: ownerLogin(), name: pkg.name });
        handoff.querySelector('#visibility-settings-url').replaceChildren(...sentence('packages.visibility.opened', { url: data(url) }));
      } catch (error) {
        handoff.querySelector('#visibility-settings-url').replaceChildren(errorView(error));
      }
      watch(from);
    });

    const reference = `${ui.registry}/${ownerLogin().toLowerCase()}/${pkg.name}`;
    const confirmDelete = (version) => confirmDialog(version
      ? {
        title: t('packages.delete.version_title'), button: t('packages.delete.version_button'),
        what: h('code', { class: 'delete-what' }, `${reference}@${version.name}`),
        detail: version.metadata.container.tags.length
          ? sentence('packages.delete.tagged', { tags: data(version.metadata.container.tags.map((tag) => `:${tag}`).join(', ')) })
          : t('packages.delete.untagged'),
      }
      : { title: t('packages.delete.package_title'), button: t('packages.delete.package_button'),
        // Only the reference is code: the words around it are the window's own.
        what: h('div', { class: 'delete-what' }, ...sentence('packages.delete.package_what', { reference: h('code', {}, reference) })) });
    const confirmDialog = ({ title: heading, button, what, detail: said }) => new Promise((resolve) => {
      const yes = h('button', { class: 'primary danger', type: 'button', id: 'delete-confirm' }, button);
      const no = h('button', { class: 'ghost', type: 'button', id: 'delete-cancel' }, t('packages.delete.cancel'));
      const dialog = h('dialog', { id: 'delete-dialog', 'aria-labelledby': 'delete-title' },
        h('h2', { id: 'delete-title' }, heading),
        h('p', {}, t('packages.delete.this_deletes')), what,
        said && h('p', { class: 'muted', id: 'delete-tags' }, said),
        h('p', {}, t('packages.delete.consequence')),
        h('div', { class: 'actions' }, yes, no));
      document.body.append(dialog);
      let answer = false;
      yes.addEventListener('click', () => { answer = true; dialog.close(); });
      no.addEventListener('click', () => dialog.close());
      dialog.addEventListener('close', () => { dialog.remove(); resolve(answer); });
      dialog.showModal();
      no.focus();
      dialog.dataset.ready = '1';
    });

    // Deletes or restores a version, then shows the lists anew; gives the error when it failed.
    const changeVersion = async (command, version) => {
      try {
        await invoke(command, { org: ui.org || null, name: pkg.name, id: version.id });
      } catch (error) {
        return error;
      }
      await drawVersions();
      load();
      return null;
    };

    // Versions deleted in the last 30 days, with Restore.
    const deleted = h('div', { id: 'deleted-versions', class: 'version-list' });
    const drawDeleted = async () => {
      let gone = [];
      try {
        gone = await invoke('package_deleted_versions', { org: ui.org || null, name: pkg.name });
      } catch { gone = []; }
      deleted.dataset.rows = String(gone.length);
      deleted.replaceChildren(...(gone.length ? [h('h3', {}, t('packages.deleted.title'))] : []), ...gone.map((version) => {
        const restore = h('button', { class: 'ghost small version-restore', type: 'button' }, t('packages.deleted.restore'));
        const tags = version.metadata.container.tags;
        restore.addEventListener('click', async () => {
          restore.disabled = true;
          const error = await changeVersion('package_restore_version', version);
          if (error) restore.replaceWith(errorView(error));
          else say(sentence('packages.deleted.restored', { version: data(tags.length ? tags.map((tag) => `:${tag}`).join(' ') : version.name.slice(0, 19)), name: data(pkg.name) }));
        });
        return h('div', { class: 'version-row deleted', dataset: { id: String(version.id), tags: tags.join(',') } },
          h('span', { class: 'mono', translate: 'no' }, version.name.slice(0, 19)),
          h('span', { class: 'version-tags' }, tags.length ? tags.map(tagPill) : h('span', { class: 'muted' }, t('packages.version.untagged'))),
          h('span', { class: 'muted version-deleted-at' }, version.deleted_at ? t('packages.deleted.ago', { ago: relativeTime(seconds(version.deleted_at)) }) : t('packages.deleted.at_unknown')),
          h('span'), restore);
      }));
    };

    const deletePackage = h('button', { class: 'ghost small', type: 'button', id: 'package-delete', disabled: !canDelete() }, t('packages.delete.package_open'));
    const openOnGitHub = h('button', { class: 'ghost small', type: 'button', id: 'package-open' }, t('packages.open_on_github'));
    openOnGitHub.addEventListener('click', () => invoke('open_package', { org: ui.org || null, owner: ownerLogin(), name: pkg.name })
      .then((url) => say(sentence('packages.opened', { url: data(url) }))).catch((error) => say(error)));
    deletePackage.addEventListener('click', async () => {
      if (!(await confirmDelete(null))) return;
      try {
        await invoke('package_delete', { org: ui.org || null, name: pkg.name });
        const restore = h('button', { class: 'ghost small', type: 'button', id: 'package-restore' }, t('packages.restore_it'));
        restore.addEventListener('click', async () => {
          try {
            await invoke('package_restore', { org: ui.org || null, name: pkg.name });
            say(sentence('packages.restored', { name: data(pkg.name) }));
            load();
          } catch (error) { say(error); }
        });
        detail.hidden = true;
        ui.selected = null;
        stopWatch();
        say(sentence('packages.deleted_package', { name: data(pkg.name) }));
        notice.append(restore);
        load();
      } catch (error) {
        say(error);
      }
    });

    const drawVersions = async () => {
      redrawVersions = drawVersions;
      try {
        ui.versions = await invoke('package_versions', { org: ui.org || null, name: pkg.name });
      } catch (error) {
        versions.replaceChildren(errorView(error));
        return;
      }
      const deletedDrawn = drawDeleted();
      versions.dataset.rows = String(ui.versions.length);
      // The list and the detail agree: the detail's fresh count is the row's too.
      const listed = ui.packages.find((p) => p.name === pkg.name);
      if (listed && listed.version_count !== ui.versions.length) {
        listed.version_count = ui.versions.length;
        drawList();
      }
      versions.replaceChildren(...ui.versions.map((version) => {
        const tags = version.metadata.container.tags;
        const pull = `docker pull ${ui.registry}/${ownerLogin().toLowerCase()}/${pkg.name}${tags.length ? `:${tags[0]}` : `@${version.name}`}`;
        const remove = h('button', { class: 'ghost small version-delete', type: 'button', disabled: !canDelete(),
          title: canDelete() ? t('packages.version.delete_title') : t('packages.version.delete_needs_scope', { scope: 'delete:packages' }) }, t('packages.version.delete'));
        const copy = h('button', { class: 'ghost small version-copy', type: 'button', title: t('packages.version.copy_title') }, t('packages.version.copy'));
        copy.addEventListener('click', async () => {
          try { await navigator.clipboard.writeText(pull); copy.textContent = t('packages.version.copied'); } catch { copy.textContent = t('packages.version.select_it'); }
        });
        const result = h('span', { class: 'version-result' });
        remove.addEventListener('click', async () => {
          if (!(await confirmDelete(version))) return;
          const error = await changeVersion('package_delete_version', version);
          if (error) result.replaceChildren(errorView(error));
        });
        return h('div', { class: 'version-row', role: 'listitem', dataset: { id: String(version.id), tags: tags.join(',') } },
          h('span', { class: 'mono', translate: 'no' }, version.name.slice(0, 19)),
          h('span', { class: 'version-tags' }, tags.length ? tags.map(tagPill) : h('span', { class: 'muted' }, t('packages.version.untagged'))),
          h('span', { class: 'muted' }, version.created_at ? relativeTime(seconds(version.created_at)) : ''),
          h('code', { class: 'version-pull', title: pull }, pull), h('span', { class: 'version-actions' }, copy, remove), result);
      }));
      await deletedDrawn;
    };

    // Connect an unlinked package. ghcr.io reads the source label only when a package is created, so
    // an existing package is connected on its settings page; the view watches until GitHub shows it.
    const connectBox = h('div', { id: 'connect-repository', class: 'row connect-row', hidden: Boolean(pkg.repository) });
    const repoText = h('p', { class: 'muted', id: 'package-repository' },
      ...(pkg.repository ? sentence('packages.repository.connected', { repository: data(pkg.repository.full_name) }) : [t('packages.repository.none')]));
    if (!pkg.repository) {
      const connect = h('button', { class: 'primary small', type: 'button', id: 'connect-button' }, t('packages.connect.button'));
      const outcome = h('span', { id: 'connect-outcome', role: 'status' });
      connect.addEventListener('click', async () => {
        const opened = h('span', {}, t('packages.settings.opening'));
        outcome.replaceChildren(h('span', {}, ...sentence('packages.connect.handoff', { label: data(t('packages.github.connect_repository')) })), opened);
        try {
          const url = await invoke('open_package_settings', { org: ui.org || null, owner: ownerLogin(), name: pkg.name });
          opened.replaceChildren(...sentence('packages.connect.opened', { url: data(url) }));
        } catch (error) {
          opened.replaceChildren(errorView(error));
        }
        watchUntil((now) => Boolean(now.repository), (now) => {
          pkg.repository = now.repository;
          repoText.replaceChildren(...sentence('packages.repository.connected', { repository: data(now.repository.full_name) }));
          detail.dataset.repository = now.repository.full_name;
          connectBox.hidden = true;
          load();
        }, () => { outcome.textContent = t('packages.connect.gave_up'); },
        watchFailed(outcome, 'connect-watch-error'));
      });
      connectBox.append(
        h('span', { class: 'muted' }, t('packages.connect.explain')),
        connect, outcome);
    }

    detail.hidden = false;
    detail.dataset.name = pkg.name;
    delete detail.dataset.watching;
    detail.replaceChildren(
      h('div', { class: 'push-head' }, heading, badgeSlot, openOnGitHub),
      repoText, connectBox,
      h('div', { class: 'row visibility-row' }, h('span', {}, t('packages.visibility.label')), toggle, verify),
      proof, handoff,
      h('p', { class: 'muted small-print' }, t('packages.visibility.new_private')),
      h('p', { class: 'muted small-print', id: 'actions-access' }, ...sentence('packages.actions_access.text', {
        label: data(t('packages.github.manage_actions_access')),
        settings: h('button', { class: 'link', type: 'button', id: 'actions-access-settings',
          onclick: (event) => invoke('open_package_settings', { org: ui.org || null, owner: ownerLogin(), name: pkg.name })
            .catch((error) => event.target.closest('p').after(errorView(error))) }, t('packages.actions_access.settings_link')),
      })),
      h('h3', {}, t('packages.versions')), versions, deleted,
      ...(canDelete() ? [] : [needsDeleteScope()]),
      h('div', { class: 'row package-danger' }, deletePackage));
    await drawVersions();
    if (ui.selected === pkg) detail.dataset.ready = '1';
  };

  const start = async () => {
    try {
      ui.owners = await invoke('owners');
    } catch (error) {
      if (['token.missing', 'token.invalid'].includes(error.code)) return notSignedIn();
      const said = errorText(error);
      root.replaceChildren(emptyState({ id: 'packages-error', error: true, glyph: '!', title: t('packages.error.title'), text: said.message, hint: said.hint }));
      return;
    }
    try {
      ui.registry = (await invoke('tag_proposal', { source: 'image', owner: ui.owners.login })).registry;
    } catch { ui.registry = 'ghcr.io'; }
    // An option holds only text: the login and "(you)" share it, marked as data for the login's sake.
    ownerSelect.replaceChildren(h('option', { value: '', translate: 'no' }, t('packages.owner.you', { login: ui.owners.login })),
      ...ui.owners.orgs.map((org) => h('option', { value: org, translate: 'no' }, org)));
    ownerSelect.addEventListener('change', () => {
      // Another owner's list: nothing of the last one stays on screen while it loads (or fails).
      ui.org = ownerSelect.value; ui.selected = null; ui.packages = []; list.replaceChildren();
      detail.hidden = true; stopWatch(); load();
    });
    refresh.addEventListener('click', load);
    root.replaceChildren(
      h('div', { class: 'view-head' }, h('h1', {}, t('packages.title')), count),
      h('p', { class: 'lede' }, ...sentence('packages.lede', { old_host: data('docker.pkg.github.com'), old_path: data('OWNER/REPO/IMAGE') })),
      h('div', { class: 'toolbar' }, ownerSelect, refresh),
      notice, list, detail);
    await load();
  };

  if (account.state === 'none') notSignedIn();
  else ready(start());
  // A push that ends while the view is open may have made or changed a package: list again.
  const stopFollowing = pushes.subscribe((_, job) => {
    if (job && !job.historic && job.state === 'done' && ui.owners) load();
  });
  return () => { stopWatch(); stopFollowing(); };
}
