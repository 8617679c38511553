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
import { builderFlows, twoOrgFlows, TWO_ORGS_CONFIG } from './builder-flows.mjs';

const bin = process.env.LANYARD_BIN;
const skip = bin ? false : 'set LANYARD_BIN to the lanyard binary to run this';

// `lanyard validate` on `flows` in a folder of their own (with `config` as
// its ./lanyard.toml when given): no error, no warning but unchecked cards.
function validates(flows, config = null) {
  const dir = mkdtempSync(join(tmpdir(), 'lanyard-builder-'));
  try {
    if (config) writeFileSync(join(dir, 'lanyard.toml'), config);
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
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('every flow the builder writes passes lanyard validate', { skip }, () => {
  validates(builderFlows());
});

test('flows given Okta orgs in the builder pass lanyard validate against a daemon with two orgs', { skip }, () => {
  const flows = twoOrgFlows();
  assert.ok(Object.keys(flows).length >= 5, 'the seeds with an Okta trigger, and two built flows');
  // Built-in cards compiled once per machine, not once per run in a fresh folder.
  const cache = `[server]\ncache_dir = ${JSON.stringify(join(tmpdir(), 'lanyard-validate-card-cache'))}\n\n`;
  validates(flows, cache + TWO_ORGS_CONFIG);
  // The same files name an org a one-org daemon does not have: the check is real.
  assert.throws(() => validates({ 'preview-leavers.yaml': flows['preview-leavers.yaml'] }), /"code":\s*"unknown-org"/);
});
