// Tests of the card's logic under plain Node (`node --test`): a fake Zoom API
// stands in for the host's `http` import. The built component is exercised
// end to end by the repository's e2e tests.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, CardFailure, INPUT_SCHEMA, OUTPUT_SCHEMA } from './zoom.js';

const encoder = new TextEncoder();

function fakeZoom(users, { failWith } = {}) {
  const requests = [];
  const logs = [];
  const reply = (status, body, headers = []) => ({
    status,
    headers: [['content-type', 'application/json'], ...headers],
    body: body === undefined ? new Uint8Array() : encoder.encode(JSON.stringify(body)),
  });
  const send = (req) => {
    requests.push(req);
    if (failWith) return reply(failWith, { code: 0, message: 'injected' }, [['Retry-After', '3']]);
    const [path, query] = req.url.split('?');
    const m = path.match(/^\/v2\/users\/([^/]+)(\/status)?$/);
    if (!m) return reply(404, { message: `no route ${path}` });
    const key = decodeURIComponent(m[1]);
    const user = Object.values(users).find((u) => u.id === key || u.email === key);
    if (!user) return reply(404, { code: 1001, message: 'User does not exist' });
    if (req.method === 'get') return reply(200, user);
    if (req.method === 'put' && m[2]) {
      user.status = JSON.parse(new TextDecoder().decode(req.body)).action === 'deactivate' ? 'inactive' : 'active';
      return reply(204);
    }
    if (req.method === 'delete') {
      user.deletedWith = new URLSearchParams(query);
      delete users[user.email];
      return reply(204);
    }
    return reply(405, { message: 'method not allowed' });
  };
  const call = { send, log: (level, message, fields) => logs.push({ level, message, fields }), idempotencyKey: 'run1/zoom/1', dryRun: false };
  return { call, requests, logs };
}

const input = (extra = {}) =>
  JSON.stringify({ user: { id: '00u1', email: 'ada@example.com' }, connection: 'zoom', ...extra });

test('deactivates an active user through the named connection', () => {
  const users = { 'ada@example.com': { id: 'z1', email: 'ada@example.com', status: 'active' } };
  const { call, requests, logs } = fakeZoom(users);
  const out = JSON.parse(run(call, input()));
  assert.deepEqual(out, { email: 'ada@example.com', zoom_user_id: 'z1', previous_status: 'active', outcome: 'changed', status: 'inactive' });
  assert.equal(users['ada@example.com'].status, 'inactive');
  assert.deepEqual(requests.map((r) => `${r.method} ${r.url} ${r.connection}`), [
    'get /v2/users/ada%40example.com zoom',
    'put /v2/users/z1/status zoom',
  ]);
  assert.ok(requests[1].headers.some(([k, v]) => k === 'idempotency-key' && v === 'run1/zoom/1'));
  assert.ok(!requests.some((r) => r.headers.some(([k]) => k.toLowerCase() === 'authorization')));
  assert.equal(logs.at(-1).level, 'info');
});

test('running it again changes nothing', () => {
  const users = { 'ada@example.com': { id: 'z1', email: 'ada@example.com', status: 'inactive' } };
  const { call, requests } = fakeZoom(users);
  const out = JSON.parse(run(call, input()));
  assert.equal(out.outcome, 'unchanged');
  assert.equal(requests.length, 1);
});

test('a leaver with no zoom user is not an error', () => {
  const { call } = fakeZoom({});
  assert.deepEqual(JSON.parse(run(call, input())), {
    email: 'ada@example.com', zoom_user_id: null, outcome: 'unchanged', status: 'absent', previous_status: null,
  });
});

test('delete transfers meetings and recordings when asked', () => {
  const users = { 'ada@example.com': { id: 'z1', email: 'ada@example.com', status: 'active' } };
  const ada = users['ada@example.com'];
  const { call } = fakeZoom(users);
  const out = JSON.parse(run(call, input({ mode: 'delete', transfer_to: 'it@example.com' })));
  assert.equal(out.status, 'deleted');
  assert.equal(users['ada@example.com'], undefined);
  assert.equal(ada.deletedWith.get('transfer_email'), 'it@example.com');
  assert.equal(ada.deletedWith.get('transfer_recording'), 'true');
});

test('a dry run looks but does not write', () => {
  const users = { 'ada@example.com': { id: 'z1', email: 'ada@example.com', status: 'active' } };
  const { call, requests } = fakeZoom(users);
  call.dryRun = true;
  const out = JSON.parse(run(call, input()));
  assert.equal(out.planned, true);
  assert.deepEqual(requests.map((r) => r.method), ['get']);
  assert.equal(users['ada@example.com'].status, 'active');
});

test('remote failures map to card-error kinds', () => {
  const cases = [
    [429, 'rate-limited', true, 3000],
    [503, 'unavailable', true, undefined],
    [504, 'timeout', true, undefined],
    [401, 'denied', false, undefined],
    [400, 'invalid-input', false, undefined],
  ];
  for (const [status, kind, retryable, retryAfterMs] of cases) {
    const { call } = fakeZoom({}, { failWith: status });
    assert.throws(() => run(call, input()), (e) => {
      assert.ok(e instanceof CardFailure);
      assert.equal(e.kind, kind, `status ${status}`);
      assert.equal(e.retryable, retryable, `status ${status}`);
      assert.equal(e.retryAfterMs, retryAfterMs, `status ${status}`);
      assert.match(e.message, new RegExp(`zoom answered ${status}`));
      return true;
    });
  }
});

test('bad input names the field', () => {
  const { call } = fakeZoom({});
  const bad = [
    ['not json', /not JSON/],
    ['[]', /JSON object/],
    ['{"user":{"id":"x","email":"nope"},"connection":"zoom"}', /user.email/],
    ['{"user":{"email":"a@b.c"},"connection":"zoom"}', /user.id/],
    ['{"user":{"id":"x","email":"a@b.c"}}', /connection/],
    ['{"user":{"id":"x","email":"a@b.c"},"connection":"zoom","mode":"nuke"}', /mode/],
    ['{"user":{"id":"x","email":"a@b.c"},"connection":"zoom","transfer_to":"it@b.c"}', /transfer_to/],
    ['{"user":{"id":"x","email":"a@b.c"},"connection":"zoom","extra":1}', /unknown input field/],
  ];
  for (const [text, re] of bad) {
    assert.throws(() => run(call, text), (e) => e.kind === 'invalid-input' && re.test(e.message), text);
  }
});

test('takes the email from an Okta user profile', () => {
  const users = { 'ada@example.com': { id: 'z1', email: 'ada@example.com', status: 'active' } };
  const { call } = fakeZoom(users);
  const text = JSON.stringify({ user: { id: '00u1', profile: { email: 'ada@example.com' } }, connection: 'zoom' });
  assert.equal(JSON.parse(run(call, text)).outcome, 'changed');
});

test('schemas are objects that name every input field', () => {
  assert.equal(INPUT_SCHEMA.type, 'object');
  assert.equal(OUTPUT_SCHEMA.type, 'object');
  assert.deepEqual(Object.keys(INPUT_SCHEMA.properties).sort(), ['connection', 'mode', 'transfer_to', 'user']);
});
