// The flow library's words and its import, with no page: what a library flow
// needs, said for an admin; the body that imports one (turned off); and why an
// import was refused, in words that say what to do. Pure, so it is unit-tested
// under node (tests/browser/unit/library.test.mjs).

import { FlowDoc } from './flowdoc.js';

/// What has to be set up before the flow can run, one entry each: tables
/// (read, written), connections, mail; `text` says where it is configured,
/// `short` is for the list.
export function needsWords(needs) {
  const out = [];
  for (const t of (needs && needs.tables) || []) {
    const how = t.read && t.write ? 'read and written' : t.write ? 'written' : 'read';
    out.push({ kind: 'table', name: t.name, text: `Table ${t.name} (${how})`, short: `table ${t.name}` });
  }
  for (const c of (needs && needs.connections) || []) {
    out.push({ kind: 'connection', name: c, text: `Connection ${c} ([connections.${c}] in lanyard.toml)`, short: `connection ${c}` });
  }
  if (needs && needs.mail) out.push({ kind: 'mail', name: 'mail', text: 'Email ([mail] in lanyard.toml)', short: 'email' });
  return out;
}

/// What starts the flow, in words, with the event types when Okta does.
export function triggerWords(trigger) {
  const t = trigger || {};
  const words = t.words || 'Not known: this daemon cannot load the flow';
  return t.kind === 'okta' && Array.isArray(t.event_types) && t.event_types.length ? `${words} (${t.event_types.join(', ')})` : words;
}

/// The `createFlow` body that imports `entry` (a library flow with its
/// `source`): turned off whatever the text says, so no live event reaches it
/// before the admin has tested it, in a file named as in the library.
export function importBody(entry) {
  const doc = FlowDoc.parse(entry.source);
  doc.setEnabled(false);
  return { source: doc.toString(), file: entry.file, note: `imported from the flow library (${entry.id})` };
}

/// Whether a flow of this name is loaded already (`flows`: the names).
export function alreadyThere(entry, flows) {
  return Boolean(entry.imported) || (Array.isArray(flows) && flows.includes(entry.name));
}

/// Why the daemon refused to import `entry`, for the admin: a second import
/// under the same name, a file of that name, flows that do not validate with
/// it, or anything else as the daemon said it. `loaded`: whether a flow of
/// the entry's name is loaded now (the daemon checks the file first, so a
/// second import of the same flow is refused as a file that exists).
export function refusal(err, entry, { loaded = false } = {}) {
  const message = (err && err.message) || 'the daemon refused it';
  if (err && err.code === 'exists') {
    if (loaded || message.includes('already loaded')) {
      return `You already have a flow named “${entry.name}”: it was imported before, or written by hand. Open it from the Flows page; to import a second copy, rename that one first.`;
    }
    return `Your flows folder already has a file named ${entry.file}. Rename or remove that file, then import again.`;
  }
  if (err && err.status === 422) {
    const diags = err.body && err.body.error && Array.isArray(err.body.error.diagnostics) ? err.body.error.diagnostics : [];
    const first = diags.map((d) => d && d.message).filter(Boolean);
    return `This daemon cannot load the flow: ${first.length ? first.join('; ') : message}`;
  }
  return `Not imported: ${message}`;
}
