// flowdoc.js: edits by outline paths change only the lines they must.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { assets, seedFlows, changedLines } from './helpers.mjs';

const { FlowDoc, FlowDocError, shapes, expr, isExpression, retry, stepKind, allSteps } = await import(join(assets, 'flowdoc.js'));
const { parseDocument } = await import(join(assets, 'vendor', 'yaml.js'));

function reparse(text) {
  const doc = parseDocument(text, { uniqueKeys: true });
  assert.deepEqual(doc.errors, [], `re-parses:\n${text}`);
  return doc.toJSON();
}

const commentLines = (text) => text.split('\n').filter((l) => l.trim().startsWith('#'));
const sortedContent = (text) => text.split('\n').filter((l) => l.trim() !== '').sort();

test('every seed flow round-trips byte for byte with no edit', () => {
  const seeds = seedFlows();
  assert.ok(seeds.length >= 5, 'the five seed flows');
  for (const { file, text } of seeds) {
    const d = FlowDoc.parse(text);
    assert.equal(d.toString(), text, file);
    assert.equal(d.readOnlyReason(), null, file);
    assert.ok(d.name.length > 0 && d.description.length > 0, file);
  }
});

test('adding a step to a seed adds exactly its lines', async () => {
  for (const { file, text } of seedFlows()) {
    const d = FlowDoc.parse(text);
    const before = d.get([]);
    const at = d.insertStep(['steps'], 1, shapes.card('slack.post', { connection: 'it-slack', text: 'Hello {{ user.profile.login }}' }, { id: 'hello' }));
    assert.deepEqual(at, ['steps', 1]);
    const after = reparse(d.toString());
    assert.deepEqual(after.steps[1], { id: 'hello', card: 'slack.post', with: { connection: 'it-slack', text: 'Hello {{ user.profile.login }}' } }, file);
    assert.deepEqual([...after.steps.slice(0, 1), ...after.steps.slice(2)], before.steps, file);
    const { added, removed } = await changedLines(text, d.toString());
    assert.deepEqual(removed, [], file);
    assert.deepEqual(
      added.filter((l) => l.trim()),
      ['  - id: hello', '    card: slack.post', '    with:', '      connection: it-slack', '      text: "Hello {{ user.profile.login }}"'],
      file,
    );
    assert.deepEqual(commentLines(d.toString()), commentLines(text), file);
  }
});

test('changing an input of a seed changes one line', async () => {
  for (const { file, text } of seedFlows()) {
    const d = FlowDoc.parse(text);
    // The first step with inputs.
    const i = d.steps().findIndex((s) => s.with && typeof s.with === 'object');
    if (i < 0) continue; // no top-level step with inputs (the MFA sweep's card is in its loop)
    const key = Object.keys(d.get(['steps', i, 'with']))[0];
    d.setInput(['steps', i], key, expr('event.actor.id'));
    assert.equal(reparse(d.toString()).steps[i].with[key], '{{ event.actor.id }}');
    const { added, removed } = await changedLines(text, d.toString());
    assert.equal(removed.length, 1, file);
    assert.equal(added.length, 1, file);
    const at = removed[0].indexOf(`${key}: `) + key.length + 2;
    assert.equal(added[0].slice(0, at), removed[0].slice(0, at), file);
    assert.match(added[0].slice(at), /^["']\{\{ event\.actor\.id \}\}["']/, file);
  }
});

test('moving and deleting steps of a seed keeps every other line', async () => {
  for (const { file, text } of seedFlows()) {
    const d = FlowDoc.parse(text);
    const steps = d.steps();
    if (steps.length < 2) continue; // the one-step error flow
    const last = steps.length - 1;
    // Move the last step to the front, then back: the file is as it was.
    assert.deepEqual(d.moveStep(['steps', last], ['steps'], 0), ['steps', 0]);
    const moved = reparse(d.toString());
    assert.deepEqual(moved.steps, [steps[last], ...steps.slice(0, last)], file);
    assert.deepEqual(sortedContent(d.toString()), sortedContent(text), `${file}: the same lines, reordered`);
    assert.deepEqual(d.moveStep(['steps', 0], ['steps'], steps.length), ['steps', last]);
    assert.equal(d.toString(), text, `${file}: moved back`);

    // Delete the second step: only its lines (and one blank line) go.
    d.deleteStep(['steps', 1]);
    const after = reparse(d.toString());
    assert.deepEqual(after.steps, [steps[0], ...steps.slice(2)], file);
    const { added, removed } = await changedLines(text, d.toString());
    assert.deepEqual(added, [], file);
    const del = FlowDoc.parse(text);
    const own = parseDocument(text).getIn(['steps', 1]).range;
    const stepText = text.slice(own[0], own[1]).trim();
    assert.ok(removed.join('\n').includes(stepText.split('\n')[0]), file);
    assert.ok(removed.filter((l) => l.trim()).length === stepText.split('\n').filter((l) => l.trim()).length, `${file}: only the step's lines`);
    assert.deepEqual(commentLines(d.toString()), commentLines(text), file);
    assert.ok(del);
  }
});

test('a hand comment survives edits around it', () => {
  const text = `name: Hand written
description: Kept as is.
trigger:
  okta: [user.lifecycle.create, group.user_membership.add]
  # Both events name the user first.
  filter: event.target[0].type == "User"   # a trailing comment
steps:
  # Look the user up first.
  - id: user
    card: okta.get-user
    with: { user: "{{ event.target[0].id }}" }   # the target

  - id: bye
    stop: done
`;
  const d = FlowDoc.parse(text);
  d.setTrigger({ kind: 'okta', event_types: ['user.lifecycle.create', 'group.user_membership.add'], filter: 'event.target[0].type == "Group"' });
  d.insertStep(['steps'], 1, shapes.assign({ count: 1 }));
  d.setStepField(['steps', 0], 'retry', retry(3, '2s'));
  const out = d.toString();
  for (const c of ['# Both events name the user first.', '# Look the user up first.', '# the target', '# a trailing comment', 'okta: [user.lifecycle.create, group.user_membership.add]']) {
    assert.ok(out.includes(c), `${c} in\n${out}`);
  }
  assert.equal(reparse(out).trigger.filter, 'event.target[0].type == "Group"');
  assert.deepEqual(reparse(out).steps[0].retry, { attempts: 3, backoff: '2s' });
  // Moving the commented step takes its comment along.
  d.moveStep(['steps', 0], ['steps'], 3);
  const moved = d.toString();
  assert.ok(/- id: bye[\s\S]*# Look the user up first\.\n {2}- id: user/.test(moved), moved);
});

test('every step shape is written in block style and re-parses to itself', () => {
  const d = FlowDoc.parse('name: Shapes\ndescription: Every shape.\ntrigger: manual\nsteps: []\n');
  const all = [
    shapes.card('okta.get-user', { user: expr('event.user') }, { id: 'user', description: 'Who.' }),
    shapes.if('user.profile.department == "Sales"', { then: [shapes.stop('sales')], else: [shapes.fail('no')] }),
    shapes.switch('user.profile.department', ['Engineering', 'Sales'], { id: 'dept' }),
    shapes.forEach(expr('groups'), 'group', { concurrency: 4, id: 'each' }),
    shapes.call('notify-person', { email: expr('user.profile.email'), text: 'Hi\nthere' }, { id: 'sent' }),
    shapes.assign({ count: expr('groups | length'), note: 'yes' }),
    shapes.return({ ok: true, login: expr('user.profile.login') }),
    shapes.stop('the user already has a factor'),
    shapes.fail('no manager for {{ user.profile.login }}'),
  ];
  for (const s of all) d.insertStep(['steps'], undefined, s);
  const out = d.toString();
  const v = reparse(out);
  assert.deepEqual(v.steps, all);
  assert.deepEqual(v.steps.map(stepKind), ['card', 'if', 'switch', 'for_each', 'call', 'assign', 'return', 'stop', 'fail']);
  // Developer style: no `{`-flow mappings for new steps, expressions quoted, `yes` quoted.
  assert.ok(!/:\s*\{/.test(out.split('steps:')[1]), out);
  assert.ok(out.includes('      user: "{{ event.user }}"'), out);
  assert.ok(out.includes("if: user.profile.department == \"Sales\""), out);
  assert.ok(out.includes('note: "yes"'), out);
  assert.ok(out.includes('text: |-\n        Hi\n        there'), out);
  assert.equal(d.readOnlyReason(), null);
});

test('steps go into every kind of step list, created when missing', () => {
  const d = FlowDoc.parse('name: Lists\ndescription: d\ntrigger: manual\nsteps:\n  - id: check\n    if: "true"\n    then: []\n  - id: dept\n    switch: x\n    cases:\n      A: []\n  - id: loop\n    for_each: [1, 2]\n    steps:\n  - id: c\n    card: echo\n');
  d.insertStep(['steps', 0, 'then'], 0, shapes.stop('a'));
  d.insertStep(['steps', 0, 'else'], 0, shapes.stop('b'));
  d.insertStep(['steps', 1, 'cases', 'A'], 0, shapes.stop('c'));
  d.addCase(['steps', 1], 'B');
  d.insertStep(['steps', 1, 'cases', 'B'], 0, shapes.stop('d'));
  d.insertStep(['steps', 1, 'default'], 0, shapes.stop('e'));
  d.insertStep(['steps', 2, 'steps'], 0, shapes.stop('f'));
  d.insertStep(['steps', 3, 'on_error'], 0, shapes.stop('g'));
  d.insertStep(['on_failure'], 0, shapes.stop('h'));
  d.insertStep(['steps', 0, 'then'], 1, shapes.stop('a2'));
  const v = reparse(d.toString());
  assert.deepEqual(v.steps[0].then, [{ stop: 'a' }, { stop: 'a2' }]);
  assert.deepEqual(v.steps[0].else, [{ stop: 'b' }]);
  assert.deepEqual(v.steps[1].cases, { A: [{ stop: 'c' }], B: [{ stop: 'd' }] });
  assert.deepEqual(v.steps[1].default, [{ stop: 'e' }]);
  assert.deepEqual(v.steps[2].steps, [{ stop: 'f' }]);
  assert.deepEqual(v.steps[3].on_error, [{ stop: 'g' }]);
  assert.deepEqual(v.on_failure, [{ stop: 'h' }]);
  // `else` is written after `then`, `default` after `cases`, `on_failure` at the end.
  const out = d.toString();
  assert.ok(out.indexOf('then:') < out.indexOf('else:'));
  assert.ok(out.indexOf('cases:') < out.indexOf('default:'));
  assert.ok(out.trimEnd().endsWith('on_failure:\n  - stop: h'), out);
  d.renameCase(['steps', 1], 'B', 'Sales team');
  assert.deepEqual(Object.keys(reparse(d.toString()).steps[1].cases), ['A', 'Sales team']);
  d.removeCase(['steps', 1], 'A');
  assert.deepEqual(Object.keys(reparse(d.toString()).steps[1].cases), ['Sales team']);
});

test('moves across lists, into and out of branches, keep the step text', () => {
  const text = 'name: M\ndescription: d\ntrigger: manual\nsteps:\n  - id: a\n    card: echo\n    with:\n      text: |-\n        two\n        lines\n  - id: check\n    if: "true"\n    then:\n      - id: b\n        stop: x\n';
  const d = FlowDoc.parse(text);
  assert.deepEqual(d.moveStep(['steps', 0], ['steps', 1, 'then'], 1), ['steps', 0, 'then', 1]);
  let v = reparse(d.toString());
  assert.deepEqual(v.steps[0].then.map((s) => s.id), ['b', 'a']);
  assert.equal(v.steps[0].then[1].with.text, 'two\nlines');
  assert.ok(d.toString().includes('          text: |-\n            two\n            lines'), d.toString());
  assert.deepEqual(d.moveStep(['steps', 0, 'then', 1], ['steps'], 0), ['steps', 0]);
  assert.equal(d.toString(), text);
  assert.throws(() => d.moveStep(['steps', 1], ['steps', 1, 'then'], 0), FlowDocError);
  // Moving the only step out leaves an empty list, which is valid.
  d.moveStep(['steps', 1, 'then', 0], ['steps'], 0);
  v = reparse(d.toString());
  assert.deepEqual(v.steps[2].then, []);
});

test('duplicate gives the copy and every step in it fresh ids', () => {
  const d = FlowDoc.parse('name: D\ndescription: d\ntrigger: manual\nsteps:\n  - id: loop\n    for_each: [1]\n    steps:\n      - id: inner\n        card: echo\n      - card: echo\n');
  assert.deepEqual(d.duplicateStep(['steps', 0]), ['steps', 1]);
  const v = reparse(d.toString());
  assert.equal(v.steps[1].id, 'loop_2');
  assert.equal(v.steps[1].steps[0].id, 'inner_2');
  assert.equal(v.steps[1].steps[1].id, undefined);
  assert.deepEqual([...d.ids()].sort(), ['inner', 'inner_2', 'loop', 'loop_2']);
  assert.equal(d.uniqueId('remove-groups'), 'remove-groups');
  assert.equal(d.uniqueId('loop_2'), 'loop_3');
  assert.equal(allSteps(v).length, 6);
});

test('fields and inputs are set, replaced and removed in place', async () => {
  const text = 'name: F\ndescription: d\ntrigger: manual\nsteps:\n  - id: a\n    card: echo\n    with:\n      text: hi   # greet\n      n: 1\n  - id: b\n    card: echo\n';
  const d = FlowDoc.parse(text);
  d.setInput(['steps', 0], 'text', 'hello');
  assert.ok(d.toString().includes('      text: hello   # greet'), d.toString());
  d.setInput(['steps', 0], 'n', { a: [1, 2] });
  d.setInput(['steps', 1], 'text', expr('a'));
  d.setStepField(['steps', 1], 'description', 'Second.');
  d.setStepField(['steps', 1], 'timeout', '10s');
  d.setStepField(['steps', 1], 'id', 'second');
  let v = reparse(d.toString());
  assert.deepEqual(v.steps[0].with, { text: 'hello', n: { a: [1, 2] } });
  assert.deepEqual(v.steps[1], { id: 'second', description: 'Second.', card: 'echo', with: { text: '{{ a }}' }, timeout: '10s' });
  d.removeInput(['steps', 1], 'text');
  d.setStepField(['steps', 1], 'timeout', null);
  d.removeStepField(['steps', 1], 'id');
  v = reparse(d.toString());
  assert.deepEqual(v.steps[1], { description: 'Second.', card: 'echo' });
  assert.ok(d.toString().includes('  - description: Second.\n    card: echo'), d.toString());
  const { removed } = await changedLines(text, d.toString());
  assert.deepEqual(removed, ['      text: hi   # greet', '      n: 1', '  - id: b']);
});

test('name, description and each kind of trigger', () => {
  const d = FlowDoc.parse('name: T\ndescription: d\ntrigger: manual\nsteps: []\n');
  d.setName('  Lockout: notify  ');
  d.setDescription('First line.\n\nSecond paragraph.');
  assert.equal(d.name, 'Lockout: notify');
  assert.equal(d.description, 'First line.\n\nSecond paragraph.\n');
  assert.ok(d.toString().startsWith('name: "Lockout: notify"\ndescription: |\n  First line.\n\n  Second paragraph.\ntrigger: manual\n'), d.toString());
  const cases = [
    { kind: 'okta', event_types: ['user.account.lock'], filter: null, include_own_events: false },
    { kind: 'okta', event_types: ['user.lifecycle.create', 'group.user_membership.add'], filter: 'event.target[0].type == "User"', include_own_events: true },
    { kind: 'schedule', cron: '0 9 * * 1-5', timezone: 'America/New_York', catch_up: 'once', overlap: null },
    { kind: 'schedule', cron: '*/5 * * * *', timezone: 'UTC', catch_up: null, overlap: null },
    { kind: 'api', sync_timeout: null },
    { kind: 'api', sync_timeout: '10s' },
    { kind: 'flow', inputs: [{ name: 'email', type: 'string', required: true, description: 'who', default: null }, { name: 'subject', type: 'string', required: false, description: null, default: 'A note' }] },
    { kind: 'manual' },
    { kind: 'okta', event_types: ['user.lifecycle.create'], org: 'preview', filter: null, include_own_events: false },
  ];
  for (const spec of cases) {
    d.setTrigger(spec);
    reparse(d.toString());
    assert.deepEqual(d.trigger(), spec, d.toString());
  }
  d.setTrigger(cases[2]);
  assert.ok(d.toString().includes('  schedule:\n    cron: "0 9 * * 1-5"\n    timezone: America/New_York'), d.toString());
  assert.throws(() => d.setTrigger({ kind: 'okta', event_types: [] }), FlowDocError);
});

test('an org the builder does not edit is kept: on the trigger and on a card step', () => {
  const text = 'name: O\ndescription: d\ntrigger:\n  okta: user.lifecycle.create\n  org: prod   # production\nsteps:\n  - card: okta.create-user\n    org: preview\n    with: { profile: {} }\n';
  const d = FlowDoc.parse(text);
  assert.equal(d.trigger().org, 'prod');
  d.setTrigger({ ...d.trigger(), filter: 'event.target[0].type == "User"' });
  assert.ok(d.toString().includes('  org: prod   # production\n'), d.toString());
  d.setTrigger({ ...d.trigger(), event_types: ['user.lifecycle.create', 'user.lifecycle.activate'] });
  assert.equal(reparse(d.toString()).trigger.org, 'prod');
  d.setStepField(['steps', 0], 'timeout', '20s');
  assert.equal(reparse(d.toString()).steps[0].org, 'preview');
});

test('choosing the trigger\'s org writes `org:` after `okta:`, comments and layout kept; the default removes it', async () => {
  const text = [
    'name: Preview leavers',
    'description: d',
    'trigger:',
    '  okta: user.lifecycle.deactivate   # a leaver',
    '  filter: event.outcome.result == "SUCCESS"',
    '',
    '# the steps, reviewed',
    'steps:',
    '  - id: user',
    '    card: okta.get-user',
    '    with: { user: "{{ event.target[0].id }}" }',
    '',
  ].join('\n');
  const d = FlowDoc.parse(text);
  d.setTriggerOrg('preview');
  const { added, removed } = await changedLines(text, d.toString());
  assert.deepEqual([added, removed], [['  org: preview'], []], d.toString());
  assert.ok(d.toString().includes('  okta: user.lifecycle.deactivate   # a leaver\n  org: preview\n  filter:'), d.toString());
  assert.equal(d.trigger().org, 'preview');
  // Another org changes only the name.
  d.setTriggerOrg('prod');
  assert.deepEqual(await changedLines(text, d.toString()), { added: ['  org: prod'], removed: [] });
  // No org: the file as it was.
  d.setTriggerOrg(null);
  assert.equal(d.toString(), text);
  // A trigger that is not Okta's has no org.
  const m = FlowDoc.parse('name: m\ndescription: d\ntrigger: manual\nsteps: []\n');
  assert.throws(() => m.setTriggerOrg('prod'), FlowDocError);
});

test('a card step\'s org and a page loop\'s card\'s org are written in FORMAT.md\'s place and removed again', async () => {
  const text = [
    'name: Mirror',
    'description: d',
    'trigger:',
    '  okta: user.lifecycle.deactivate',
    '  org: preview',
    'steps:',
    '  # the same login, in the default org',
    '  - id: suspend',
    '    card: okta.suspend',
    '    with:',
    '      user: "{{ event.target[0].alternateId }}"   # their login',
    '    retry: { attempts: 3, backoff: 2s }',
    '  - id: each',
    '    for_each:',
    '      card: okta.find-users',
    '      with: { status: ACTIVE }',
    '    as: u',
    '    steps:',
    '      - card: okta.get-user',
    '        with: { user: "{{ u.id }}" }',
    '  - id: flat',
    '    for_each: { card: okta.list-group-members, with: { group: g1 } }',
    '    steps: []',
    '',
  ].join('\n');
  const d = FlowDoc.parse(text);
  d.setStepField(['steps', 0], 'org', 'default');
  d.setStepField(['steps', 1, 'for_each'], 'org', 'default');
  const { added, removed } = await changedLines(text, d.toString());
  assert.deepEqual(removed, [], d.toString());
  assert.deepEqual(added, ['    org: default', '      org: default'], d.toString());
  assert.ok(d.toString().includes('    card: okta.suspend\n    org: default\n    with:\n'), d.toString());
  assert.ok(d.toString().includes('      card: okta.find-users\n      org: default\n      with: { status: ACTIVE }\n'), d.toString());
  // A page loop written on one line stays on one line.
  d.setStepField(['steps', 2, 'for_each'], 'org', 'preview');
  assert.ok(d.toString().includes('    for_each: { card: okta.list-group-members, with: { group: g1 }, org: preview }\n'), d.toString());
  const v = reparse(d.toString());
  assert.deepEqual([v.steps[0].org, v.steps[1].for_each.org, v.steps[2].for_each.org, v.trigger.org], ['default', 'default', 'preview', 'preview']);
  // "The flow's org": each key goes, and the file is as it was.
  d.setStepField(['steps', 0], 'org', null);
  d.setStepField(['steps', 1, 'for_each'], 'org', '');
  d.setStepField(['steps', 2, 'for_each'], 'org', null);
  assert.equal(d.toString(), text);
});

test('a broken or unrepresentable file says why', () => {
  assert.throws(() => FlowDoc.parse('name: [unclosed\n'), (e) => e instanceof FlowDocError && e.line >= 1);
  assert.throws(() => FlowDoc.parse('- a list\n'), FlowDocError);
  assert.match(FlowDoc.parse('name: a\nsteps: &s []\nx: *s\n').readOnlyReason(), /anchors/);
  assert.match(FlowDoc.parse('{ name: a, steps: [] }\n').readOnlyReason(), /flow mapping/);
  // A failing batch leaves the file as it was.
  const d = FlowDoc.parse('name: B\ndescription: d\ntrigger: manual\nsteps: []\n');
  assert.throws(() =>
    d.batch(() => {
      d.setName('Changed');
      d.insertStep(['steps', 5, 'then'], 0, shapes.stop('x'));
    }),
    /nothing at steps\.5 to hold `then`/,
  );
  assert.equal(d.toString(), 'name: B\ndescription: d\ntrigger: manual\nsteps: []\n');
  assert.ok(isExpression('{{ user.id }}'));
  assert.ok(!isExpression('Hi {{ user.id }}'));
  assert.ok(!isExpression('{{ a }} {{ b }}'));
});

test('CRLF files stay CRLF', () => {
  const text = 'name: W\r\ndescription: d\r\ntrigger: manual\r\nsteps:\r\n  - stop: x\r\n';
  const d = FlowDoc.parse(text);
  d.insertStep(['steps'], 1, shapes.stop('z'));
  assert.equal(d.toString(), text + '  - stop: z\r\n');
  d.insertStep(['steps'], 2, shapes.stop('y'));
  assert.ok(d.toString().endsWith('  - stop: "y"\r\n'), 'a YAML 1.1 boolean is quoted');
});

test('on and off: enabled: false after the description, true in place', async () => {
  const { text } = seedFlows().find((s) => s.file === 'offboarding.yaml');
  const d = FlowDoc.parse(text);
  assert.equal(d.enabled, true);
  d.setEnabled(true);
  assert.equal(d.toString(), text, 'on without a key stays as is');
  d.setEnabled(false);
  assert.equal(d.enabled, false);
  assert.ok(d.toString().includes('  flows/README.md for the grants.\nenabled: false\ntrigger:\n'), d.toString());
  const { added, removed } = await changedLines(text, d.toString());
  assert.deepEqual([added, removed], [['enabled: false'], []]);
  d.setEnabled(true);
  assert.equal(d.enabled, true);
  assert.deepEqual((await changedLines(text, d.toString())).added, ['enabled: true']);
});

// The same edit on plain values, for comparing with what the text says.
function at(value, path) {
  return path.reduce((v, k) => (v === undefined || v === null ? undefined : v[k]), value);
}

test('every edit at every step of every seed matches the same edit on plain values', () => {
  const newStep = shapes.card('echo', { text: 'x' }, { id: 'fresh' });
  let edits = 0;
  for (const { file, text } of seedFlows()) {
    const all = allSteps(FlowDoc.parse(text).get([]));
    for (const { path } of all) {
      const list = path.slice(0, -1);
      const i = path[path.length - 1];
      const where = `${file} ${path.join('.')}`;
      const base = () => FlowDoc.parse(text);

      // Delete.
      let d = base();
      let want = structuredClone(d.get([]));
      at(want, list).splice(i, 1);
      d.deleteStep(path);
      assert.deepEqual(d.get([]), want, `delete ${where}`);
      assert.deepEqual(reparse(d.toString()), want);

      // Insert before it.
      d = base();
      want = structuredClone(d.get([]));
      at(want, list).splice(i, 0, newStep);
      d.insertStep(list, i, newStep);
      assert.deepEqual(d.get([]), want, `insert ${where}`);
      assert.deepEqual(commentLines(d.toString()), commentLines(text), where);

      // Move to the end of the top-level steps (unless it is a top-level step's ancestor).
      d = base();
      want = structuredClone(d.get([]));
      const [moved] = at(want, list).splice(i, 1);
      want.steps.push(moved);
      d.moveStep(path, ['steps'], d.steps().length);
      assert.deepEqual(d.get([]), want, `move ${where}`);
      assert.deepEqual(commentLines(d.toString()).sort(), commentLines(text).sort(), where);

      // Duplicate: the copy equals the original but for its ids.
      d = base();
      const copyPath = d.duplicateStep(path);
      const strip = (v) => JSON.parse(JSON.stringify(v, (k, x) => (k === 'id' ? undefined : x)));
      assert.deepEqual(strip(d.get(copyPath)), strip(d.get(path)), `duplicate ${where}`);
      const ids = allSteps(d.get([])).map((s) => s.step.id).filter(Boolean);
      assert.equal(new Set(ids).size, ids.length, `ids stay unique: ${where}`);
      edits += 4;
    }
  }
  assert.ok(edits > 100, `${edits} edits`);
});

test('quotes a value needed are dropped when it changes; quotes a developer chose stay', () => {
  const d = FlowDoc.parse('name: x\ndescription: x\ntrigger: manual\nsteps:\n  - id: "no"\n    if: "true"\n    then: []\n  - id: "chosen"\n    return: done\n');
  d.setStepField(['steps', 0], 'id', 'no_manager');
  d.setStepField(['steps', 0], 'if', 'manager.found');
  d.setStepField(['steps', 1], 'id', 'picked');
  const text = d.toString();
  assert.match(text, /- id: no_manager\n/);
  assert.match(text, /if: manager\.found\n/);
  assert.match(text, /- id: "picked"\n/);
});

test('a long one-line description is written as a folded block that reads back the same', () => {
  const d = FlowDoc.parse('name: x\ndescription: short\ntrigger: manual\nsteps: []\n');
  const long = 'When Okta creates a user, or a user joins a group, put them in the groups their department’s apps come from: Engineering gets GitHub and Jira.';
  d.setDescription(long);
  const text = d.toString();
  assert.match(text, /^description: >-\n  When Okta creates a user, /m);
  assert.ok(text.split('\n').every((l) => l.length <= 78), text);
  assert.equal(FlowDoc.parse(text).description, long);
  // Typing on: the same value again writes nothing new; a short one is a plain line.
  d.setDescription(long);
  assert.equal(d.toString(), text);
  d.setDescription('Short again.');
  assert.match(d.toString(), /^description: Short again\.\n/m);
});

test('a flow that keeps no step data says so under its description, and the key goes again', () => {
  const doc = FlowDoc.parse('name: A\ndescription: B\n# who\ntrigger: manual\nsteps:\n  - return: {}\n');
  assert.equal(doc.keepsStepData, true);
  doc.setKeepsStepData(false);
  assert.equal(doc.toString(), 'name: A\ndescription: B\nkeep_step_data: false\n# who\ntrigger: manual\nsteps:\n  - return: {}\n');
  assert.equal(doc.keepsStepData, false);
  doc.setKeepsStepData(true);
  assert.equal(doc.toString(), 'name: A\ndescription: B\n# who\ntrigger: manual\nsteps:\n  - return: {}\n');
});
