// The "Docker CLI" card of the Account view: whether the docker CLI gets the registry's token from the
// keyring (through docker-credential-ghcr-desktop) or from a plaintext entry in config.json, what a
// setup changes, and Set up / Undo. A plaintext token found there is pointed out with its user name
// (never the token) and moved into the keyring by the setup, after the same check as a pasted one.
import { h, errorView } from '../dom.js';

// Returns the card and the promise of its first drawing.
export function dockerCliCard({ invoke, refreshAccount }) {
  const body = h('div', { id: 'docker-cli-body' });
  const card = h('section', { class: 'card', id: 'docker-cli', 'aria-labelledby': 'docker-cli-title' },
    h('h2', { id: 'docker-cli-title' }, 'Use with the docker CLI'),
    h('p', { class: 'muted' }, h('code', {}, 'docker login'), ' leaves the token in plaintext in config.json. Let docker ask GHCR Desktop’s keyring instead.'),
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
      title: status.helper_on_path ? '' : 'Put docker-credential-ghcr-desktop on PATH first' },
    status.plaintext_user ? 'Move it to the keyring' : 'Set up');
    const undo = h('button', { class: 'ghost', type: 'button', id: 'docker-cli-undo', hidden: !status.can_undo }, 'Undo');
    setup.addEventListener('click', async () => {
      setup.disabled = true;
      try {
        const done = await invoke('docker_cli_setup');
        await draw(done.changes.length ? `Changed ${done.config}: ${done.changes.join('; ')}.` : 'Already set up.');
        refreshAccount();
      } catch (error) {
        await draw({ error });
      }
    });
    undo.addEventListener('click', async () => {
      try {
        const path = await invoke('docker_cli_undo');
        await draw(`Restored ${path} as it was.`);
      } catch (error) {
        await draw({ error });
      }
    });
    const lines = [
      h('p', {}, 'Config: ', h('code', {}, status.config)),
      status.helper_configured
        ? [h('p', { class: 'result ok' }, '✓ docker gets the token for this registry from the system keyring.'),
          h('p', { class: 'muted small-print', id: 'docker-cli-before-uninstall' },
            'Uninstalling GHCR Desktop? Undo this first: docker can’t log in to this registry while config.json names a helper that is gone.')]
        : h('p', {}, 'Setting up adds ', h('code', {}, 'credHelpers'), ' for this registry to config.json and keeps every other setting; a backup lets you undo it.'),
      status.plaintext_user && h('p', { class: 'result error', id: 'docker-cli-plaintext' },
        `config.json holds a plaintext token for this registry (user ${status.plaintext_user}). The setup checks it and moves it into the keyring.`),
      !status.helper_on_path && h('p', { class: 'note', id: 'docker-cli-path' },
        'docker-credential-ghcr-desktop is not on PATH, so Docker can’t run it. ',
        status.helper_beside ? ['It is in ', h('code', {}, status.helper_beside), ': add that folder to PATH.'] : 'Install it beside ghcr.'),
      message && typeof message === 'string' && h('p', { class: 'result ok', role: 'status' }, message),
      // The PATH note above already says what the helper's absence needs.
      message && message.error && !(message.error.code === 'docker.helper_missing' && !status.helper_on_path) && errorView(message.error),
      h('div', { class: 'row' }, status.helper_configured && !status.plaintext_user ? null : setup, undo),
    ];
    body.replaceChildren(...lines.flat().filter(Boolean));
  };
  return { card, drawn: draw() };
}
