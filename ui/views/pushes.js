// Pushes view: every push job with a total bar and a bar per layer, speed and time left, Cancel and
// Retry, and when done the pull command (copyable) and the package page. Cards are updated in place as
// the core reports (≤ 10 times a second per job), so bars move smoothly and focus stays put.
// "Push an archive…" picks a docker save file or OCI layout tar and asks where to push it.
import { h, emptyState, errorView, humanSize, fill, data } from '../dom.js';
import { t, has, errorText, language } from '../i18n.js';
import { openArchiveDialog } from './archive-dialog.js';

// A job's state (`pushes.state.<state>`) and a layer's (`pushes.layer.<state>`) in words; a state
// without words shows as the core names it.
const stateText = (state) => (has(`pushes.state.${state}`) ? t(`pushes.state.${state}`) : state);
const layerText = (state) => (has(`pushes.layer.${state}`) ? t(`pushes.layer.${state}`) : state);

// The core tells what a direct push is doing before its first byte (`progress.phase`) in English
// only: its words, by those words; any other shows as it came.
const PHASES = {
  'Checking what the registry has…': 'pushes.phase.checking_registry',
  'Reading the archive…': 'pushes.phase.reading_archive',
  'Reading the image from the engine…': 'pushes.phase.reading_engine',
};
const phaseText = (phase) => (PHASES[phase] ? t(PHASES[phase]) : phase);

function duration(seconds) {
  if (seconds < 60) return t('pushes.duration.seconds', { s: seconds });
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? t('pushes.duration.minutes', { m: minutes, s: seconds % 60 })
    : t('pushes.duration.hours', { h: Math.floor(minutes / 60), m: minutes % 60 });
}

// Where the push came from and the way it went: as chosen once the push knows (`progress.way`), as
// asked before that; a push that ended before choosing says no way.
function sourceText({ source, via, compression }, way, finished = false) {
  const what = fill(t(source.kind === 'archive' ? 'pushes.source.archive' : 'pushes.source.image'),
    { value: data(source.value) });
  const chosen = way || (via === 'auto' ? null : via);
  const how = chosen === 'engine' ? t('pushes.way.engine')
    : chosen === 'direct' ? t('pushes.way.direct')
      : finished ? null : t('pushes.way.choosing');
  return [...what, how ? ` · ${how}` : '', compression === 'zstd' ? ` · ${t('pushes.source.zstd')}` : ''];
}

export function render(root, { pushes, invoke, show }) {
  const cards = new Map();
  const list = h('div', { id: 'push-list', class: 'push-list', role: 'list', 'aria-label': t('pushes.title') });
  const empty = h('div', { id: 'push-empty' });
  const archiveButton = h('button', { id: 'push-archive', class: 'primary', type: 'button' }, t('pushes.push_archive'));
  const clearButton = h('button', { id: 'push-clear', class: 'ghost', type: 'button' }, t('pushes.clear_finished'));
  const notice = h('p', { id: 'push-notice', class: 'notice', role: 'status', hidden: true });
  archiveButton.addEventListener('click', async () => {
    try {
      const path = await invoke('plugin:dialog|open', {
        options: { multiple: false, directory: false, title: t('pushes.pick.title'),
          filters: [{ name: t('pushes.pick.filter'), extensions: ['tar', 'gz', 'tgz'] }] },
      });
      if (path) await openArchiveDialog({ path, invoke });
    } catch (error) {
      notice.replaceChildren(errorView(error));
      notice.className = 'notice error';
      notice.hidden = false;
    }
  });
  clearButton.addEventListener('click', () => invoke('pushes_clear').then(() => pushes.clearFinished()));
  root.replaceChildren(
    h('div', { class: 'view-head' }, h('h1', {}, t('pushes.title')),
      h('div', { class: 'head-actions' }, archiveButton, clearButton)),
    h('p', { class: 'lede' }, t('pushes.lede')),
    notice, empty, list);

  const card = (job) => {
    const bar = h('progress', { class: 'total-bar', max: '1', value: '0', 'aria-label': t('pushes.total_for', { target: job.request.target }) });
    const numbers = h('span', { class: 'push-numbers muted' });
    const badge = h('span', { class: 'badge push-state' });
    const layers = h('ul', { class: 'push-layers', 'aria-label': t('pushes.layers') });
    const outcome = h('div', { class: 'push-outcome' });
    const cancel = h('button', { class: 'ghost small push-cancel', type: 'button' }, t('pushes.cancel'));
    const retry = h('button', { class: 'ghost small push-retry', type: 'button' }, t('pushes.retry'));
    cancel.addEventListener('click', () => invoke('push_cancel', { id: job.id }).catch(() => {}));
    retry.addEventListener('click', () => invoke('push_retry', { id: job.id }).catch((error) => {
      outcome.replaceChildren(errorView(error));
    }));
    // English keeps the system's way of writing a date (as before); another language writes its own.
    const when = job.historic
      ? ` · ${new Date(job.finished_at).toLocaleString(language() === 'en' ? undefined : language())}` : '';
    const source = h('p', { class: 'push-source muted' }, sourceText(job.request, job.progress && job.progress.way), when);
    const node = h('article', { class: 'card push-card', role: 'listitem', dataset: { id: String(job.id), target: job.request.target } },
      // Cancel and Retry sit in the head, where they stay put: below the layers, a layer row the
      // engine reported between aiming and clicking moved Cancel down and the click missed it.
      h('header', { class: 'push-head' },
        h('strong', { class: 'push-target mono', translate: 'no' }, job.request.target), badge,
        h('div', { class: 'push-actions' }, cancel, retry)),
      source,
      h('div', { class: 'push-total' }, bar, numbers),
      layers, outcome);
    const sayWay = (way, finished) => { source.replaceChildren(...sourceText(job.request, way, finished), when); };
    return { node, bar, numbers, badge, layers, outcome, cancel, retry, layerRows: new Map(), finished: null, sayWay, way: null };
  };

  const layerRow = (parts, layer) => {
    let row = parts.layerRows.get(layer.id);
    if (!row) {
      const bar = h('progress', { class: 'layer-bar', max: '1', value: '0', 'aria-label': t('pushes.layer_label', { id: layer.id }) });
      const state = h('span', { class: 'layer-state muted' });
      const size = h('span', { class: 'layer-size muted' });
      const node = h('li', { class: 'layer', dataset: { layer: layer.id } }, h('span', { class: 'mono layer-id', translate: 'no' }, layer.id), bar, size, state);
      row = { node, bar, state, size };
      parts.layerRows.set(layer.id, row);
      parts.layers.append(node);
    }
    const total = layer.total || Math.max(layer.bytes, 1);
    // An engine says "already exists" or "mounted" without a size, and Docker's containerd store only
    // "Pushed" of a quick layer: done, with no numbers made up.
    const sizeless = !layer.total && ['existed', 'mounted', 'pushed'].includes(layer.state);
    row.bar.max = total;
    row.bar.value = sizeless ? total : layer.bytes;
    row.bar.dataset.bytes = String(layer.bytes);
    row.node.dataset.state = layer.state;
    row.state.textContent = layerText(layer.state);
    // A size only where the engine said one: a layer still waiting for it shows none ("0 B / 1 B" was
    // made up).
    row.size.textContent = layer.total ? `${humanSize(layer.bytes)} / ${humanSize(layer.total)}`
      : layer.bytes ? humanSize(layer.bytes) : '';
  };

  const update = (job) => {
    let parts = cards.get(job.id);
    if (!parts) {
      parts = card(job);
      cards.set(job.id, parts);
      list.prepend(parts.node);
    }
    const { state, progress } = job;
    const running = ['queued', 'running', 'retrying', 'cancelling'].includes(state);
    parts.node.dataset.state = state;
    if (progress && progress.way && progress.way !== parts.way) {
      parts.way = progress.way;
      parts.node.dataset.way = progress.way;
      parts.sayWay(progress.way);
    } else if (!running && !parts.way && !parts.wayless) {
      parts.wayless = true;
      parts.sayWay(null, true);
    }
    const rateLimited = state === 'retrying' && job.error && /rate_limited$/.test(job.error.code);
    parts.node.dataset.rateLimited = String(Boolean(rateLimited));
    parts.badge.textContent = rateLimited ? t('pushes.state.rate_limited') : stateText(state);
    parts.badge.className = `badge push-state ${state === 'done' ? 'ok' : state === 'failed' ? 'bad' : ''}`;
    if (progress && progress.unreported) {
      // The engine (Podman) says nothing until the end: an indeterminate bar, no invented numbers.
      if (state === 'done') {
        parts.bar.value = parts.bar.max;
      } else {
        parts.bar.removeAttribute('value');
      }
      parts.bar.dataset.unreported = 'true';
      parts.numbers.textContent = state === 'done' ? t('pushes.numbers.engine_pushed') : t('pushes.numbers.engine_pushing');
    } else if (progress) {
      // The total bar never moves back (a source that finds layers as it goes grows its total).
      parts.fraction = Math.max(parts.fraction || 0, progress.total ? progress.bytes / progress.total : 0);
      parts.bar.max = 1000;
      parts.bar.value = Math.round(parts.fraction * 1000);
      parts.bar.dataset.bytes = String(progress.bytes);
      parts.bar.dataset.total = String(progress.total);
      delete parts.bar.dataset.unreported;
      const speed = progress.bytes_per_second ? ` · ${humanSize(progress.bytes_per_second)}/s` : '';
      const eta = progress.eta_seconds != null && state === 'running'
        ? ` · ${t('pushes.numbers.time_left', { duration: duration(progress.eta_seconds) })}` : '';
      const nothingToSend = state === 'done' && progress.total === 0 && progress.layers.length > 0
        && progress.layers.every((layer) => ['existed', 'mounted'].includes(layer.state));
      // The engine pushed layers but said no sizes (Docker's containerd store, quick layers).
      const noSizes = state === 'done' && progress.total === 0 && !nothingToSend;
      if (state === 'done') parts.bar.value = parts.bar.max;
      // No size known yet (or ever, for a push that failed first): no "0 B of 0 B".
      const noneKnown = progress.total === 0 && progress.bytes === 0;
      parts.numbers.textContent = nothingToSend ? t('pushes.numbers.all_there')
        : noSizes ? t('pushes.numbers.no_sizes')
        : progress.phase && progress.bytes === 0 ? phaseText(progress.phase)
          : noneKnown ? (running ? t('pushes.numbers.starting') : '')
            : `${t('pushes.numbers.of', { bytes: humanSize(progress.bytes), total: humanSize(progress.total) })}${speed}${eta}`;
      for (const layer of progress.layers) layerRow(parts, layer);
    } else {
      // Waiting for a slot, or ended before anything was sent (refused at the start): no numbers.
      parts.numbers.textContent = state === 'queued' ? t('pushes.numbers.waiting_slot') : '';
    }
    parts.cancel.hidden = !running;
    parts.cancel.disabled = state === 'cancelling';
    parts.retry.hidden = job.historic || !['failed', 'cancelled'].includes(state);
    parts.node.dataset.historic = String(Boolean(job.historic));
    if (parts.finished === state && !running) return;
    parts.finished = running ? null : state;
    if (state === 'done') {
      const command = h('code', { class: 'pull-command' }, job.pull);
      const copy = h('button', { class: 'ghost small copy-pull', type: 'button' }, t('pushes.copy'));
      copy.addEventListener('click', async () => {
        try {
          await navigator.clipboard.writeText(job.pull);
          copy.textContent = t('pushes.copied');
        } catch {
          window.getSelection().selectAllChildren(command);
          copy.textContent = t('pushes.selected_press_ctrl_c');
        }
      });
      const open = h('button', { class: 'ghost small open-package', type: 'button' }, t('pushes.open_on_github'));
      const opened = h('div', { class: 'open-outcome', role: 'status' });
      // A push of an earlier session is no longer known to the core: its package is opened by name.
      const openPage = job.historic ? () => invoke('open_package', job.package)
        : () => invoke('open_package_page', { id: job.id });
      open.addEventListener('click', () => openPage()
        .then((url) => opened.replaceChildren(h('p', { class: 'muted' }, fill(t('pushes.opened'), { url: data(url) }))))
        .catch((error) => opened.replaceChildren(errorView(error))));
      parts.outcome.className = 'push-outcome result ok';
      parts.outcome.replaceChildren(
        h('p', { class: 'push-digest mono' },
          fill(t('pushes.digest_manifest', { size: humanSize(job.pushed.size) }), { digest: data(job.pushed.digest) })),
        h('div', { class: 'pull' }, command, copy, job.historic && !job.package ? null : open), opened);
    } else if (state === 'failed') {
      parts.outcome.className = 'push-outcome';
      parts.outcome.replaceChildren(errorView(job.error));
    } else if (state === 'retrying') {
      // A wait the registry asked for (or a dropped connection): it says why, and counts down to the
      // automatic retry.
      parts.outcome.className = 'push-outcome result';
      const until = Date.now() + job.in_ms;
      const countdown = h('span', { class: 'retry-countdown' });
      const tick = () => {
        const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
        countdown.textContent = left > 0 ? t('pushes.retry_in', { duration: duration(left) }) : t('pushes.retry_now');
        if (left > 0 && countdown.isConnected) setTimeout(tick, 1000);
      };
      const { message } = errorText(job.error);
      const why = rateLimited ? t('pushes.rate_limited_why', { message }) : message;
      parts.outcome.replaceChildren(h('p', { class: 'push-retrying' }, why),
        h('p', { class: 'muted' }, countdown, ` · ${t('pushes.attempt', { n: job.attempt + 1 })}`));
      tick();
    } else if (state === 'cancelled') {
      parts.outcome.className = 'push-outcome result';
      parts.outcome.replaceChildren(h('p', { class: 'muted' }, t('pushes.cancelled_note')));
    } else {
      parts.outcome.replaceChildren();
    }
  };

  const draw = (changed) => {
    for (const [id, parts] of cards) {
      if (!pushes.jobs.has(id)) { parts.node.remove(); cards.delete(id); }
    }
    const jobs = changed ? [changed] : [...pushes.jobs.values()];
    for (const job of jobs) update(job);
    list.dataset.jobs = String(pushes.jobs.size);
    if (pushes.jobs.size === 0) {
      const go = h('button', { class: 'ghost', type: 'button', id: 'go-images' }, t('pushes.go_to_images'));
      go.addEventListener('click', () => show('images', { focus: true }));
      empty.replaceChildren(emptyState({
        id: 'no-pushes', glyph: '↑', title: t('pushes.empty.title'),
        text: t('pushes.empty.text'),
        actions: [go],
      }));
    } else {
      empty.replaceChildren();
    }
  };

  draw();
  return pushes.subscribe((_, changed) => draw(changed));
}
