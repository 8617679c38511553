// diagram.js: a step's inputs in words, picked values as chips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { byClass } from './fakedom.mjs';
import { assets } from './helpers.mjs';

const { readable, nodePath, paintFromSteps } = await import(join(assets, 'diagram.js'));
const { h } = await import(join(assets, 'dom.js'));

// What a person reads: text as written, each chip in brackets.
const read = (text) =>
  readable(text)
    .map((x) => (typeof x === 'string' ? x : byClass(h('p', null, x), 'dg-chip').length ? `[${x.textContent}]` : x.textContent))
    .join('');

test('picked values read as chips, with what stands in when they are empty', () => {
  assert.equal(read('Hi {{ user.profile.firstName }}!'), 'Hi [User › Profile › First name]!');
  assert.equal(read("{{ previous.value.department | default('?') }} → x"), '[Previous › Value › Department (or ?)] → x');
  assert.equal(read('{{ user.profile.title | default(none) }}'), '[User › Profile › Title (or nothing)]');
  assert.equal(read('{{ event.target[0].id }} at {{ now() }}, {{ add_days(now(), -3) }}'), '[Event › Target 1 › Id] at [Now], [3 days ago]');
  // Anything else stays as written.
  assert.equal(read("{{ a | join(', ') or 'none' }}"), "{{ a | join(', ') or 'none' }}");
});

test('a record lands on its node: iterations out, a page read on its loop', () => {
  assert.equal(nodePath('remove-groups[2]/remove'), 'remove-groups/remove');
  assert.equal(nodePath('sweep/pages[3]'), 'sweep');
  assert.equal(nodePath('outer[1]/sweep/pages[0]'), 'outer/sweep');
  assert.equal(nodePath('sweep[7]/pages'), 'sweep/pages', 'a step named pages inside a loop is its own node');
  const paint = paintFromSteps([{ path: 'sweep/pages[0]' }, { path: 'sweep/pages[1]', error: { message: 'x' } }, { path: 'sweep' }]);
  assert.equal(paint.get('sweep').status, 'failed');
  assert.equal(paint.get('sweep').count, 3);
});
