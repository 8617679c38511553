// undo.js: bounded undo/redo over texts, typing coalesced per field.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { assets } from './helpers.mjs';

const { History } = await import(join(assets, 'undo.js'));

function clock() {
  let t = 0;
  const now = () => t;
  now.advance = (ms) => (t += ms);
  return now;
}

test('undo and redo walk the texts; a new edit drops the redo branch', () => {
  const h = new History('a', { now: clock() });
  assert.equal(h.canUndo, false);
  assert.equal(h.undo(), null);
  h.push('b');
  h.push('c');
  assert.equal(h.push('c'), false, 'the same text is no edit');
  assert.equal(h.undo(), 'b');
  assert.equal(h.undo(), 'a');
  assert.equal(h.undo(), null);
  assert.equal(h.redo(), 'b');
  assert.equal(h.canRedo, true);
  h.push('d');
  assert.equal(h.canRedo, false);
  assert.equal(h.redo(), null);
  assert.equal(h.undo(), 'b');
  assert.equal(h.undo(), 'a');
});

test('typing in one field is one entry per pause', () => {
  const now = clock();
  const h = new History('', { now, coalesceMs: 1000 });
  for (const t of ['H', 'He', 'Hel', 'Hell', 'Hello']) {
    now.advance(100);
    h.push(t, { field: 'name' });
  }
  now.advance(100);
  h.push('Hello!', { field: 'description' });
  now.advance(5000);
  h.push('Hello!!', { field: 'description' });
  assert.equal(h.undo(), 'Hello!');
  assert.equal(h.undo(), 'Hello');
  assert.equal(h.undo(), '');
  // A structural edit between two runs of typing splits them.
  h.redo();
  h.redo();
  h.redo();
  h.push('x', { field: 'name' });
  h.push('xy');
  h.push('xyz', { field: 'name' });
  assert.equal(h.undo(), 'xy');
  // seal() ends a run even within the window.
  const g = new History('', { now: clock() });
  g.push('a', { field: 'f' });
  g.push('ab', { field: 'f' });
  g.seal();
  g.push('abc', { field: 'f' });
  assert.equal(g.undo(), 'ab');
  assert.equal(g.undo(), '');
});

test('the history is bounded by entries and by characters', () => {
  const h = new History('0', { limit: 5, now: clock() });
  for (let i = 1; i <= 20; i++) h.push(String(i));
  assert.equal(h.entries.length, 5);
  const seen = [];
  for (let t = h.undo(); t !== null; t = h.undo()) seen.push(t);
  assert.deepEqual(seen, ['19', '18', '17', '16']);

  const big = new History('', { maxChars: 1000, now: clock() });
  for (let i = 0; i < 50; i++) big.push('x'.repeat(100) + i);
  assert.ok(big.entries.reduce((n, e) => n + e.text.length, 0) <= 1000);
  assert.equal(big.current, 'x'.repeat(100) + 49);
  // A single text over the bound is still kept: it is the current one.
  big.push('y'.repeat(5000));
  assert.equal(big.current.length, 5000);
});

test('dirty follows the saved text through undo and redo', () => {
  const h = new History('a', { now: clock() });
  assert.equal(h.dirty, false);
  h.push('b');
  assert.equal(h.dirty, true);
  h.markSaved();
  assert.equal(h.dirty, false);
  h.undo();
  assert.equal(h.dirty, true);
  h.redo();
  assert.equal(h.dirty, false);
  // Typing right after a save starts a new entry, so undo returns to the saved text.
  h.push('bc', { field: 'f' });
  h.push('bcd', { field: 'f' });
  assert.equal(h.undo(), 'b');
  assert.equal(h.dirty, false);
  h.reset('z');
  assert.equal(h.current, 'z');
  assert.equal(h.canUndo, false);
  assert.equal(h.dirty, false);
});
