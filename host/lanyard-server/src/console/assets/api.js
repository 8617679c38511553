// The admin API, as the console calls it: the one place that names routes.
//
// ENDPOINTS lists every route the console uses. host/lanyard-server/tests/it/console.rs
// reads the entries below, one per line, each a name, then the method and the path in single quotes,
// and checks each against a running daemon, so a renamed route breaks the test.
// No other console file may contain an /api/ path.

export const ENDPOINTS = Object.freeze({
  flows: { method: 'GET', path: '/api/v1/flows' },
  reload: { method: 'POST', path: '/api/v1/admin/reload' },
  runNow: { method: 'POST', path: '/api/v1/flows/{flow}/run' },
  runs: { method: 'GET', path: '/api/v1/runs' },
  rejectedEvents: { method: 'GET', path: '/api/v1/events/rejected' },
  oktaOrgs: { method: 'GET', path: '/api/v1/okta/orgs' },
  run: { method: 'GET', path: '/api/v1/runs/{run}' },
  cancelRun: { method: 'POST', path: '/api/v1/runs/{run}/cancel' },
  signalRun: { method: 'POST', path: '/api/v1/runs/{run}/signal' },
  rerun: { method: 'POST', path: '/api/v1/runs/{run}/rerun' },
  cards: { method: 'GET', path: '/api/v1/cards' },
  tables: { method: 'GET', path: '/api/v1/tables' },
  rows: { method: 'GET', path: '/api/v1/tables/{table}/rows' },
  row: { method: 'GET', path: '/api/v1/tables/{table}/rows/{key}' },
  putRow: { method: 'PUT', path: '/api/v1/tables/{table}/rows/{key}' },
  deleteRow: { method: 'DELETE', path: '/api/v1/tables/{table}/rows/{key}' },
  clearTable: { method: 'DELETE', path: '/api/v1/tables/{table}' },
  exportCsv: { method: 'GET', path: '/api/v1/tables/{table}/csv' },
  importCsv: { method: 'PUT', path: '/api/v1/tables/{table}/csv' },
  flow: { method: 'GET', path: '/api/v1/flows/{flow}' },
  checkFlow: { method: 'POST', path: '/api/v1/flows/check' },
  createFlow: { method: 'POST', path: '/api/v1/flows' },
  saveFlow: { method: 'PUT', path: '/api/v1/flows/{flow}' },
  setEnabled: { method: 'PUT', path: '/api/v1/flows/{flow}/enabled' },
  versions: { method: 'GET', path: '/api/v1/flows/{flow}/versions' },
  version: { method: 'GET', path: '/api/v1/flows/{flow}/versions/{version}' },
  revert: { method: 'POST', path: '/api/v1/flows/{flow}/revert' },
  flowAudit: { method: 'GET', path: '/api/v1/flows/{flow}/audit' },
  testFlow: { method: 'POST', path: '/api/v1/flows/test' },
  replay: { method: 'POST', path: '/api/v1/flows/{flow}/replay' },
  testCard: { method: 'POST', path: '/api/v1/cards/{card}/test' },
  grantCard: { method: 'POST', path: '/api/v1/cards/{card}/{version}/grants' },
  eventTypes: { method: 'GET', path: '/api/v1/okta/event-types' },
  eventSample: { method: 'GET', path: '/api/v1/okta/event-types/{type}/sample' },
  eventSchema: { method: 'GET', path: '/api/v1/okta/event-schema' },
  schedulePreview: { method: 'GET', path: '/api/v1/schedule/preview' },
  library: { method: 'GET', path: '/api/v1/library' },
  libraryFlow: { method: 'GET', path: '/api/v1/library/{id}' },
});

const TOKEN_KEY = 'lanyard.adminToken';
// Where the token lives when the browser refuses sessionStorage.
let memoryToken = null;

/// The admin token of this tab (sessionStorage: gone when the tab closes).
export function token() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(value) {
  try {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage disabled: the token lives only as long as this page.
  }
  memoryToken = value || null;
}

function currentToken() {
  return token() ?? memoryToken;
}

/// An answer that was not 2xx, or no answer at all (status 0).
export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

const listeners = new Set();

/// Be told of every 401, so the app can ask for the token again.
export function onUnauthorized(fn) {
  listeners.add(fn);
}

// The daemon's root, from the page's own address (`…/console/`), so the
// console keeps working behind a reverse proxy that adds a path prefix.
const ROOT = new URL('../', document.baseURI);

/// The URL of endpoint `name` with its `{params}` filled in (each
/// percent-encoded as one path segment) and `query` appended (empty values
/// left out).
export function url(name, params = {}, query = {}) {
  const ep = ENDPOINTS[name];
  if (!ep) throw new Error(`unknown endpoint ${name}`);
  const path = ep.path.replace(/\{(\w+)\}/g, (_, p) => {
    if (params[p] === undefined || params[p] === null) throw new Error(`endpoint ${name} needs ${p}`);
    return encodeURIComponent(String(params[p]));
  });
  const u = new URL(path.slice(1), ROOT);
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') u.searchParams.set(k, String(v));
  }
  return u;
}

/// Call endpoint `name`; resolves with `{ status, body }` for 2xx answers,
/// rejects with an ApiError otherwise. `headers` adds request headers
/// (`If-Match` for writes guarded against concurrent edits). `text` sends
/// text as it is (`{ text, type }`, a CSV) instead of JSON; `asText` reads
/// the answer as text.
export async function call(name, { params = {}, query = {}, body, text, asText = false, signal, headers: extra = {} } = {}) {
  const ep = ENDPOINTS[name];
  const headers = { ...extra, Accept: asText ? '*/*' : 'application/json' };
  const t = currentToken();
  if (t) headers.Authorization = `Bearer ${t}`;
  let payload;
  if (text !== undefined) {
    headers['Content-Type'] = text.type;
    payload = text.text;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(url(name, params, query), {
      method: ep.method,
      headers,
      body: payload,
      signal,
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error',
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    for (const fn of unreachableListeners) fn();
    throw new ApiError(0, 'unreachable', 'cannot reach the lanyard daemon (is it running?)', null);
  }
  let data = null;
  const answer = await resp.text();
  if (resp.ok && asText) return { status: resp.status, body: answer };
  if (answer) {
    try {
      data = JSON.parse(answer);
    } catch {
      data = null;
    }
  }
  if (resp.ok) return { status: resp.status, body: data };
  const err = data && typeof data === 'object' && data.error && typeof data.error === 'object' ? data.error : {};
  const message = typeof err.message === 'string' ? err.message : `${ep.method} ${ep.path} answered ${resp.status}`;
  const code = typeof err.code === 'string' ? err.code : `http_${resp.status}`;
  const error = new ApiError(resp.status, code, message, data);
  if (resp.status === 401) for (const fn of listeners) fn(error);
  throw error;
}

/// The daemon's readiness (`GET /readyz`, no token needed):
/// `{ reachable: false }` when it cannot be reached, else what it answers
/// (`{ reachable: true, ready, reason, store }`).
export async function readiness(signal) {
  let resp;
  try {
    resp = await fetch('/readyz', { cache: 'no-store', credentials: 'omit', redirect: 'error', signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    return { reachable: false };
  }
  let body = {};
  try {
    body = await resp.json();
  } catch {
    body = { ready: resp.ok, reason: resp.ok ? null : `the daemon answered ${resp.status}` };
  }
  return { reachable: true, ...body };
}

/// Calls `fn()` each time a request cannot reach the daemon.
export function onUnreachable(fn) {
  unreachableListeners.push(fn);
}
const unreachableListeners = [];

/// GET endpoint `name` and return the body.
export async function get(name, opts) {
  return (await call(name, opts)).body;
}
