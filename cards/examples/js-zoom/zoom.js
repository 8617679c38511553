// The `acme.zoom-deprovision` card's logic: deactivate (or delete) a leaver's
// Zoom user through the Zoom connection the flow names.
//
// This module knows nothing of WebAssembly: it talks to the world through the
// `send` and `log` functions it is handed, so that it runs (and is tested)
// under plain Node too. `index.js` binds it to the card contract's imports.
// It must not read files, the environment or the clock, and holds no
// credential: the host injects the connection's OAuth token.

export const NAME = 'acme.zoom-deprovision';
export const VERSION = '1.0.0';
export const DESCRIPTION =
  "Deactivate (default) or delete a leaver's Zoom user, found by email, through the " +
  'Zoom connection the flow names. Running it again on a user already done changes nothing.';

const MAX_EMAIL = 320;
const HTTP_TIMEOUT_MS = 15000;
const MODES = ['deactivate', 'delete'];
const EMAIL = /^[^@\s"\\/?#%]+@[^@\s"\\/?#%]+$/;

export const INPUT_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'zoom-deprovision input',
  type: 'object',
  required: ['user', 'connection'],
  properties: {
    user: {
      description: 'The leaver: an Okta user, or just its id and email.',
      type: 'object',
      required: ['id'],
      properties: {
        id: { type: 'string', minLength: 1 },
        email: { type: 'string', format: 'email', maxLength: MAX_EMAIL },
        profile: { type: 'object', properties: { email: { type: 'string', format: 'email' } } },
      },
    },
    connection: {
      description: 'The Zoom connection ops configured, for example `zoom`.',
      type: 'string',
      minLength: 1,
      maxLength: 64,
    },
    mode: {
      description: 'Deactivate the user (keeps their data; default) or delete it.',
      enum: MODES,
      default: 'deactivate',
    },
    transfer_to: {
      description: "With `delete`: the Zoom user who receives the leaver's meetings, webinars and recordings.",
      type: 'string',
      format: 'email',
    },
  },
  additionalProperties: false,
};

export const OUTPUT_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'zoom-deprovision output',
  type: 'object',
  required: ['email', 'outcome', 'status'],
  properties: {
    email: { type: 'string' },
    zoom_user_id: { type: ['string', 'null'] },
    outcome: { enum: ['changed', 'unchanged'], description: '`unchanged` when there was nothing to do.' },
    status: { enum: ['inactive', 'deleted', 'absent'], description: "The Zoom user's state afterwards." },
    previous_status: { type: ['string', 'null'] },
    planned: { type: 'boolean', description: 'True in a dry run: the write was not sent.' },
  },
};

/** A failure the card reports to the flow as a `card-error`. */
export class CardFailure extends Error {
  constructor(kind, message, { retryable = false, retryAfterMs } = {}) {
    super(message);
    this.kind = kind;
    this.retryable = retryable;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The validated input, or a CardFailure('invalid-input') naming the field. */
export function parseInput(text) {
  let data;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new CardFailure('invalid-input', `input is not JSON: ${e.message}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new CardFailure('invalid-input', 'input must be a JSON object');
  }
  const unknown = Object.keys(data).filter((k) => !(k in INPUT_SCHEMA.properties));
  if (unknown.length) {
    throw new CardFailure('invalid-input', `unknown input field(s): ${unknown.sort().join(', ')}`);
  }
  const user = data.user;
  if (user === null || typeof user !== 'object') {
    throw new CardFailure('invalid-input', '`user` must be an object with `id` and `email`');
  }
  if (typeof user.id !== 'string' || !user.id) {
    throw new CardFailure('invalid-input', '`user.id` must be a non-empty string');
  }
  const email = user.email ?? user.profile?.email;
  if (!isEmail(email)) {
    throw new CardFailure('invalid-input', `\`user.email\` (or \`user.profile.email\`) must be an email address, got ${JSON.stringify(email ?? null)}`);
  }
  const { connection } = data;
  if (typeof connection !== 'string' || connection.length < 1 || connection.length > 64) {
    throw new CardFailure('invalid-input', '`connection` must name a connection (1 to 64 characters)');
  }
  const mode = data.mode ?? 'deactivate';
  if (!MODES.includes(mode)) {
    throw new CardFailure('invalid-input', `\`mode\` must be one of ${MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  }
  const transferTo = data.transfer_to;
  if (transferTo !== undefined) {
    if (mode !== 'delete') {
      throw new CardFailure('invalid-input', '`transfer_to` only applies with `mode: delete`');
    }
    if (!isEmail(transferTo)) {
      throw new CardFailure('invalid-input', '`transfer_to` must be an email address');
    }
  }
  return { userId: user.id, email, connection, mode, transferTo };
}

function isEmail(s) {
  return typeof s === 'string' && s.length <= MAX_EMAIL && EMAIL.test(s);
}

function header(headers, name) {
  const found = headers.find(([k]) => k.toLowerCase() === name);
  return found ? found[1] : undefined;
}

function remoteDetail(body) {
  const text = new TextDecoder().decode(body);
  try {
    const doc = JSON.parse(text);
    return String(doc.message ?? doc.error ?? '').slice(0, 200);
  } catch {
    return text.slice(0, 200).trim();
  }
}

/** Map a non-2xx Zoom answer to the card-error kind a flow can act on. */
export function checkStatus(what, { status, headers, body }) {
  if (status >= 200 && status < 300) return;
  const detail = remoteDetail(body);
  const msg = `${what}: zoom answered ${status}${detail ? ` (${detail})` : ''}`;
  if (status === 404) throw new CardFailure('not-found', msg);
  if (status === 401 || status === 403) {
    throw new CardFailure('denied', `${msg}; check the connection's scopes (user:write:admin)`);
  }
  if (status === 409) throw new CardFailure('conflict', msg);
  if (status === 429) {
    const after = Number(header(headers, 'retry-after'));
    throw new CardFailure('rate-limited', msg, {
      retryable: true,
      retryAfterMs: Number.isFinite(after) && after >= 0 ? Math.round(after * 1000) : undefined,
    });
  }
  if (status === 408 || status === 504) throw new CardFailure('timeout', msg, { retryable: true });
  if (status >= 500) throw new CardFailure('unavailable', msg, { retryable: true });
  if (status === 400 || status === 422) throw new CardFailure('invalid-input', msg);
  throw new CardFailure('internal', msg);
}

/**
 * The card's `run`: the output as a JSON string, or a thrown CardFailure.
 *
 * `call` is `{ send(req) -> { status, headers, body }, log(level, message, fields),
 * idempotencyKey, dryRun }`; `req` is `{ method, url, headers, body, connection, timeoutMs }`.
 */
export function run(call, inputText) {
  const inp = parseInput(inputText);
  const req = (method, url, body) => ({
    method,
    url,
    headers: [
      ['accept', 'application/json'],
      ...(body ? [['content-type', 'application/json']] : []),
      ...(method === 'get' ? [] : [['idempotency-key', call.idempotencyKey]]),
    ],
    body: body ? new TextEncoder().encode(JSON.stringify(body)) : undefined,
    connection: inp.connection,
    timeoutMs: HTTP_TIMEOUT_MS,
  });

  const found = call.send(req('get', `/v2/users/${encodeURIComponent(inp.email)}`));
  if (found.status === 404) {
    call.log('info', `no zoom user for ${inp.email}; nothing to do`, { user: inp.userId });
    return JSON.stringify({ email: inp.email, zoom_user_id: null, outcome: 'unchanged', status: 'absent', previous_status: null });
  }
  checkStatus(`looking up ${inp.email}`, found);
  let zoomUser;
  try {
    zoomUser = JSON.parse(new TextDecoder().decode(found.body));
  } catch {
    throw new CardFailure('internal', `looking up ${inp.email}: zoom answered with something that is not JSON`);
  }
  if (typeof zoomUser?.id !== 'string' || !zoomUser.id) {
    throw new CardFailure('internal', `looking up ${inp.email}: zoom's answer has no user id`);
  }
  const out = { email: inp.email, zoom_user_id: zoomUser.id, previous_status: zoomUser.status ?? null };
  const id = encodeURIComponent(zoomUser.id);

  if (inp.mode === 'deactivate' && zoomUser.status === 'inactive') {
    call.log('info', `zoom user ${zoomUser.id} is already inactive`, { user: inp.userId });
    return JSON.stringify({ ...out, outcome: 'unchanged', status: 'inactive' });
  }
  const status = inp.mode === 'delete' ? 'deleted' : 'inactive';
  if (call.dryRun) {
    return JSON.stringify({ ...out, outcome: 'changed', status, planned: true });
  }

  if (inp.mode === 'deactivate') {
    checkStatus(`deactivating ${zoomUser.id}`, call.send(req('put', `/v2/users/${id}/status`, { action: 'deactivate' })));
  } else {
    const query = new URLSearchParams({ action: 'delete' });
    if (inp.transferTo) {
      query.set('transfer_email', inp.transferTo);
      for (const what of ['meeting', 'webinar', 'recording', 'whiteboard']) query.set(`transfer_${what}`, 'true');
    }
    const deleted = call.send(req('delete', `/v2/users/${id}?${query}`));
    // Gone between our lookup and the delete (another run did it): the goal is met.
    if (deleted.status !== 404) checkStatus(`deleting ${zoomUser.id}`, deleted);
  }
  call.log('info', `zoom user ${zoomUser.id} ${status}`, { user: inp.userId, zoom_user: zoomUser.id });
  return JSON.stringify({ ...out, outcome: 'changed', status });
}
