// librarywords.js: what the flow library says about a flow, the body that
// imports one, and why an import was refused.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { assets, repo, changedLines } from './helpers.mjs';

const { needsWords, triggerWords, importBody, alreadyThere, refusal } = await import(join(assets, 'librarywords.js'));
const { parseDocument } = await import(join(assets, 'vendor', 'yaml.js'));

const library = join(repo, 'flows', 'library');
const files = readdirSync(library).filter((f) => f.endsWith('.yaml')).sort();

function entryOf(file) {
  return { id: file.replace(/\.yaml$/, ''), file, name: `Flow ${file}`, source: readFileSync(join(library, file), 'utf8') };
}

test('the library has the twelve flows', () => {
  assert.equal(files.length, 12, files.join(', '));
});

test('an import is the library text, off, in a file named as in the library', async () => {
  for (const file of files) {
    const entry = entryOf(file);
    const body = importBody(entry);
    assert.equal(body.file, file);
    assert.match(body.note, /flow library/);
    // Already off: the text goes as it is, comments and all.
    assert.equal(body.source, entry.source, file);
    assert.equal(parseDocument(body.source).toJS().enabled, false, file);
  }
});

test('a library text that is on is turned off, and only that line changes', async () => {
  const entry = entryOf(files[0]);
  const on = { ...entry, source: entry.source.replace('enabled: false\n', '') };
  assert.notEqual(on.source, entry.source);
  const body = importBody(on);
  assert.equal(parseDocument(body.source).toJS().enabled, false);
  const { added, removed } = await changedLines(on.source, body.source);
  assert.deepEqual(added, ['enabled: false']);
  assert.deepEqual(removed, []);
});

test('needs in words: tables read or written, connections, mail', () => {
  const words = needsWords({
    tables: [
      { name: 'stale-accounts', read: true, write: true },
      { name: 'file-transfers', read: false, write: true },
      { name: 'reviewed-apps', read: true, write: false },
    ],
    connections: ['it-slack'],
    mail: true,
  }).map((n) => n.text);
  assert.deepEqual(words, [
    'Table stale-accounts (read and written)',
    'Table file-transfers (written)',
    'Table reviewed-apps (read)',
    'Connection it-slack ([connections.it-slack] in lanyard.toml)',
    'Email ([mail] in lanyard.toml)',
  ]);
  assert.deepEqual(
    needsWords({ tables: [{ name: 'stale-accounts', read: true, write: true }], connections: ['it-slack'], mail: true }).map((n) => n.short),
    ['table stale-accounts', 'connection it-slack', 'email'],
  );
  assert.deepEqual(needsWords({ tables: [], connections: [], mail: false }), []);
  assert.deepEqual(needsWords(undefined), []);
});

test('what starts it: the words, with the Okta event types', () => {
  assert.equal(triggerWords({ kind: 'okta', words: 'When a user is added to a group', event_types: ['group.user_membership.add'] }), 'When a user is added to a group (group.user_membership.add)');
  assert.equal(triggerWords({ kind: 'schedule', words: 'Every day at 07:00 (America/New_York)', event_types: [] }), 'Every day at 07:00 (America/New_York)');
  assert.match(triggerWords({}), /cannot load/);
});

test('already there: by the daemon’s word, or by the loaded names', () => {
  const e = { name: 'Stale Accounts', imported: false };
  assert.equal(alreadyThere(e, ['Other']), false);
  assert.equal(alreadyThere(e, ['Stale Accounts']), true);
  assert.equal(alreadyThere({ ...e, imported: true }, []), true);
});

test('refusals say what to do', () => {
  const e = { name: 'Stale Accounts', file: 'stale-accounts.yaml' };
  const named = refusal({ status: 409, code: 'exists', message: 'a flow named `Stale Accounts` is already loaded' }, e);
  assert.match(named, /^You already have a flow named “Stale Accounts”/);
  assert.match(named, /Open it from the Flows page/);
  const file = refusal({ status: 409, code: 'exists', message: 'stale-accounts.yaml already exists; save it instead' }, e);
  assert.match(file, /already has a file named stale-accounts\.yaml/);
  // The same file, holding the flow of that name: it is this flow, imported before.
  const again = refusal({ status: 409, code: 'exists', message: 'stale-accounts.yaml already exists; save it instead' }, e, { loaded: true });
  assert.equal(again, named);
  const invalid = refusal({ status: 422, code: 'invalid', message: 'the flows do not validate', body: { error: { diagnostics: [{ message: 'unknown card `okta.unassign-app`' }] } } }, e);
  assert.equal(invalid, 'This daemon cannot load the flow: unknown card `okta.unassign-app`');
  assert.equal(refusal({ status: 0, code: 'unreachable', message: 'cannot reach the lanyard daemon (is it running?)' }, e), 'Not imported: cannot reach the lanyard daemon (is it running?)');
});
