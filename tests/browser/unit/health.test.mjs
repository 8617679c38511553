// health.js: what every page says about the daemon, from GET /readyz.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import './fakedom.mjs';
import { assets } from './helpers.mjs';

const { healthWords } = await import(join(assets, 'health.js'));

test('the daemon gone, its store failing, not ready, and well', () => {
  assert.equal(healthWords({ reachable: false }).title, 'The lanyard daemon cannot be reached');
  // As readyz answers with a full disk (host/lanyard/tests/disk_full.rs).
  const full = healthWords({
    reachable: true,
    ready: false,
    reason: 'the store cannot write since 2026-12-06T10:00:00Z: No space left on device (os error 28)',
    store: { state: 'failing', since: '2026-12-06T10:00:00Z', error: 'No space left on device (os error 28)', attempts: 3 },
  });
  assert.equal(full.title, 'The daemon’s store cannot write');
  assert.ok(full.text.startsWith('The store cannot write since 2026-12-06T10:00:00Z: No space left on device'), full.text);
  assert.ok(full.text.includes('nothing already accepted is lost'));
  const loading = healthWords({ reachable: true, ready: false, reason: 'loading cards and flows', store: { state: 'writable' } });
  assert.equal(loading.title, 'The daemon is not ready');
  assert.ok(loading.text.startsWith('Loading cards and flows.'));
  assert.equal(healthWords({ reachable: true, ready: true, reason: null, store: { state: 'writable' } }), null);
});
