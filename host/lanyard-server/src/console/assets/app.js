// The console's shell: sign-in state, the hash router, and each view's life
// cycle (its requests and pollers end when another view takes over).
//
// Routes (in the URL fragment, so they never reach the server):
//   #/flows  #/flows/{name}?tab=&edit=1  #/new-flow  #/library  #/library/{id}  #/runs?flow=&status=  #/runs/{id}
//   #/tables  #/tables/{name}?prefix=
//   #/cards  and  #token=...  (a one-click sign-in link, as `lanyard demo` prints)

import { setToken, token, onUnauthorized } from './api.js';
import { h, fill } from './dom.js';
import { Poller } from './poll.js';
import { watchHealth } from './health.js';
import * as signin from './signin.js';
import * as flows from './flows.js';
import * as flowpage from './flowpage.js';
import * as newflow from './newflow.js';
import * as library from './library.js';
import * as runs from './runs.js';
import * as run from './run.js';
import * as tables from './tables.js';
import * as cards from './cards.js';

const NAV = [
  { href: '#/flows', label: 'Flows', section: 'flows' },
  { href: '#/runs', label: 'Runs', section: 'runs' },
  { href: '#/tables', label: 'Tables', section: 'tables' },
  { href: '#/cards', label: 'Cards', section: 'cards' },
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const signOut = document.getElementById('sign-out');

let current = null; // { controller, pollers, cleanups }
let firstRender = true;
let signInMessage = null;

/// Parse the fragment: `#/runs/01H...?status=failed` → { parts, query }.
export function parseRoute(hash) {
  const raw = hash.startsWith('#') ? hash.slice(1) : hash;
  const [path, q = ''] = raw.split('?', 2);
  const parts = path
    .split('/')
    .filter((p) => p !== '')
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  return { parts, query: new URLSearchParams(q) };
}

/// A fragment for `parts` and `query` (empty query values dropped).
export function routeHref(parts, query = {}) {
  const path = '#/' + parts.map((p) => encodeURIComponent(p)).join('/');
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

function endView() {
  if (!current) return;
  current.controller.abort();
  for (const p of current.pollers) p.stop();
  for (const fn of current.cleanups) {
    try {
      fn();
    } catch {
      // a view's cleanup must not stop the next view
    }
  }
  current = null;
}

function setNav(section) {
  fill(
    nav,
    h(
      'ul',
      null,
      NAV.map((n) =>
        h('li', null, h('a', { href: n.href, 'aria-current': n.section === section ? 'page' : null }, n.label)),
      ),
    ),
  );
}

/// Take a `#token=...` fragment: keep the token for this tab, then drop it
/// from the address bar and the history.
function takeTokenFromFragment() {
  if (!location.hash.startsWith('#token=')) return;
  const params = new URLSearchParams(location.hash.slice(1));
  const t = params.get('token');
  if (t) setToken(t.trim());
  const next = params.get('view') || '/flows';
  history.replaceState(null, '', `${location.pathname}${location.search}#${next.startsWith('/') ? next : '/flows'}`);
}

function render() {
  endView();
  const controller = new AbortController();
  const ctx = {
    main,
    signal: controller.signal,
    pollers: [],
    cleanups: [],
    /// Start a poller that stops when the view ends.
    poll(task, interval) {
      const p = new Poller(task, interval);
      this.pollers.push(p);
      return p.start();
    },
    onCleanup(fn) {
      this.cleanups.push(fn);
    },
    title(text) {
      document.title = `${text} · lanyard`;
    },
    route: parseRoute(location.hash),
    routeHref,
    /// Change the query of the current route without a new history entry.
    replaceQuery(query) {
      const href = routeHref(ctx.route.parts, query);
      history.replaceState(null, '', href);
      ctx.route = parseRoute(href);
    },
  };
  current = { controller, pollers: ctx.pollers, cleanups: ctx.cleanups };

  if (!token()) {
    setNav(null);
    signOut.hidden = true;
    document.body.classList.add('signed-out');
    ctx.title('Sign in');
    signin.render(ctx, signInMessage, () => {
      signInMessage = null;
      render();
    });
    return;
  }
  document.body.classList.remove('signed-out');
  signOut.hidden = false;

  const { parts } = ctx.route;
  const section = parts[0] || 'flows';
  setNav(section);
  fill(main);
  if (section === 'flows' && parts.length === 1) flows.render(ctx);
  else if (section === 'new-flow') newflow.render(ctx);
  else if (section === 'library' && parts.length === 1) library.renderList(ctx);
  else if (section === 'library' && parts.length === 2) library.renderFlow(ctx, parts[1]);
  else if (section === 'flows' && parts.length === 2) flowpage.render(ctx, parts[1]);
  else if (section === 'runs' && parts.length === 1) runs.render(ctx);
  else if (section === 'runs' && parts.length === 2) run.render(ctx, parts[1]);
  else if (section === 'tables' && parts.length === 1) tables.renderList(ctx);
  else if (section === 'tables' && parts.length === 2) tables.renderTable(ctx, parts[1]);
  else if (section === 'cards') cards.render(ctx);
  else {
    ctx.title('Not found');
    fill(
      main,
      h('h1', { tabindex: '-1' }, 'No such page'),
      h('p', null, 'The console has no page at ', h('code', null, location.hash), '. ', h('a', { href: '#/flows' }, 'Go to the flows'), '.'),
    );
  }
  // Move focus to the new page's heading (not on the first load, where the
  // browser's own start position is right), so keyboard and screen reader
  // users land on what changed.
  if (!firstRender) {
    const h1 = main.querySelector('h1');
    if (h1) {
      h1.setAttribute('tabindex', '-1');
      h1.focus({ preventScroll: false });
    }
  }
  firstRender = false;
}

onUnauthorized((e) => {
  if (!token()) return;
  setToken(null);
  signInMessage = `The daemon refused the admin token (401: ${e.message}). Paste the current token to go on.`;
  render();
});

signOut.addEventListener('click', () => {
  setToken(null);
  signInMessage = 'Signed out. The token is forgotten in this tab.';
  render();
});

document.getElementById('skip').addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});

window.addEventListener('hashchange', () => {
  if (location.hash.startsWith('#token=')) takeTokenFromFragment();
  render();
});

takeTokenFromFragment();
watchHealth(document.getElementById('daemon-status'));
render();
