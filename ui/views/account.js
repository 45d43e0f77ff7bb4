// Account view: create a classic token on GitHub with the right scopes, paste it and see at once whose
// it is, which scopes it has and what is missing, then keep it in the system keyring. Also the saved
// accounts (switch, remove). The pasted text leaves this page only for the check and the save, and the
// box is cleared once saved: afterwards the page knows only the login, kind, scopes and masked hint.
import { h, errorView, expiryText, until } from '../dom.js';
import { dockerCliCard } from './docker-cli.js';

export const title = 'Account';

const CHECK_DELAY_MS = 400;
const SCOPES = ['read:packages', 'write:packages', 'delete:packages'];

// ✓/✗ for each packages scope, with what a missing one blocks.
function scopeList(report, id) {
  const check = report.scope_check;
  const has = { 'read:packages': check.read, 'write:packages': check.write, 'delete:packages': check.delete };
  return h('ul', { class: 'checklist', id }, SCOPES.map((scope) => {
    const missing = check.missing.find((m) => m.scope === scope);
    return h('li', { dataset: { scope, ok: has[scope] ? 'yes' : 'no' } },
      h('span', { class: 'mark', 'aria-hidden': 'true' }, has[scope] ? '✓' : '✗'),
      h('code', {}, scope),
      missing && h('span', { class: 'muted' }, ` — can't ${missing.blocks} without it`),
      h('span', { class: 'sr-only' }, has[scope] ? ' (granted)' : ' (missing)'));
  }));
}

// What the registry said when asked for a push.
function pushLine(report, id) {
  const push = report.push;
  if (push.result === 'allowed') {
    return h('p', { id, class: 'push', dataset: { ok: 'yes' } }, `✓ The registry accepts pushes to ${push.repository.split('/')[0]}/…`);
  }
  if (push.result === 'denied') {
    return h('p', { id, class: 'push', dataset: { ok: 'no' } }, `✗ The registry refuses pushes: ${push.message}`);
  }
  return h('p', { id, class: 'push muted' }, `Push not checked: ${push.reason}.`);
}

export function render(root, { invoke, account, refreshAccount, ready }) {
  let sequence = 0;
  let timer = null;

  const includeDelete = h('input', { type: 'checkbox', id: 'include-delete' });
  const opened = h('p', { class: 'muted', id: 'opened-url', 'aria-live': 'polite' });
  const openTokenPage = async (withDelete) => {
    try {
      const url = await invoke('open_new_token_page', { includeDelete: withDelete });
      opened.textContent = `Opened ${url} in your browser. Generate the token there, then paste it below.`;
    } catch (error) {
      opened.replaceChildren(errorView(error));
    }
  };
  const create = h('button', { class: 'primary', type: 'button', id: 'create-token' }, 'Create a token on GitHub');
  create.addEventListener('click', () => openTokenPage(includeDelete.checked));

  const input = h('input', {
    type: 'password', id: 'token-input', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'ghp_…', 'aria-describedby': 'token-result', 'aria-label': 'Classic personal access token',
  });
  const result = h('div', { id: 'token-result', 'aria-live': 'polite' });
  const save = h('button', { class: 'primary', type: 'button', id: 'save-token', disabled: true }, 'Save to keyring');

  const showReport = (report) => {
    const check = report.scope_check;
    const requiredMissing = check.missing.some((m) => m.required);
    const replacement = h('button', { class: 'ghost inline', type: 'button', id: 'replacement-token' },
      'Create a replacement token with these scopes');
    replacement.addEventListener('click', () => openTokenPage(check.delete || includeDelete.checked));
    result.replaceChildren(h('div', { class: 'result', dataset: { login: report.login } },
      h('p', {}, 'Belongs to ', h('strong', { id: 'token-login' }, report.login), ` · ${report.kind_text} (${report.hint})`),
      scopeList(report, 'scope-list'),
      pushLine(report, 'push-check'),
      requiredMissing && h('p', { class: 'hint' }, 'This token cannot push images.'),
      requiredMissing && replacement));
    save.disabled = requiredMissing || report.push.result !== 'allowed';
  };

  const checkNow = async () => {
    const mine = ++sequence;
    save.disabled = true;
    if (input.value.trim() === '') {
      result.replaceChildren();
      return;
    }
    result.replaceChildren(h('p', { class: 'muted' }, 'Checking with GitHub…'));
    try {
      const report = await invoke('token_check', { token: input.value });
      if (mine === sequence) showReport(report);
    } catch (error) {
      if (mine !== sequence) return;
      const actions = [];
      if (error.code === 'token.unsupported_kind' || error.code === 'token.invalid') {
        const create = h('button', { class: 'ghost inline', type: 'button' }, 'Create a classic token');
        create.addEventListener('click', () => openTokenPage(includeDelete.checked));
        actions.push(create);
      }
      result.replaceChildren(errorView(error, { actions }));
    }
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(checkNow, CHECK_DELAY_MS);
  });

  save.addEventListener('click', async () => {
    save.disabled = true;
    try {
      const saved = await invoke('token_save', { token: input.value });
      input.value = '';
      sequence++;
      // Another account in use stays in use: switching is its own, explicit step.
      const { active } = await invoke('accounts').catch(() => ({ active: saved.report.login }));
      if (active && active !== saved.report.login) {
        const use = h('button', { class: 'primary small', type: 'button', id: 'use-saved' }, `Use ${saved.report.login} now`);
        use.addEventListener('click', async () => {
          await invoke('account_switch', { login: saved.report.login });
          use.replaceWith(h('span', {}, `Now using ${saved.report.login}.`));
          await refreshAccount();
        });
        result.replaceChildren(h('p', { class: 'result ok', id: 'saved' },
          `Saved ${saved.report.login} (${saved.report.hint}) in your system keyring. ${active} is still in use. `, use));
      } else {
        result.replaceChildren(h('p', { class: 'result ok', id: 'saved' },
          `Saved: signed in as ${saved.report.login} (${saved.report.hint}). The token is in your system keyring.`));
      }
      await refreshAccount();
    } catch (error) {
      result.replaceChildren(errorView(error));
    }
  });

  // The GitHub CLI's token, offered when gh is signed in to this host.
  const ghCard = h('section', { class: 'card', id: 'gh-cli', hidden: true, 'aria-labelledby': 'gh-cli-title' });
  const drawGhCli = async () => {
    let found;
    try {
      found = await invoke('gh_cli_token');
    } catch (error) {
      found = null;
    }
    if (!found) {
      ghCard.hidden = true;
      return;
    }
    const { report, refresh_command: refresh } = found;
    const use = h('button', { class: 'primary', type: 'button', id: 'use-gh-token' }, 'Use the token from the GitHub CLI');
    use.addEventListener('click', async () => {
      use.disabled = true;
      try {
        const saved = await invoke('gh_cli_token_save');
        ghCard.replaceChildren(h('p', { class: 'result ok', id: 'gh-saved' },
          `Saved: signed in as ${saved.report.login} (${saved.report.hint}) with the GitHub CLI's token.`));
        await refreshAccount();
      } catch (error) {
        ghCard.append(errorView(error));
      }
    });
    const again = h('button', { class: 'ghost inline', type: 'button', id: 'gh-look-again' }, 'Look again');
    again.addEventListener('click', drawGhCli);
    ghCard.replaceChildren(
      h('h2', { id: 'gh-cli-title' }, 'Or use the GitHub CLI\'s token'),
      h('p', {}, 'The GitHub CLI (gh) is signed in as ', h('strong', {}, report.login), ` · ${report.kind_text} (${report.hint}).`),
      scopeList(report, 'gh-scope-list'),
      pushLine(report, 'gh-push-check'),
      refresh
        ? h('div', {}, h('p', {}, 'Add the missing scope in a terminal, then look again:'),
          h('pre', {}, h('code', { id: 'gh-refresh-command' }, refresh)), again)
        : h('div', { class: 'row' }, use));
    ghCard.hidden = false;
  };

  // Browser sign-in (OAuth device flow), offered only when an OAuth app client id is configured.
  const deviceCard = h('section', { class: 'card', id: 'device-flow', hidden: true, 'aria-labelledby': 'device-title' });
  const drawDevice = (body = []) => {
    const begin = h('button', { class: 'primary', type: 'button', id: 'device-start' }, 'Sign in with GitHub in the browser');
    begin.addEventListener('click', signInWithBrowser);
    deviceCard.replaceChildren(
      h('h2', { id: 'device-title' }, 'Or sign in with the browser'),
      h('p', {}, 'GitHub shows a code prompt; enter the code shown here and approve. No token to copy.'),
      ...body,
      h('div', { class: 'row' }, begin));
  };
  const signInWithBrowser = async () => {
    try {
      const signIn = await invoke('device_flow_start', { includeDelete: includeDelete.checked });
      const cancel = h('button', { class: 'ghost inline', type: 'button', id: 'device-cancel' }, 'Cancel');
      cancel.addEventListener('click', () => invoke('device_flow_cancel'));
      deviceCard.replaceChildren(
        h('h2', { id: 'device-title' }, 'Enter this code on GitHub'),
        h('p', { class: 'user-code', id: 'device-user-code' }, signIn.user_code),
        h('p', { class: 'muted' }, `At ${signIn.verification_uri} (opened in your browser). Waiting for your approval…`),
        h('div', { class: 'row' }, cancel));
      const saved = await invoke('device_flow_finish');
      drawDevice([h('p', { class: 'result ok', id: 'device-saved' },
        `Saved: signed in as ${saved.report.login} (${saved.report.hint}). The token is in your system keyring.`)]);
      await refreshAccount();
    } catch (error) {
      drawDevice([errorView(error)]);
    }
  };
  const deviceFlowAsked = invoke('device_flow_available').then((available) => {
    if (available) {
      drawDevice();
      deviceCard.hidden = false;
    }
  }, () => {});

  // Signed in: who, what the token allows, when it expires (a warning in its last week) and where it lives.
  const signedIn = h('section', { class: 'card', id: 'signed-in', 'aria-labelledby': 'signed-in-title', hidden: true });
  const drawSignedIn = () => {
    if (account.state === 'none') {
      // First start: a short welcome that leads to the token step (not a second "Create a token"
      // button: it takes the person to the one in step 1, with its delete:packages choice).
      const start = h('button', { class: 'primary', type: 'button', id: 'welcome-start' }, 'Start with step 1');
      start.addEventListener('click', () => {
        create.scrollIntoView({ block: 'center' });
        create.focus();
      });
      signedIn.hidden = false;
      signedIn.id = 'welcome';
      signedIn.replaceChildren(h('h2', { id: 'signed-in-title' }, 'Welcome to GHCR Desktop'),
        h('p', {}, 'It publishes your local images to ghcr.io. First it needs a classic token of your GitHub account: create one (GitHub opens with the right scopes ticked), paste it below, and it is checked and kept in your system keyring.'),
        h('div', { class: 'row' }, start));
      return;
    }
    if (account.state === 'error' && account.error && account.error.code === 'token.invalid') {
      // The token in use was revoked or expired: marked, with its replacement one click away.
      const replace = h('button', { class: 'primary', type: 'button', id: 'replace-token' }, 'Create a replacement token');
      replace.addEventListener('click', () => openTokenPage(includeDelete.checked));
      signedIn.hidden = false;
      signedIn.id = 'token-invalid';
      signedIn.replaceChildren(h('h2', { id: 'signed-in-title' }, 'The token in use no longer works'),
        h('p', { class: 'result error' }, account.error.message), h('p', {}, 'Create a new one, paste it below, and save it.'),
        h('div', { class: 'row' }, replace));
      return;
    }
    signedIn.id = 'signed-in';
    if (account.state !== 'ok' || !account.account) { signedIn.hidden = true; return; }
    const { report, source } = account.account;
    const expiry = report.expiry
      ? h('p', { id: 'token-expiry', class: report.expiry.soon ? 'expiry-warning' : 'muted', dataset: { soon: String(report.expiry.soon) } },
        report.expiry.soon ? `⚠ This token ${expiryText(report.expiry)}: create a replacement before then (step 1 below).` : `This token ${expiryText(report.expiry)}.`)
      : h('p', { id: 'token-expiry', class: 'muted' }, 'This token has no expiry date.');
    signedIn.hidden = false;
    signedIn.replaceChildren(
      h('h2', { id: 'signed-in-title' }, h('span', { class: 'avatar', 'aria-hidden': 'true' }, report.login.slice(0, 1).toUpperCase()),
        'Signed in as ', h('strong', {}, report.login)),
      h('p', { class: 'muted' }, `${report.kind_text} (${report.hint}) · `,
        source === 'environment' ? 'from GHCR_TOKEN for this session' : 'kept in your system keyring'),
      scopeList(report, 'signed-in-scopes'), pushLine(report, 'signed-in-push'), expiry);
  };

  const accountsBox = h('div', { id: 'accounts' });
  const drawAccounts = async () => {
    try {
      const { logins, active } = await invoke('accounts');
      if (logins.length === 0) {
        accountsBox.replaceChildren(h('p', { class: 'muted' }, 'No saved accounts yet.'));
        return;
      }
      accountsBox.replaceChildren(h('ul', { class: 'accounts' }, logins.map((login) => {
        const use = h('button', { class: 'ghost inline', type: 'button', disabled: login === active,
          'aria-label': login === active ? `${login} is in use` : `Use ${login}` }, login === active ? 'In use' : 'Use');
        use.addEventListener('click', async () => { await invoke('account_switch', { login }); await refreshAccount(); });
        const remove = h('button', { class: 'ghost inline', type: 'button', 'aria-label': `Remove ${login}` }, 'Remove');
        remove.addEventListener('click', async () => { await invoke('account_remove', { login }); await refreshAccount(); });
        return h('li', { dataset: { login, active: String(login === active) } },
          h('span', { class: 'avatar', 'aria-hidden': 'true' }, login.slice(0, 1).toUpperCase()),
          h('strong', {}, login), login === active && h('span', { class: 'badge ok' }, 'active'), use, remove);
      })));
    } catch (error) {
      accountsBox.replaceChildren(errorView(error));
    }
  };

  const dockerCli = dockerCliCard({ invoke, refreshAccount });
  root.replaceChildren(
    h('h1', {}, 'Account'),
    h('p', { class: 'lede' },
      'ghcr.io accepts classic personal access tokens only: fine-grained tokens have no packages permission. ',
      'GHCR Desktop checks a token as you paste it and keeps it in your system keyring, never in a file.'),
    signedIn,
    h('section', { class: 'card', 'aria-labelledby': 'step-create' },
      h('h2', { id: 'step-create' }, '1. Create a token'),
      h('p', {}, 'GitHub opens with write:packages and read:packages ticked. Choose an expiry and generate it.'),
      h('label', { class: 'row' }, includeDelete, ' Also allow deleting package versions (delete:packages)'),
      h('div', { class: 'row' }, create),
      opened),
    h('section', { class: 'card', 'aria-labelledby': 'step-paste' },
      h('h2', { id: 'step-paste' }, '2. Paste it here'),
      input, result, h('div', { class: 'row' }, save)),
    ghCard,
    deviceCard,
    h('section', { class: 'card', 'aria-labelledby': 'saved-accounts' },
      h('h2', { id: 'saved-accounts' }, 'Saved accounts'),
      accountsBox),
    dockerCli.card);
  drawAccounts();
  drawSignedIn();
  const ghCliDrawn = drawGhCli();
  const stop = account.subscribe(() => { drawAccounts(); drawSignedIn(); });
  // Ready once the account check has answered and its cards are drawn anew, and every card has loaded.
  ready(until(account, (a) => a.state !== 'checking').then(drawAccounts));
  ready(ghCliDrawn);
  ready(deviceFlowAsked);
  ready(dockerCli.drawn);
  return stop;
}
