// dom.js: a description's `code` spans as code, the rest as plain text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import './fakedom.mjs';
import { assets } from './helpers.mjs';

const { h, inline } = await import(join(assets, 'dom.js'));

test('code spans become code; nothing else is markup', () => {
  const p = h('p', null, inline('Output: `outcome` and `ts`; <b>not bold</b>, a lone ` stays.'));
  assert.equal(p.textContent, 'Output: outcome and ts; <b>not bold</b>, a lone ` stays.');
  const codes = p.childNodes.filter((c) => c.tagName === 'CODE' || c.tagName === 'code');
  assert.deepEqual(codes.map((c) => c.textContent), ['outcome', 'ts']);
  assert.deepEqual(inline(''), []);
  assert.deepEqual(inline(null), []);
});
