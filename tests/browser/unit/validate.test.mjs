// What the builder writes is valid in the flow language: the daemon's own
// validator (`lanyard validate`, the diagnostics save uses) reports no error
// and no warning other than uncheckable custom cards.
//
// LANYARD_BIN names the lanyard binary; the cargo test that runs these unit
// tests sets it. Without it this test is skipped and says so.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builderFlows } from './builder-flows.mjs';

const bin = process.env.LANYARD_BIN;

test('every flow the builder writes passes lanyard validate', { skip: bin ? false : 'set LANYARD_BIN to the lanyard binary to run this' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'lanyard-builder-'));
  try {
    const flows = builderFlows();
    for (const [file, text] of Object.entries(flows)) writeFileSync(join(dir, file), text);
    let out;
    try {
      out = execFileSync(bin, ['validate', '--format', 'json', dir], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      assert.fail(`lanyard validate failed (${e.status}):\n${e.stdout}\n${e.stderr}`);
    }
    const result = JSON.parse(out);
    assert.equal(result.ok, true, out);
    assert.equal(result.flows.length, Object.keys(flows).length, out);
    assert.deepEqual(result.unreadable, [], out);
    // The one custom card of the seeds (acme.jamf-offboard) cannot be checked without a registry.
    assert.deepEqual(result.diagnostics.filter((d) => d.code !== 'unknown-card'), [], out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
