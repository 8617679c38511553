// fields.js: the picker's list of what an expression can read at a step.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { byClass, byTag } from './fakedom.mjs';
import { assets, seedFlows } from './helpers.mjs';

const { availableFields, expressionOf, loopsAround, varsBefore, stepsById, filterFields, renderFieldList } = await import(join(assets, 'fields.js'));
const { FlowDoc } = await import(join(assets, 'flowdoc.js'));
const { cards } = JSON.parse(readFileSync(new URL('./fixtures/card-schemas.json', import.meta.url), 'utf8'));
const { schema: eventSchema } = JSON.parse(readFileSync(new URL('./fixtures/event-schema.json', import.meta.url), 'utf8'));
// As GET /api/v1/cards lists them.
const cardList = Object.entries(cards).map(([name, c]) => ({ name, ...c }));

const node = (id, kind, extra = {}) => ({ id, kind, path: id, yaml: [], card: null, branches: [], ...extra });
const outline = {
  trigger: { kind: 'okta', event_types: ['user.lifecycle.deactivate'] },
  steps: [
    node('user', 'card', { card: 'okta.get-user', summary: 'Okta: Get user' }),
    node('manager', 'card', { card: 'okta.get-manager' }),
    node('sessions', 'card', { card: 'okta.clear-sessions' }),
    node('jamf', 'card', { card: 'acme.jamf-offboard' }),
    node('no-manager', 'card', { card: 'slack.post' }),
    node('found', 'if'),
    node('dept', 'switch'),
    node('each', 'for_each', { branches: [{ role: 'loop', label: 'For each group', steps: [node('sent', 'card', { card: 'mail.send' }), node('x-y', 'card', { card: 'mail.send' })] }] }),
  ],
  on_failure: [],
};
const byExpr = (list) => new Map(list.map((f) => [f.expression, f]));

test('earlier steps’ outputs and the Okta event, in words with their expressions', () => {
  const scope = ['event', 'user', 'manager', 'sessions', 'jamf', 'no-manager', 'found', 'dept', 'each', 'vars', 'flow'];
  const list = availableFields({ scope, outline, cards: cardList, eventSchema, vars: ['count'] });
  const f = byExpr(list);
  assert.equal(f.get('{{ user.profile.login }}').label, 'User › Profile › Login');
  assert.equal(f.get('{{ user.profile.login }}').group, 'Step “user” · Okta: Get user');
  assert.equal(f.get('{{ user }}').type, 'mapping');
  assert.equal(f.get('{{ user.lastLogin }}').label, 'User › Last login');
  assert.equal(f.get('{{ manager.manager.profile.email }}').label, 'Manager › Manager › Profile › Email');
  assert.equal(f.get('{{ manager.found }}').type, 'yes/no');
  assert.equal(f.get('{{ sessions.outcome }}').type, 'text');
  // A card without a published schema is still offered whole.
  assert.equal(f.get('{{ jamf }}').type, 'any');
  assert.ok(!list.some((x) => x.expression.startsWith('{{ jamf.')));
  // `no-manager` cannot be read in an expression (it is a subtraction).
  assert.ok(!list.some((x) => x.path[0] === 'no-manager'));
  assert.equal(f.get('{{ found }}').type, 'yes/no');
  assert.equal(f.get('{{ dept }}').type, 'text');
  // A loop's output: one mapping per iteration, by the ids of the steps inside.
  assert.equal(f.get('{{ each }}').label, 'Each (list)');
  assert.equal(f.get('{{ each[0].sent.message_id }}').label, 'Each › First › Sent › Message id');
  // The event, with the schema's titles; lists whole and first.
  assert.equal(f.get('{{ event.target }}').label, 'Event › Targets (list)');
  assert.equal(f.get('{{ event.target[0].id }}').label, 'Event › Targets › First › Id');
  assert.equal(f.get('{{ event.actor.alternateId }}').label, 'Event › Actor › Login or email');
  assert.equal(f.get('{{ event.debugContext.debugData.changedAttributes }}').label, 'Event › Debug context › Debug data › Changed attributes');
  assert.equal(f.get('{{ vars.count }}').label, 'Variables › Count');
  assert.equal(f.get('{{ flow.run_id }}').label, 'Flow › Run id');
  assert.equal(list[0].group, 'Event');
  assert.ok(!list.some((x) => x.path[0] === 'error'), 'error only in handlers');
});

test('only names in scope are listed', () => {
  const list = availableFields({ scope: ['event', 'user', 'error'], outline, cards: cardList, eventSchema });
  const roots = new Set(list.map((f) => f.path[0]));
  assert.deepEqual([...roots].sort(), ['error', 'event', 'user']);
  assert.equal(byExpr(list).get('{{ error.message }}').label, 'Error › Message');
});

test('loop variables: the item’s fields from the list it walks, and loop', () => {
  const mfa = seedFlows().find((s) => s.file === 'mfa-reminder.yaml');
  const value = FlowDoc.parse(mfa.text).get([]);
  // The email step: in the sweep (a loop over the pages of okta.find-users), under two ifs.
  const at = ['steps', 1, 'steps', 0, 'then', 1, 'then', 0];
  const loops = loopsAround(value, at);
  assert.deepEqual(loops.map((l) => [l.as, l.list.card]), [['u', 'okta.find-users']]);
  const o = {
    trigger: { kind: 'schedule' },
    steps: [
      node('users', 'card', { card: 'okta.find-users' }),
      node('sweep', 'for_each', { paged: 'okta.find-users', branches: [{ role: 'loop', steps: [node('factors', 'card', { card: 'okta.list-factors' })] }] }),
    ],
  };
  const list = availableFields({ scope: ['event', 'users', 'sweep', 'factors', 'u', 'loop', 'vars', 'flow'], outline: o, cards: cardList, loops });
  const f = byExpr(list);
  // An item of a page is a user, as the page card's `items` says.
  assert.equal(f.get('{{ u.profile.email }}').label, 'U › Profile › Email');
  assert.equal(f.get('{{ u.id }}').type, 'text');
  assert.equal(f.get('{{ loop.index }}').label, 'Loop › Number (from 1)');
  assert.equal(f.get('{{ users.count }}').type, 'number');
  assert.equal(f.get('{{ users.items[0].profile.login }}').label, 'Users › Items › First › Profile › Login');
  // A loop over pages counts what it did.
  assert.equal(f.get('{{ sweep.count }}').type, 'number');
  assert.equal(f.get('{{ sweep.pages }}').type, 'number');
  // A schedule's event.
  assert.equal(f.get('{{ event.fire_time }}').label, 'Event › Fire time');
  assert.equal(f.get('{{ event.missed }}').label, 'Event › Missed fire times (list)');
});

test('helper inputs, an api body, and the bounds', () => {
  const helper = { trigger: { kind: 'flow', inputs: [{ name: 'email', type: 'string' }, { name: 'cost-center', type: 'any' }] }, steps: [] };
  const f = byExpr(availableFields({ scope: ['event', 'inputs'], outline: helper }));
  assert.equal(f.get('{{ inputs.email }}').type, 'text');
  assert.equal(f.get('{{ event.email }}').label, 'Event › Email');
  assert.equal(f.get('{{ inputs["cost-center"] }}').type, 'any');
  const api = availableFields({ scope: ['event'], outline: { trigger: { kind: 'api' }, steps: [] } });
  assert.deepEqual(api.map((x) => x.expression), ['{{ event }}']);
  // Recursive schemas stop at the depth bound; long lists at the entry bound.
  const deep = { type: 'object', properties: { next: { $ref: '#/$defs/N' } }, $defs: { N: { type: 'object', properties: { next: { $ref: '#/$defs/N' } } } } };
  const d = availableFields({ scope: ['a'], outline: { steps: [node('a', 'card', { card: 'deep' })] }, cards: { deep }, maxDepth: 3 });
  assert.equal(d.length, 4);
  const wide = { type: 'object', properties: Object.fromEntries([...Array(50)].map((_, i) => [`k${i}`, { type: 'string' }])) };
  assert.equal(availableFields({ scope: ['a'], outline: { steps: [node('a', 'card', { card: 'w' })] }, cards: { w: wide }, limit: 10 }).length, 10);
  assert.equal(expressionOf(['event', 'target', 0, 'id']), '{{ event.target[0].id }}');
});

test('vars assigned before a step, not those after it or inside another loop', () => {
  const pc = seedFlows().find((s) => s.file === 'profile-change.yaml');
  const value = FlowDoc.parse(pc.text).get([]);
  assert.deepEqual(varsBefore(value, ['steps', 0]), []);
  assert.deepEqual(varsBefore(value, ['steps', 3]), ['departments', 'apps']);
  assert.deepEqual(varsBefore(value, ['steps', 5, 'steps', 0]), ['departments', 'apps', 'department', 'wanted', 'app_groups']);
  const v = { steps: [{ for_each: [1], steps: [{ assign: { inner: 1 } }] }, { assign: { outer: 1 } }, { stop: 'x' }] };
  assert.deepEqual(varsBefore(v, ['steps', 2]), ['outer']);
  assert.deepEqual(varsBefore(v, ['steps', 0, 'steps', 1]), ['inner']);
  assert.equal(stepsById(outline).get('sent').card, 'mail.send');
});

test('the list filters by words and renders as buttons under group headings', () => {
  const list = availableFields({ scope: ['event', 'user', 'manager'], outline, cards: cardList, eventSchema });
  const found = filterFields(list, 'manager email');
  assert.deepEqual(found.map((f) => f.expression), ['{{ manager.manager.profile.email }}', '{{ manager.manager.profile.secondEmail }}']);
  assert.equal(filterFields(list, '').length, list.length);
  const picked = [];
  const ul = renderFieldList(filterFields(list, 'login'), { onPick: (f) => picked.push(f.expression) });
  assert.deepEqual(byClass(ul, 'fp-group').map((g) => g.textContent), ['Event', 'Step “user” · Okta: Get user', 'Step “manager” · okta.get-manager']);
  const buttons = byTag(ul, 'button');
  assert.equal(buttons[0].getAttribute('type'), 'button');
  buttons.find((b) => b.dataset.expression === '{{ user.profile.login }}').dispatchEvent(new Event('click'));
  assert.deepEqual(picked, ['{{ user.profile.login }}']);
  assert.equal(byClass(renderFieldList([]), 'fp-group')[0].textContent, 'Nothing matches.');
});

test('a table read offers the values the flow itself writes to that table', async () => {
  const { tableRows } = await import(join(assets, 'fields.js'));
  const flow = {
    steps: [
      { id: 'previous', card: 'tables.get', with: { table: 'profile-snapshots', key: '{{ user.id }}' } },
      { id: 'other', card: 'tables.get', with: { table: '{{ vars.t }}', key: 'k' } },
      { id: 'check', if: 'true', then: [{ id: 'snapshot', card: 'tables.put@0.1.0', with: { table: 'profile-snapshots', key: 'k', value: { login: 'a', department: 'b' } } }] },
      { id: 'again', card: 'tables.put', with: { table: 'profile-snapshots', key: 'k', value: { title: 'c', login: 'd' } } },
    ],
  };
  const tables = tableRows(flow);
  assert.deepEqual(tables, { rows: { 'profile-snapshots': ['login', 'department', 'title'] }, reads: { previous: 'profile-snapshots' } });
  const o = { trigger: { kind: 'manual' }, steps: [node('previous', 'card', { card: 'tables.get' })], on_failure: [] };
  const list = availableFields({ scope: ['previous'], outline: o, cards: cardList, tables });
  const values = list.filter((f) => f.expression.startsWith('{{ previous.value.')).map((f) => f.expression);
  assert.deepEqual(values, ['{{ previous.value.login }}', '{{ previous.value.department }}', '{{ previous.value.title }}']);
  // Without the flow's writes, the row is any value.
  assert.equal(availableFields({ scope: ['previous'], outline: o, cards: cardList }).filter((f) => f.expression.startsWith('{{ previous.value.')).length, 0);
});
