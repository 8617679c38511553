// The condition rows: what the builder writes, it reads back; anything else
// stays an expression.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { assets } from './helpers.mjs';

const { joinConditions, parseConditions } = await import(join(assets, 'conditions.js'));

test('several clauses joined by and are written and read back', () => {
  const state = {
    join: 'and',
    clauses: [
      { left: 'factors.enrolled', op: 'unset', right: '' },
      { left: 'reminded.found', op: 'unset', right: '' },
      { left: 'days_since(u.created)', op: 'gt', right: '3' },
    ],
  };
  const text = joinConditions(state);
  assert.equal(text, 'not factors.enrolled and not reminded.found and days_since(u.created) > 3');
  assert.deepEqual(parseConditions(text), state);
});

test('any of: or, with a quoted value that holds the word and', () => {
  const text = 'user.profile.department == "Research and Development" or user.profile.title != "CEO"';
  assert.deepEqual(parseConditions(text), {
    join: 'or',
    clauses: [
      { left: 'user.profile.department', op: 'eq', right: 'Research and Development' },
      { left: 'user.profile.title', op: 'ne', right: 'CEO' },
    ],
  });
});

test('a list position and a contains are rows', () => {
  assert.deepEqual(parseConditions('event.target[0].type == "User"').clauses, [{ left: 'event.target[0].type', op: 'eq', right: 'User' }]);
  assert.deepEqual(parseConditions('"Sales" in user.profile.department').clauses, [{ left: 'user.profile.department', op: 'contains', right: 'Sales' }]);
});

test('mixed and/or, filters and calls stay expressions', () => {
  assert.equal(parseConditions('a and b or c'), null);
  assert.equal(parseConditions('(x | default("")) == "y"'), null);
  assert.equal(parseConditions('"title" in (event.debugContext.debugData.changedAttributes | default("")).split(",")'), null);
});

test('an empty condition has no rows', () => {
  assert.deepEqual(parseConditions(''), { join: 'and', clauses: [] });
});
