// Images view: the engine's local images, live (the app's watcher streams the list, then what each burst of
// engine events changed), with filter-as-you-type, sorting, the untagged group, the engine switcher, "Tag for
// GitHub", and drag-to-push: drag a row onto one of the owners above the list — or onto one of your
// packages, to push it as a new tag of that package — (or select a row and press the target) and it is
// tagged and pushed in one go. The drag is built on pointer events, so a real mouse,
// a touch screen and WebDriver's pointer actions all drive it. Rows are virtualised: only the visible ones
// are in the page, so thousands scroll smoothly.
import { h, emptyState, errorView, humanSize, relativeTime, markReady, data, sentence, problemsOf } from '../dom.js';
import { openTagDialog } from './tag-dialog.js';
import { openPushDialog, confirmSkipped } from './push-dialog.js';
import { compressionFor, place, keepPlace } from '../preferences.js';
import { t, errorText } from '../i18n.js';

const ROW_HEIGHT = 48;
const OVERSCAN = 6;
// Plain code-point order for names (localeCompare is ~50× slower and names are ASCII anyway).
const byName = (a, b) => {
  const x = a.reference || '~';
  const y = b.reference || '~';
  return x < y ? -1 : x > y ? 1 : 0;
};
const SORTS = {
  name: (a, b) => byName(a, b) || b.created - a.created,
  size: (a, b) => b.size - a.size || byName(a, b),
  created: (a, b) => b.created - a.created || byName(a, b),
};

const DRAG_THRESHOLD = 6;

export function render(root, { images, refreshEngine, watchImages, pushes, invoke, show, ready }) {
  // The filter, sort, untagged group and selected row are where the person left them (kept across
  // view switches and restarts).
  const kept = place().images || {};
  const ui = {
    filter: typeof kept.filter === 'string' ? kept.filter : '',
    sort: Object.hasOwn(SORTS, kept.sort) ? kept.sort : 'name',
    showUntagged: kept.showUntagged === true,
    selected: typeof kept.selected === 'string' ? kept.selected : null,
    notice: null, login: null,
  };
  const keep = () => keepPlace({ images: { filter: ui.filter, sort: ui.sort, showUntagged: ui.showUntagged, selected: ui.selected } });
  // A change of the filter, sort or untagged group: kept, and the list drawn anew.
  const choose = (part) => { Object.assign(ui, part); keep(); refresh(); };
  let built = null; // the list's page parts, kept while the engine answers so typing never loses focus
  let visible = [];
  let rowCache = new Map();
  // What the list's parts still load (the engine switcher's engines, the owners to push to).
  let loading = [];

  const noEngine = ({ error }) => {
    built = null;
    const retry = h('button', { class: 'primary', type: 'button', id: 'engine-retry' }, t('images.retry'));
    retry.addEventListener('click', async () => {
      retry.disabled = true;
      retry.textContent = t('images.no_engine.looking');
      await refreshEngine();
      retry.disabled = false;
      retry.textContent = t('images.retry');
    });
    const unreachable = error.code === 'engine.unreachable';
    const said = errorText(error);
    root.replaceChildren(emptyState({
      id: 'no-engine', error: true, glyph: '!',
      title: unreachable ? t('images.no_engine.unreachable') : t('images.no_engine.unusable'),
      text: t('images.no_engine.text'),
      detail: said.message, hint: said.hint, actions: [retry],
    }));
  };

  const build = () => {
    loading = [];
    const filter = h('input', {
      type: 'search', id: 'image-filter', placeholder: t('images.filter.placeholder'), 'aria-label': t('images.filter.label'),
      autocomplete: 'off', spellcheck: 'false',
    });
    filter.value = ui.filter;
    filter.addEventListener('input', () => choose({ filter: filter.value }));
    filter.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && filter.value) { filter.value = ''; choose({ filter: '' }); }
      if (event.key === 'ArrowDown') { event.preventDefault(); focusRow(0); }
    });
    const sort = h('select', { id: 'image-sort', 'aria-label': t('images.sort.label') },
      h('option', { value: 'name' }, t('images.sort.name')),
      h('option', { value: 'size' }, t('images.sort.size')),
      h('option', { value: 'created' }, t('images.sort.created')));
    sort.value = ui.sort;
    sort.addEventListener('change', () => choose({ sort: sort.value }));
    const untagged = h('input', { type: 'checkbox', id: 'show-untagged' });
    untagged.checked = ui.showUntagged;
    untagged.addEventListener('change', () => choose({ showUntagged: untagged.checked }));
    const untaggedLabel = h('span', {}, t('images.show_untagged'));
    const count = h('span', { id: 'image-count', class: 'muted', 'aria-live': 'polite' });
    const spacer = h('div', { class: 'spacer' });
    const list = h('div', { id: 'image-list', class: 'image-list', role: 'list', 'aria-label': t('images.list.label'), tabindex: '-1' }, spacer);
    list.addEventListener('scroll', () => schedulePaint());
    list.addEventListener('keydown', onListKey);
    const empty = h('div', { id: 'image-empty' });
    const notice = h('div', { id: 'image-notice', class: 'notice', role: 'status', hidden: true });
    const engineLine = h('div', { class: 'engine-line', id: 'engine-card', 'aria-label': t('images.engine.label') },
      h('span', { id: 'engine-product', translate: 'no' }), h('span', { class: 'muted' }, t('images.engine.api')),
      h('span', { id: 'engine-api', translate: 'no' }), h('span', { class: 'muted' }, '·'),
      h('span', { id: 'engine-endpoint', class: 'mono', translate: 'no' }));
    list.addEventListener('pointerdown', startDrag);
    list.addEventListener('focusin', (event) => {
      const focused = event.target.closest('.image-row');
      if (focused) select(focused.dataset.key);
    });
    root.replaceChildren(
      h('div', { class: 'view-head' }, h('h1', {}, t('images.title')), count),
      engineLine,
      h('div', { class: 'toolbar' }, filter, sort, engineSwitcher(), h('label', { class: 'check' }, untagged, untaggedLabel)),
      pushTargets(),
      notice, empty, list);
    root.classList.add('fill');
    rowCache = new Map();
    built = { filter, list, spacer, count, empty, untaggedLabel, notice, painted: -1 };
  };

  // The engines on this machine, for switching; the automatic choice first.
  const engineSwitcher = () => {
    const select = h('select', { id: 'engine-select', 'aria-label': t('images.engine.choose_label') },
      h('option', { value: '' }, t('images.engine.automatic')));
    const listed = invoke('engines').then((choices) => {
      for (const choice of choices) {
        // An answering engine's option is all data; a silent one's says so in words (an option holds
        // text only, so its endpoint can't be marked apart).
        const label = choice.info
          ? `${choice.info.product} ${choice.info.version} — ${choice.endpoint}`
          : t('images.engine.not_answering', { endpoint: choice.endpoint });
        select.append(h('option', { value: choice.endpoint, disabled: !choice.info, translate: choice.info ? 'no' : null }, label));
      }
      select.value = images.picked || '';
    }).catch(() => {});
    loading.push(markReady(select, listed));
    select.addEventListener('change', async () => {
      const endpoint = select.value || null;
      try {
        await invoke('engine_select', { endpoint });
        images.picked = endpoint || '';
        watchImages();
      } catch (error) {
        showNotice(error);
        select.value = images.picked || '';
      }
    });
    return select;
  };

  // The selected row: click or focus selects it, and it stays marked (the owner buttons push it).
  const ownerZones = [];
  const shortName = (image) => `${image.repository.split('/').pop()}:${image.tag}`;
  const markSelected = () => {
    if (!built) return;
    for (const node of built.spacer.children) {
      const selected = node.dataset.key === ui.selected;
      node.classList.toggle('selected', selected);
      node.setAttribute('aria-selected', String(selected));
    }
    // What the owner buttons push is said once, before them; the buttons keep their owners' names
    // whole. So a selection changes one label, which gives way first, never the row's height: the list
    // below stays where the pointer is (a longer label on every button once wrapped the row, moved the
    // list ~40 px between press and release, and lost the click).
    const image = visible.find((i) => (i.reference || i.id) === ui.selected && i.reference);
    const what = document.getElementById('push-what');
    if (what) {
      what.replaceChildren(...(image ? sentence('images.push.what', { name: data(shortName(image)) }) : [t('images.push.to')]));
      what.title = image ? t('images.push.what_title', { reference: image.reference }) : '';
    }
    for (const { zone, label } of ownerZones) {
      zone.title = image ? t('images.push.zone_title', { reference: image.reference, owner: label }) : t('images.push.zone_hint');
    }
  };
  const select = (key) => {
    if (ui.selected !== key) {
      ui.selected = key;
      keep();
    }
    markSelected();
  };

  // The owners an image can be pushed to: the signed-in login and its orgs, as drop zones.
  const pushTargets = () => {
    ownerZones.length = 0;
    const bar = h('div', { id: 'push-targets', class: 'push-targets', role: 'group', 'aria-label': t('images.push.label') },
      h('span', { class: 'muted', id: 'push-what' }, t('images.push.to')));
    const owners = invoke('owners').then(({ login, orgs }) => {
      ui.login = login;
      for (const [owner, label] of [[login, sentence('images.owner.you', { login: data(login) })], ...orgs.map((org) => [org, [data(org)]])]) {
        const zone = h('button', { class: 'drop-zone', type: 'button', dataset: { owner: owner.toLowerCase() },
          title: t('images.push.zone_hint') }, '↑ ', label);
        ownerZones.push({ zone, label: owner });
        zone.addEventListener('click', () => {
          const image = visible.find((i) => (i.reference || i.id) === ui.selected);
          if (image) pushTo(image, zone.dataset.owner);
          else showNotice(t('images.push.select_first'));
        });
        bar.append(zone);
      }
      markSelected();
      // Your packages too: an image dropped on one is pushed to it as a new tag (the image's own tag).
      return invoke('packages_list', { org: null }).then((packages) => {
        if (packages.length) bar.append(h('span', { class: 'muted' }, t('images.push.or_package')));
        for (const pkg of packages.slice(0, 6)) {
          const zone = h('button', { class: 'drop-zone package-zone', type: 'button',
            dataset: { owner: login.toLowerCase(), package: pkg.name }, title: t('images.push.package_title') }, '▦ ', data(pkg.name));
          zone.addEventListener('click', () => {
            const image = visible.find((i) => (i.reference || i.id) === ui.selected);
            if (image) pushTo(image, zone.dataset.owner, zone.dataset.package);
            else showNotice(t('images.push.select_first_package'));
          });
          bar.append(zone);
        }
      }).catch(() => {});
    }).catch((error) => {
      // Only a missing or refused token is a reason to sign in; GitHub out of reach (the network, a
      // proxy, an outage) is said as that, with the token left alone.
      if (['token.missing', 'token.invalid'].includes(error && error.code)) {
        bar.append(h('span', { class: 'muted', id: 'push-sign-in' }, t('images.push.needs_account')),
          h('button', { class: 'ghost inline', type: 'button', id: 'go-sign-in', onclick: () => show('account', { focus: true }) }, t('images.push.sign_in')));
        return;
      }
      const again = h('button', { class: 'ghost inline', type: 'button', id: 'owners-again' }, t('images.retry'));
      again.addEventListener('click', () => bar.replaceWith(pushTargets()));
      const said = error && error.message ? errorText(error) : { message: t('images.owners.no_answer'), hint: '' };
      bar.append(h('span', { class: 'muted', id: 'push-unreachable', title: said.hint || '' },
        t('images.owners.unreachable', { reason: said.message })), again);
    });
    loading.push(markReady(bar, owners));
    return bar;
  };

  // Drag a row onto an owner: pointer events on the document while the button is held.
  let drag = null;
  function startDrag(event) {
    const node = event.target.closest('.image-row');
    if (!node || event.button !== 0 || event.target.closest('button')) return;
    drag = { key: node.dataset.key, label: node.getAttribute('aria-label'), x: event.clientX, y: event.clientY, ghost: null, zone: null };
    document.addEventListener('pointermove', moveDrag);
    document.addEventListener('pointerup', endDrag);
  }
  function moveDrag(event) {
    if (!drag) return;
    if (!drag.ghost) {
      if (Math.hypot(event.clientX - drag.x, event.clientY - drag.y) < DRAG_THRESHOLD) return;
      drag.ghost = h('div', { class: 'drag-ghost', id: 'drag-ghost', 'aria-hidden': 'true' }, drag.label);
      document.body.append(drag.ghost);
      document.body.classList.add('dragging');
    }
    event.preventDefault();
    drag.ghost.style.transform = `translate(${event.clientX + 12}px, ${event.clientY + 12}px)`;
    const zone = document.elementFromPoint(event.clientX, event.clientY)?.closest('.drop-zone') || null;
    if (zone !== drag.zone) {
      drag.zone?.classList.remove('over');
      zone?.classList.add('over');
      drag.zone = zone;
    }
  }
  function endDrag(event) {
    document.removeEventListener('pointermove', moveDrag);
    document.removeEventListener('pointerup', endDrag);
    if (!drag) return;
    const { ghost, key } = drag;
    const zone = ghost && (document.elementFromPoint(event.clientX, event.clientY)?.closest('.drop-zone') || drag.zone);
    ghost?.remove();
    drag.zone?.classList.remove('over');
    document.body.classList.remove('dragging');
    drag = null;
    const image = zone && images.list.find((i) => (i.reference || i.id) === key);
    if (image) pushTo(image, zone.dataset.owner, zone.dataset.package);
  }

  // Tags (the core does, as part of the push) and pushes `image` to `owner`, named as the tag dialog
  // would propose — after the push dialog's confirmation (name, tag, repository for a new package),
  // unless the person asked not to be asked for this owner.
  const pushTo = async (image, owner, packageName = null) => {
    const source = image.reference || image.id;
    try {
      const proposal = await invoke('tag_proposal', { source, owner });
      const nameAndTag = packageName ? `${packageName}:${image.tag && image.tag !== '<none>' ? image.tag : 'latest'}` : proposal.name_and_tag;
      const org = ui.login && owner !== ui.login.toLowerCase() ? owner : null;
      let chosen = null;
      if (confirmSkipped(owner)) {
        const checked = await invoke('tag_check', { target: `${proposal.registry}/${proposal.owner}/${nameAndTag}` });
        if (!checked.reference) {
          const problems = h('span', {}, problemsOf(checked).flatMap((problem, i) => [...(i ? [t('images.push.problem_join')] : []), ...problem]));
          showNotice(sentence('images.push.invalid_name', { problems }), true);
          return;
        }
        // "Don't ask again" is for new tags: replacing one is still asked.
        const existing = await invoke('registry_tag_existing', { target: checked.reference }).catch(() => null);
        if (!existing) chosen = { reference: checked.reference, sourceRepository: null, compression: compressionFor(owner) };
      }
      if (!chosen) {
        chosen = await openPushDialog({ source, registry: proposal.registry, owner: proposal.owner, org, nameAndTag, invoke });
        if (!chosen) return;
      }
      const id = await invoke('push_start', {
        request: {
          source: { kind: 'image', value: source }, target: chosen.reference, via: 'auto',
          source_repository: chosen.sourceRepository, compression: chosen.compression,
        },
      });
      follow(id, { source, target: chosen.reference });
    } catch (error) {
      showNotice(error);
    }
  };

  // The notice under the owners follows the push it announced until it ends.
  const following = new Set();
  // What the notice says in each state of the push of `what` ({source, target}).
  const SAID = ['queued', 'running', 'retrying', 'cancelling', 'done', 'failed', 'cancelled'];
  const follow = (id, what) => {
    // Redrawn only when the state changes: a running push sends ~10 updates a second, and a notice
    // redrawn with each took the focus off its button (and WebDriver's element with it).
    let said = null;
    const say = (state) => {
      if (state === said) return;
      said = state;
      const button = h('button', { class: 'ghost small', type: 'button', id: 'show-pushes', onclick: () => show('pushes') }, t('images.push.show_pushes'));
      const key = `images.push.state.${SAID.includes(state) ? state : 'queued'}`;
      showNotice(sentence(key, { source: data(what.source), target: data(what.target) }), state === 'failed', button);
      if (built) built.notice.dataset.state = state;
    };
    say('queued');
    const stop = pushes.subscribe((_, job) => {
      if (!job || job.id !== id) return;
      say(job.state);
      if (['done', 'failed', 'cancelled'].includes(job.state)) { stop(); following.delete(stop); }
    });
    following.add(stop);
    const known = pushes.jobs.get(id);
    if (known) say(known.state);
  };

  const matches = (image, words) => {
    const text = `${image.reference || ''} ${image.repository} ${image.short_id} ${image.id}`.toLowerCase();
    return words.every((word) => text.includes(word));
  };

  const refresh = () => {
    if (!built) return;
    const all = images.list;
    const words = ui.filter.toLowerCase().split(/\s+/).filter(Boolean);
    const untaggedCount = all.filter((image) => !image.reference).length;
    visible = all.filter((image) => (ui.showUntagged || image.reference) && matches(image, words));
    visible.sort((a, b) => (!a.reference - !b.reference) || SORTS[ui.sort](a, b));
    const tagged = all.length - untaggedCount;
    built.count.textContent = words.length
      ? t('images.count.filtered', { shown: visible.length, count: all.length })
      : t('images.count.all', { tagged, untagged: untaggedCount });
    built.untaggedLabel.textContent = t('images.show_untagged_count', { count: untaggedCount });
    built.list.dataset.rows = String(visible.length);
    built.spacer.style.height = `${visible.length * ROW_HEIGHT}px`;
    if (all.length === 0) {
      built.empty.replaceChildren(emptyState({
        id: 'no-images', glyph: '□', title: t('images.empty.title'),
        text: t('images.empty.text'),
        hint: sentence('images.empty.hint', { pull: data('`docker pull alpine`'), build: data('`docker build -t my-app .`') }),
      }));
    } else if (visible.length === 0) {
      const clear = h('button', { class: 'ghost', type: 'button', id: 'clear-filter' }, t('images.clear_filter'));
      clear.addEventListener('click', () => { built.filter.value = ''; choose({ filter: '' }); built.filter.focus(); });
      built.empty.replaceChildren(emptyState({
        id: 'no-match', glyph: '⌕', title: ui.filter ? sentence('images.no_match.title', { filter: data(ui.filter) }) : t('images.only_untagged.title'),
        text: ui.filter ? t('images.no_match.text') : t('images.only_untagged.text'),
        actions: ui.filter ? [clear] : [],
      }));
    } else {
      built.empty.replaceChildren();
    }
    built.painted = -1;
    paint();
    askRegistry();
  };

  let paintQueued = false;
  const schedulePaint = () => {
    if (paintQueued) return;
    paintQueued = true;
    requestAnimationFrame(() => { paintQueued = false; paint(); });
  };

  // Puts the rows in view (and a few around them) into the page.
  const paint = () => {
    if (!built) return;
    const { list, spacer } = built;
    const first = Math.max(0, Math.floor(list.scrollTop / ROW_HEIGHT) - OVERSCAN);
    if (first === built.painted && spacer.childElementCount > 0) return;
    const count = Math.ceil((list.clientHeight || 600) / ROW_HEIGHT) + 2 * OVERSCAN;
    const focusedId = document.activeElement && document.activeElement.closest('.image-row')?.dataset.key;
    // Rows whose image did not change are kept (same nodes): focus, hover and clicks in flight survive
    // a new snapshot, and little is rebuilt.
    const kept = new Map();
    const rows = visible.slice(first, first + count).map((image, i) => {
      const key = image.reference || image.id;
      const signature = `${image.id}|${image.size}|${image.created}|${image.for_registry}|${Boolean(image.translation)}|${image.repository}`;
      const cached = rowCache.get(key);
      const node = cached && cached.signature === signature ? cached.node : row(image);
      node.style.transform = `translateY(${(first + i) * ROW_HEIGHT}px)`;
      kept.set(key, { node, signature });
      return node;
    });
    rowCache = kept;
    const same = rows.length === spacer.childElementCount && rows.every((node, i) => spacer.children[i] === node);
    if (!same) spacer.replaceChildren(...rows);
    built.painted = first;
    markSelected();
    if (!same) askRegistry();
    if (focusedId && document.activeElement === document.body) {
      spacer.querySelector(`.image-row[data-key="${CSS.escape(focusedId)}"]`)?.focus();
    }
  };

  // "on registry" means the registry has that tag — asked with a HEAD of its manifest, cached for a
  // minute and asked again after a push; a name for the registry that isn't there yet says so.
  const presence = new Map(); // reference → true | false | null (couldn't ask)
  const askedAt = new Map();
  let asking = false;
  const askRegistry = async () => {
    if (asking || !built) return;
    const now = Date.now();
    // The rows in the page only (a few dozen at most), so a long list costs no more than a screenful.
    const painted = new Set([...built.spacer.children].map((node) => node.dataset.key));
    const wanted = visible.filter((i) => i.for_registry && painted.has(i.reference) && !(now - (askedAt.get(i.reference) || 0) < 60000))
      .map((i) => i.reference).slice(0, 40);
    if (wanted.length === 0) return;
    asking = true;
    try {
      const answers = await invoke('registry_tags_present', { references: wanted });
      wanted.forEach((reference, i) => { presence.set(reference, answers[i]); askedAt.set(reference, now); });
      // The badges change in place: the rows stay the same nodes (focus, a drag in progress).
      if (built) {
        for (const node of built.spacer.children) {
          if (!wanted.includes(node.dataset.key)) continue;
          const image = visible.find((i) => i.reference === node.dataset.key);
          const badge = image && registryBadge(image);
          const old = node.querySelector('.registry-badge');
          if (old && badge) old.replaceWith(badge);
          else if (old) old.remove();
          else if (badge) node.querySelector('.image-name .ref').after(badge);
        }
      }
    } catch { /* asked again later */ } finally {
      asking = false;
    }
  };
  const registryBadge = (image) => {
    const there = presence.get(image.reference);
    const host = image.repository.split('/')[0];
    if (there === true) {
      return h('span', { class: 'badge ok registry-badge', dataset: { present: 'true' }, title: t('images.badge.on_registry_title', { host }) }, t('images.badge.on_registry'));
    }
    // Not asked yet, or the registry wouldn't say (another namespace): no claim either way.
    if (there !== false) return null;
    return h('span', { class: 'badge registry-badge', dataset: { present: 'false' },
      title: t('images.badge.not_pushed_title', { host }) }, t('images.badge.not_pushed'));
  };

  // A name as the row shows it: the registry and owner (dimmed, cut first), then the last path part
  // and the tag together (kept whole while they fit the row), so rows that share a long prefix can still
  // be told apart.
  const nameParts = (image) => {
    const slash = image.repository.lastIndexOf('/');
    const prefix = slash >= 0 ? h('span', { class: 'prefix', translate: 'no' }, image.repository.slice(0, slash + 1)) : null;
    return [prefix, h('span', { class: 'name', translate: 'no' },
      h('span', { class: 'repo' }, image.repository.slice(slash + 1)), h('span', { class: 'tag' }, `:${image.tag}`))];
  };

  const row = (image) => {
    const key = image.reference || image.id;
    const tagButton = h('button', { class: 'ghost small tag-for-github', type: 'button', tabindex: '-1' },
      image.translation ? t('images.row.move') : t('images.row.tag'));
    tagButton.addEventListener('click', () => tagFor(image));
    const node = h('div', {
      class: 'image-row', role: 'listitem', tabindex: '0', dataset: { key, reference: image.reference || '', id: image.id },
      'aria-label': image.reference
        ? t('images.row.label', { name: image.reference, size: humanSize(image.size) })
        : t('images.row.label_untagged', { id: image.short_id, size: humanSize(image.size) }),
    },
    h('div', { class: 'image-name', title: image.reference || image.id },
      h('span', { class: 'ref' }, image.reference
        ? nameParts(image)
        : h('span', { class: 'repo muted' }, image.repository === '<none>'
          ? t('images.row.untagged') : sentence('images.row.repository_untagged', { repository: data(image.repository) }))),
      image.for_registry && registryBadge(image),
      // The core's explanation is one fixed text (reference::docker_pkg): the catalog says it.
      image.translation && h('span', { class: 'badge warn', title: t('images.translation.explanation') }, t('images.badge.old_name'))),
    h('span', { class: 'image-id mono', translate: 'no' }, image.short_id),
    h('span', { class: 'image-size' }, humanSize(image.size)),
    h('span', { class: 'image-created muted' }, relativeTime(image.created)),
    tagButton);
    node.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === 't') { event.preventDefault(); tagFor(image); }
    });
    return node;
  };

  const focusRow = (index) => {
    if (!built || visible.length === 0) return;
    const target = Math.max(0, Math.min(visible.length - 1, index));
    const { list } = built;
    const top = target * ROW_HEIGHT;
    if (top < list.scrollTop) list.scrollTop = top;
    else if (top + ROW_HEIGHT > list.scrollTop + list.clientHeight) list.scrollTop = top + ROW_HEIGHT - list.clientHeight;
    paint();
    const key = visible[target].reference || visible[target].id;
    built.spacer.querySelector(`.image-row[data-key="${CSS.escape(key)}"]`)?.focus();
  };

  function onListKey(event) {
    const current = document.activeElement.closest('.image-row');
    if (!current) return;
    const index = visible.findIndex((image) => (image.reference || image.id) === current.dataset.key);
    const page = Math.floor(built.list.clientHeight / ROW_HEIGHT);
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    if (event.key in moves) { event.preventDefault(); focusRow(index + moves[event.key]); }
    if (event.key === 'Home') { event.preventDefault(); focusRow(0); }
    if (event.key === 'End') { event.preventDefault(); focusRow(visible.length - 1); }
    if (event.key === 'ArrowUp' && index === 0) built.filter.focus();
  }

  // A line of text (an error when `error`), or an error object from the core shown as errorView.
  const showNotice = (text, error = false, action = null) => {
    if (!built) return;
    const failure = typeof text === 'object' && !(text instanceof Node) && !Array.isArray(text);
    built.notice.replaceChildren(...(failure ? [errorView(text)] : [text].flat()), ...(action ? [' ', action] : []));
    built.notice.classList.toggle('error', error || failure);
    built.notice.hidden = false;
  };

  const tagFor = async (image) => {
    const tagged = await openTagDialog({ image, invoke });
    if (tagged) showNotice(sentence('images.tagged', { source: data(image.reference || image.short_id), target: data(tagged) }));
  };

  // Measures, for the benchmark, from the start of the watch (the command) to the rows in the page and
  // laid out (`data-load-ms`), and to the next frame (`data-frame-ms`): under Xvfb's software rendering
  // WebKitGTK schedules that frame anywhere from 15 ms to over a second later, whatever the page does.
  // `data-frame-at` is that frame's wall-clock time (ms since 1970), for the start-up measurement.
  const measure = () => {
    if (!built || images.measured || !images.receivedAt || images.state !== 'ok') return;
    images.measured = true;
    const list = built.list;
    list.getBoundingClientRect(); // forces style and layout of the new rows now
    list.dataset.loadMs = String(Math.round(performance.now() - images.startedAt));
    requestAnimationFrame(() => {
      const now = performance.now();
      list.dataset.frameMs = String(Math.round(now - images.startedAt));
      list.dataset.frameAt = String(Math.round(performance.timeOrigin + now));
    });
  };

  let shownError = null;
  const draw = () => {
    if (images.state === 'gone') {
      // The watcher retries every few seconds: redraw only when what there is to say changes.
      const said = `${images.error.code}|${images.error.message}`;
      if (said === shownError && root.querySelector('#no-engine')) return;
      shownError = said;
      noEngine(images);
      drawn();
      return;
    }
    shownError = null;
    if (images.state !== 'ok') {
      built = null;
      root.replaceChildren(h('div', { class: 'spinner', role: 'progressbar', 'aria-label': t('images.engine.looking') }));
      return;
    }
    const fresh = !built;
    if (fresh) build();
    const info = images.engine;
    document.getElementById('engine-product').textContent = `${info.product} ${info.version}`;
    const api = document.getElementById('engine-api');
    api.textContent = info.api_version;
    api.title = t('images.engine.api_title', { server: info.server_api_version, api: info.api_version });
    document.getElementById('engine-endpoint').textContent = info.endpoint;
    refresh();
    measure();
    if (fresh) drawn(Promise.allSettled(loading));
  };

  // The view is ready once the engine has answered (the list, or why there is none) and what the
  // list's parts load has come.
  let drawn;
  ready(new Promise((resolve) => { drawn = resolve; }));
  draw();
  const unsubscribe = images.subscribe(draw);
  // A push that ends changes what the registry has: its target is asked again.
  const stopRegistry = pushes.subscribe((_, job) => {
    if (!job || job.historic || job.state !== 'done') return;
    askedAt.delete(job.request.target);
    if (built && [...built.spacer.children].some((node) => node.dataset.key === job.request.target)) askRegistry();
  });
  return () => {
    unsubscribe();
    stopRegistry();
    for (const stop of following) stop();
    document.removeEventListener('pointermove', moveDrag);
    document.removeEventListener('pointerup', endDrag);
    document.getElementById('drag-ghost')?.remove();
    root.classList.remove('fill');
  };
}
