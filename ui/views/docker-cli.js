// The "Docker CLI" card of the Account view: whether the docker CLI gets the registry's token from the
// keyring (through docker-credential-ghcr-desktop) or from a plaintext entry in config.json, what a
// setup changes, and Set up / Undo. A plaintext token found there is pointed out with its user name
// (never the token) and moved into the keyring by the setup, after the same check as a pasted one.
import { h, errorView, data, sentence } from '../dom.js';
import { t } from '../i18n.js';

const FILE = () => data('config.json');
const PATH = () => data('PATH');
const HELPER = 'docker-credential-ghcr-desktop';

// One change a setup made. The core says it in English only (no code), in one of three forms (see
// src/docker_config/mod.rs `plan_setup`): its JSON entries stay as they are, its words are translated.
function changeText(change) {
  const added = /^add (.+)$/.exec(change);
  if (added) return sentence('docker.change.add', { entry: h('code', {}, added[1]) });
  const moved = /^remove the plaintext token of (.+) \(moved to the system keyring\)$/.exec(change);
  if (moved) return sentence('docker.change.remove_plaintext', { entry: h('code', {}, moved[1]) });
  return [h('code', {}, change)];
}

// Returns the card and the promise of its first drawing.
export function dockerCliCard({ invoke, refreshAccount }) {
  const body = h('div', { id: 'docker-cli-body' });
  const card = h('section', { class: 'card', id: 'docker-cli', 'aria-labelledby': 'docker-cli-title' },
    h('h2', { id: 'docker-cli-title' }, t('docker.title')),
    h('p', { class: 'muted' }, sentence('docker.intro', { command: h('code', {}, 'docker login'), file: FILE() })),
    body);

  const draw = async (message = null) => {
    let status;
    try {
      status = await invoke('docker_cli_status');
    } catch (error) {
      body.replaceChildren(errorView(error));
      return;
    }
    card.dataset.configured = String(status.helper_configured);
    card.dataset.plaintext = String(Boolean(status.plaintext_user));
    // Docker can't run a helper that isn't on PATH: setting up then would only fail (and say so again).
    const setup = h('button', { class: 'primary', type: 'button', id: 'docker-cli-setup', disabled: !status.helper_on_path,
      title: status.helper_on_path ? '' : t('docker.setup.needs_path', { helper: HELPER }) },
    status.plaintext_user ? t('docker.setup.move') : t('docker.setup.button'));
    const undo = h('button', { class: 'ghost', type: 'button', id: 'docker-cli-undo', hidden: !status.can_undo }, t('docker.undo.button'));
    setup.addEventListener('click', async () => {
      setup.disabled = true;
      try {
        const done = await invoke('docker_cli_setup');
        const changes = done.changes.flatMap((change, i) => [i > 0 && t('docker.setup.change_separator'), ...changeText(change)]);
        await draw({ done: done.changes.length
          ? sentence('docker.setup.changed', { file: data(done.config), changes: changes.filter(Boolean) })
          : [t('docker.setup.already')] });
        refreshAccount();
      } catch (error) {
        await draw({ error });
      }
    });
    undo.addEventListener('click', async () => {
      try {
        const path = await invoke('docker_cli_undo');
        await draw({ done: sentence('docker.undo.restored', { file: data(path) }) });
      } catch (error) {
        await draw({ error });
      }
    });
    const lines = [
      h('p', {}, sentence('docker.config', { file: h('code', {}, status.config) })),
      status.helper_configured
        ? [h('p', { class: 'result ok' }, t('docker.configured')),
          h('p', { class: 'muted small-print', id: 'docker-cli-before-uninstall' },
            sentence('docker.before_uninstall', { file: FILE() }))]
        : h('p', {}, sentence('docker.setup.explain', { key: h('code', {}, 'credHelpers'), file: FILE() })),
      status.plaintext_user && h('p', { class: 'result error', id: 'docker-cli-plaintext' },
        sentence('docker.plaintext', { file: FILE(), user: data(status.plaintext_user) })),
      !status.helper_on_path && h('p', { class: 'note', id: 'docker-cli-path' },
        sentence('docker.path.missing', { helper: data(HELPER), path: PATH() }),
        status.helper_beside ? sentence('docker.path.beside', { folder: h('code', {}, status.helper_beside), path: PATH() })
          : sentence('docker.path.install', { binary: data('ghcr') })),
      message && message.done && h('p', { class: 'result ok', role: 'status' }, message.done),
      // The PATH note above already says what the helper's absence needs.
      message && message.error && !(message.error.code === 'docker.helper_missing' && !status.helper_on_path) && errorView(message.error),
      h('div', { class: 'row' }, status.helper_configured && !status.plaintext_user ? null : setup, undo),
    ];
    body.replaceChildren(...lines.flat().filter(Boolean));
  };
  return { card, drawn: draw() };
}
