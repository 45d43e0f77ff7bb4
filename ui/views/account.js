// Account view: create a classic token on GitHub with the right scopes, paste it and see at once whose
// it is, which scopes it has and what is missing, then keep it in the system keyring. Also the saved
// accounts (switch, remove). The pasted text leaves this page only for the check and the save, and the
// box is cleared once saved: afterwards the page knows only the login, kind, scopes and masked hint.
import { h, errorView, expiryText, until, data, sentence } from '../dom.js';
import { t, has as hasKey, errorText } from '../i18n.js';
import { dockerCliCard } from './docker-cli.js';

const CHECK_DELAY_MS = 400;
const SCOPES = ['read:packages', 'write:packages', 'delete:packages'];

// The token's kind in the person's language, by the core's `kind` (its English `kind_text` otherwise).
function kindText(report) {
  const key = `account.kind.${report.kind}`;
  return hasKey(key) ? t(key) : report.kind_text;
}

// Why the push wasn't tried. The core says it in English only (no code): the token lacks
// write:packages, or "the registry did not say: …" with the registry's (or the core's) words kept as is.
function notCheckedReason(report) {
  if (!report.scope_check.write) return t('account.push.reason.no_write');
  const reason = String(report.push.reason || '');
  const silent = 'the registry did not say: ';
  return reason.startsWith(silent)
    ? sentence('account.push.reason.registry_silent', { message: data(reason.slice(silent.length)) })
    : data(reason);
}

// ✓/✗ for each packages scope, with what a missing one blocks.
function scopeList(report, id) {
  const check = report.scope_check;
  const has = { 'read:packages': check.read, 'write:packages': check.write, 'delete:packages': check.delete };
  return h('ul', { class: 'checklist', id }, SCOPES.map((scope) => {
    const missing = check.missing.find((m) => m.scope === scope);
    return h('li', { dataset: { scope, ok: has[scope] ? 'yes' : 'no' } },
      h('span', { class: 'mark', 'aria-hidden': 'true' }, has[scope] ? '✓' : '✗'),
      h('code', {}, scope),
      missing && h('span', { class: 'muted' }, t('account.scope.blocks',
        { blocks: t(`account.scope_blocks.${missing.scope.replace(':', '_')}`) })),
      h('span', { class: 'sr-only' }, has[scope] ? t('account.scope.granted') : t('account.scope.missing')));
  }));
}

// What the registry said when asked for a push.
function pushLine(report, id) {
  const push = report.push;
  if (push.result === 'allowed') {
    return h('p', { id, class: 'push', dataset: { ok: 'yes' } },
      sentence('account.push.allowed', { owner: data(`${push.repository.split('/')[0]}/…`) }));
  }
  if (push.result === 'denied') {
    return h('p', { id, class: 'push', dataset: { ok: 'no' } }, sentence('account.push.denied', { message: data(push.message) }));
  }
  return h('p', { id, class: 'push muted' }, sentence('account.push.not_checked', { reason: notCheckedReason(report) }));
}

export function render(root, { invoke, account, refreshAccount, ready }) {
  let sequence = 0;
  let timer = null;

  const includeDelete = h('input', { type: 'checkbox', id: 'include-delete' });
  const opened = h('p', { class: 'muted', id: 'opened-url', 'aria-live': 'polite' });
  const openTokenPage = async (withDelete) => {
    try {
      const url = await invoke('open_new_token_page', { includeDelete: withDelete });
      opened.replaceChildren(...sentence('account.create.opened', { url: data(url) }));
    } catch (error) {
      opened.replaceChildren(errorView(error));
    }
  };
  const create = h('button', { class: 'primary', type: 'button', id: 'create-token' }, t('account.create.button'));
  create.addEventListener('click', () => openTokenPage(includeDelete.checked));

  const input = h('input', {
    type: 'password', id: 'token-input', autocomplete: 'off', spellcheck: 'false',
    placeholder: t('account.paste.placeholder'), 'aria-describedby': 'token-result', 'aria-label': t('account.paste.label'),
  });
  const result = h('div', { id: 'token-result', 'aria-live': 'polite' });
  const save = h('button', { class: 'primary', type: 'button', id: 'save-token', disabled: true }, t('account.paste.save'));

  const showReport = (report) => {
    const check = report.scope_check;
    const requiredMissing = check.missing.some((m) => m.required);
    const replacement = h('button', { class: 'ghost inline', type: 'button', id: 'replacement-token' },
      t('account.result.replacement'));
    replacement.addEventListener('click', () => openTokenPage(check.delete || includeDelete.checked));
    result.replaceChildren(h('div', { class: 'result', dataset: { login: report.login } },
      h('p', {}, sentence('account.result.belongs',
        { login: h('strong', { id: 'token-login', translate: 'no' }, report.login), hint: data(report.hint) }, { kind: kindText(report) })),
      scopeList(report, 'scope-list'),
      pushLine(report, 'push-check'),
      requiredMissing && h('p', { class: 'hint' }, t('account.result.cannot_push')),
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
    result.replaceChildren(h('p', { class: 'muted' }, t('account.result.checking')));
    try {
      const report = await invoke('token_check', { token: input.value });
      if (mine === sequence) showReport(report);
    } catch (error) {
      if (mine !== sequence) return;
      const actions = [];
      if (error.code === 'token.unsupported_kind' || error.code === 'token.invalid') {
        const create = h('button', { class: 'ghost inline', type: 'button' }, t('account.result.create_classic'));
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
        const use = h('button', { class: 'primary small', type: 'button', id: 'use-saved' },
          sentence('account.saved.use_now', { login: data(saved.report.login) }));
        use.addEventListener('click', async () => {
          await invoke('account_switch', { login: saved.report.login });
          use.replaceWith(h('span', {}, sentence('account.saved.now_using', { login: data(saved.report.login) })));
          await refreshAccount();
        });
        result.replaceChildren(h('p', { class: 'result ok', id: 'saved' },
          sentence('account.saved.other_active',
            { login: data(saved.report.login), hint: data(saved.report.hint), active: data(active) }), use));
      } else {
        result.replaceChildren(h('p', { class: 'result ok', id: 'saved' },
          sentence('account.saved.signed_in', { login: data(saved.report.login), hint: data(saved.report.hint) })));
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
    const use = h('button', { class: 'primary', type: 'button', id: 'use-gh-token' }, t('account.gh.use'));
    use.addEventListener('click', async () => {
      use.disabled = true;
      try {
        const saved = await invoke('gh_cli_token_save');
        ghCard.replaceChildren(h('p', { class: 'result ok', id: 'gh-saved' },
          sentence('account.gh.saved', { login: data(saved.report.login), hint: data(saved.report.hint) })));
        await refreshAccount();
      } catch (error) {
        ghCard.append(errorView(error));
      }
    });
    const again = h('button', { class: 'ghost inline', type: 'button', id: 'gh-look-again' }, t('account.gh.look_again'));
    again.addEventListener('click', drawGhCli);
    ghCard.replaceChildren(
      h('h2', { id: 'gh-cli-title' }, t('account.gh.title')),
      h('p', {}, sentence('account.gh.signed_in',
        { login: h('strong', { translate: 'no' }, report.login), hint: data(report.hint) }, { kind: kindText(report) })),
      scopeList(report, 'gh-scope-list'),
      pushLine(report, 'gh-push-check'),
      refresh
        ? h('div', {}, h('p', {}, t('account.gh.refresh')),
          h('pre', {}, h('code', { id: 'gh-refresh-command' }, refresh)), again)
        : h('div', { class: 'row' }, use));
    ghCard.hidden = false;
  };

  // Browser sign-in (OAuth device flow), offered only when an OAuth app client id is configured.
  const deviceCard = h('section', { class: 'card', id: 'device-flow', hidden: true, 'aria-labelledby': 'device-title' });
  const drawDevice = (body = []) => {
    const begin = h('button', { class: 'primary', type: 'button', id: 'device-start' }, t('account.device.start'));
    begin.addEventListener('click', signInWithBrowser);
    deviceCard.replaceChildren(
      h('h2', { id: 'device-title' }, t('account.device.title')),
      h('p', {}, t('account.device.text')),
      ...body,
      h('div', { class: 'row' }, begin));
  };
  const signInWithBrowser = async () => {
    try {
      const signIn = await invoke('device_flow_start', { includeDelete: includeDelete.checked });
      const cancel = h('button', { class: 'ghost inline', type: 'button', id: 'device-cancel' }, t('account.device.cancel'));
      cancel.addEventListener('click', () => invoke('device_flow_cancel'));
      deviceCard.replaceChildren(
        h('h2', { id: 'device-title' }, t('account.device.enter_code')),
        h('p', { class: 'user-code', id: 'device-user-code', translate: 'no' }, signIn.user_code),
        h('p', { class: 'muted' }, sentence('account.device.waiting', { url: data(signIn.verification_uri) })),
        h('div', { class: 'row' }, cancel));
      const saved = await invoke('device_flow_finish');
      drawDevice([h('p', { class: 'result ok', id: 'device-saved' },
        sentence('account.saved.signed_in', { login: data(saved.report.login), hint: data(saved.report.hint) }))]);
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
      const start = h('button', { class: 'primary', type: 'button', id: 'welcome-start' }, t('account.welcome.start'));
      start.addEventListener('click', () => {
        create.scrollIntoView({ block: 'center' });
        create.focus();
      });
      signedIn.hidden = false;
      signedIn.id = 'welcome';
      signedIn.replaceChildren(h('h2', { id: 'signed-in-title' }, t('account.welcome.title')),
        h('p', {}, t('account.welcome.text')),
        h('div', { class: 'row' }, start));
      return;
    }
    if (account.state === 'error' && account.error && account.error.code === 'token.invalid') {
      // The token in use was revoked or expired: marked, with its replacement one click away.
      const replace = h('button', { class: 'primary', type: 'button', id: 'replace-token' }, t('account.invalid.replace'));
      replace.addEventListener('click', () => openTokenPage(includeDelete.checked));
      signedIn.hidden = false;
      signedIn.id = 'token-invalid';
      signedIn.replaceChildren(h('h2', { id: 'signed-in-title' }, t('account.invalid.title')),
        h('p', { class: 'result error' }, errorText(account.error).message), h('p', {}, t('account.invalid.text')),
        h('div', { class: 'row' }, replace));
      return;
    }
    signedIn.id = 'signed-in';
    if (account.state !== 'ok' || !account.account) { signedIn.hidden = true; return; }
    const { report, source } = account.account;
    const expiry = report.expiry
      ? h('p', { id: 'token-expiry', class: report.expiry.soon ? 'expiry-warning' : 'muted', dataset: { soon: String(report.expiry.soon) } },
        t(report.expiry.soon ? 'account.expiry.soon' : 'account.expiry.later', { expiry: expiryText(report.expiry) }))
      : h('p', { id: 'token-expiry', class: 'muted' }, t('account.expiry.none'));
    signedIn.hidden = false;
    signedIn.replaceChildren(
      h('h2', { id: 'signed-in-title' }, h('span', { class: 'avatar', 'aria-hidden': 'true', translate: 'no' }, report.login.slice(0, 1).toUpperCase()),
        sentence('account.signed_in.title', { login: h('strong', { translate: 'no' }, report.login) })),
      h('p', { class: 'muted' }, sentence(source === 'environment' ? 'account.signed_in.from_environment' : 'account.signed_in.from_keyring',
        { hint: data(report.hint), variable: data('GHCR_TOKEN') }, { kind: kindText(report) })),
      scopeList(report, 'signed-in-scopes'), pushLine(report, 'signed-in-push'), expiry);
  };

  const accountsBox = h('div', { id: 'accounts' });
  const drawAccounts = async () => {
    try {
      const { logins, active } = await invoke('accounts');
      if (logins.length === 0) {
        accountsBox.replaceChildren(h('p', { class: 'muted' }, t('account.accounts.none')));
        return;
      }
      accountsBox.replaceChildren(h('ul', { class: 'accounts' }, logins.map((login) => {
        const use = h('button', { class: 'ghost inline', type: 'button', disabled: login === active,
          'aria-label': login === active ? t('account.accounts.in_use_label', { login }) : t('account.accounts.use_label', { login }) },
        login === active ? t('account.accounts.in_use') : t('account.accounts.use'));
        use.addEventListener('click', async () => { await invoke('account_switch', { login }); await refreshAccount(); });
        const remove = h('button', { class: 'ghost inline', type: 'button', 'aria-label': t('account.accounts.remove_label', { login }) }, t('account.accounts.remove'));
        remove.addEventListener('click', async () => { await invoke('account_remove', { login }); await refreshAccount(); });
        return h('li', { dataset: { login, active: String(login === active) } },
          h('span', { class: 'avatar', 'aria-hidden': 'true', translate: 'no' }, login.slice(0, 1).toUpperCase()),
          h('strong', { translate: 'no' }, login), login === active && h('span', { class: 'badge ok' }, t('account.accounts.active')), use, remove);
      })));
    } catch (error) {
      accountsBox.replaceChildren(errorView(error));
    }
  };

  const dockerCli = dockerCliCard({ invoke, refreshAccount });
  root.replaceChildren(
    h('h1', {}, t('account.title')),
    h('p', { class: 'lede' }, t('account.lede')),
    signedIn,
    h('section', { class: 'card', 'aria-labelledby': 'step-create' },
      h('h2', { id: 'step-create' }, t('account.create.title')),
      h('p', {}, t('account.create.text')),
      h('label', { class: 'row' }, includeDelete, t('account.create.include_delete')),
      h('div', { class: 'row' }, create),
      opened),
    h('section', { class: 'card', 'aria-labelledby': 'step-paste' },
      h('h2', { id: 'step-paste' }, t('account.paste.title')),
      input, result, h('div', { class: 'row' }, save)),
    ghCard,
    deviceCard,
    h('section', { class: 'card', 'aria-labelledby': 'saved-accounts' },
      h('h2', { id: 'saved-accounts' }, t('account.accounts.title')),
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
