// run.js: a big run's steps by loop iteration, and found by text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import './fakedom.mjs';
import { assets } from './helpers.mjs';

const { buildTree, iterations, findInTree } = await import(join(assets, 'run.js'));

const step = (path, seq, extra = {}) => ({ path, seq, kind: 'card', card: 'okta.list-factors@0.1.0', input: {}, output: {}, ...extra });

test('a loop groups its steps by iteration, and a search keeps what holds the match', () => {
  const steps = [
    step('users', 0),
    step('check', 1, { kind: 'for_each' }),
    step('check/factors[0]', 2, { input: { user: 'ada@acme.example' } }),
    step('check/reminded[0]', 3),
    step('check/factors[1]', 4, { input: { user: 'grace@acme.example' } }),
    step('check/reminded[1]', 5, { output: { found: true, value: { login: 'grace@acme.example' } } }),
    step('done', 6, { kind: 'return' }),
  ];
  const tree = buildTree(steps);
  assert.deepEqual(tree.map((n) => n.name), ['users', 'check', 'done']);
  const groups = iterations(tree[1].children);
  assert.deepEqual(groups.map(([i, kids]) => [i, kids.map((k) => k.name)]), [[0, ['factors[0]', 'reminded[0]']], [1, ['factors[1]', 'reminded[1]']]]);

  const found = findInTree(tree, 'grace@');
  assert.deepEqual(found.map((n) => n.name), ['check']);
  assert.deepEqual(found[0].children.map((n) => [n.name, n.found]), [['factors[1]', true], ['reminded[1]', true]]);
  assert.equal(found[0].found, false, 'the loop holds the match');
  assert.deepEqual(findInTree(tree, 'nobody'), []);
  assert.equal(tree[1].children.length, 4, 'the full tree stays');
});

test('a loop over pages groups its page reads apart from its items', () => {
  const steps = [
    step('sweep', 0, { kind: 'for_each', input: { card: 'okta.find-users@0.1.0', concurrency: 4 }, output: { count: 3, pages: 2 } }),
    step('sweep/pages[0]', 1, { card: 'okta.find-users@0.1.0' }),
    step('sweep[0]/if-1', 2, { kind: 'if' }),
    step('sweep[1]/if-1', 3, { kind: 'if' }),
    step('sweep/pages[1]', 4, { card: 'okta.find-users@0.1.0' }),
    step('sweep[2]/if-1', 5, { kind: 'if' }),
  ];
  const tree = buildTree(steps);
  assert.deepEqual(tree.map((n) => n.name), ['sweep']);
  const groups = iterations(tree[0].children);
  assert.deepEqual(
    groups.map(([i, kids]) => [i, kids.map((k) => k.name)]),
    [[-1, ['pages[0]', 'pages[1]']], [0, ['[0]/if-1']], [1, ['[1]/if-1']], [2, ['[2]/if-1']]],
  );
});
