// Sign-in: paste the admin token. It is checked against the daemon before it
// is kept, and kept only in this tab's sessionStorage.

import { call, setToken } from './api.js';
import { h, fill, callout } from './dom.js';

export function render(ctx, message, done) {
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'current-password',
    spellcheck: 'false',
    required: true,
    'aria-describedby': 'token-help',
  });
  const status = h('div', { id: 'signin-status', 'aria-live': 'polite' });
  if (message) fill(status, callout(message.startsWith('Signed out') ? 'info' : 'error', null, h('p', null, message)));
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    {
      class: 'signin',
      novalidate: true,
      on: {
        submit: async (e) => {
          e.preventDefault();
          const value = input.value.trim();
          if (!value) {
            fill(status, callout('error', null, h('p', null, 'Paste the admin token first.')));
            input.focus();
            return;
          }
          button.disabled = true;
          fill(status, h('p', { class: 'muted' }, 'Checking the token…'));
          setToken(value);
          try {
            await call('flows', { signal: ctx.signal });
            done();
          } catch (err) {
            setToken(null);
            if (err.name === 'AbortError') return;
            let text;
            if (err.status === 401) text = `The daemon refused this token (401: ${err.message}).`;
            else if (err.status === 403) text = `The admin API is switched off (403: ${err.message}).`;
            else if (err.status === 0) text = 'Cannot reach the lanyard daemon. Is it running, and is this its address?';
            else text = `The daemon answered ${err.status}: ${err.message}`;
            fill(status, callout('error', null, h('p', null, text)));
            button.disabled = false;
            input.select();
            input.focus();
          }
        },
      },
    },
    h('label', { for: 'token' }, 'Admin token'),
    input,
    h(
      'p',
      { id: 'token-help', class: 'help' },
      'The value of ',
      h('code', null, '[server] admin_token'),
      ' in lanyard.toml. It stays in this browser tab only (forgotten when the tab closes) and is sent only to this daemon, in the Authorization header.',
    ),
    button,
    status,
  );
  fill(
    ctx.main,
    h(
      'section',
      { class: 'signin-page', 'aria-labelledby': 'signin-title' },
      h('h1', { id: 'signin-title' }, 'Sign in to the lanyard console'),
      h('p', { class: 'lede' }, 'Flows, their runs step by step, tables and cards of this lanyard daemon.'),
      form,
    ),
  );
  input.focus();
}
