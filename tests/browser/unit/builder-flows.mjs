// Flow files as the builder writes them: each seed flow edited through
// flowdoc.js (a step added with a retry and an on_error handler, an input
// changed, a step duplicated, moved and deleted, the name changed), and flows
// built from nothing with every step shape and every kind of trigger, and
// flows given Okta orgs for a daemon with two. The unit tests check them with
// the daemon's own validator.
//
//   node tests/browser/unit/builder-flows.mjs <output dir>

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { assets, seedFlows } from './helpers.mjs';

const { FlowDoc, shapes, expr, retry } = await import(join(assets, 'flowdoc.js'));

function empty(name, description) {
  return FlowDoc.parse(`name: ${name}\ndescription: ${description}\ntrigger: manual\nsteps: []\n`);
}

/// `{ file: text }` of every builder-written flow.
export function builderFlows() {
  const out = {};
  for (const { file, text } of seedFlows()) {
    const d = FlowDoc.parse(text);
    d.insertStep(['steps'], 1, shapes.card('slack.post', { connection: 'it-slack', channel: '#it-ops', text: 'Started {{ flow.name }} ({{ flow.run_id }})' }, { id: 'hello' }));
    d.setStepField(['steps', 1], 'retry', retry(3, '2s'));
    d.insertStep(['steps', 1, 'on_error'], 0, shapes.stop('could not say hello: {{ error.message }}'));
    // The first step with inputs (the MFA sweep's only card is inside its loop).
    const i = d.steps().findIndex((st) => st.with && typeof st.with === 'object');
    if (i >= 0) d.setInput(['steps', i], Object.keys(d.get(['steps', i, 'with']))[0], expr('event.target[0].id'));
    d.duplicateStep(['steps', 1]);
    d.moveStep(['steps', 2], ['steps'], d.steps().length - 1);
    d.deleteStep(['steps', d.steps().length - 2]);
    d.setName(`${d.name} (edited)`);
    out[`edited-${file}`] = d.toString();
  }

  const d = empty('All shapes', 'Every step shape the builder writes.');
  d.setTrigger({ kind: 'okta', event_types: ['user.lifecycle.create', 'group.user_membership.add'], filter: 'event.target[0].type == "User"' });
  const steps = [
    shapes.card('okta.get-user', { user: expr('event.target[0].id') }, { id: 'user', description: 'Who.' }),
    shapes.if('user.profile.department == "Sales"', { then: [shapes.card('okta.add-to-group', { user: expr('user.id'), group: 'Sales' })], else: [] }),
    shapes.switch('user.profile.department', ['Engineering', 'Sales'], { id: 'dept' }),
    shapes.card('okta.list-user-groups', { user: expr('user.id') }, { id: 'groups' }),
    shapes.forEach(expr('groups.items'), 'group', { concurrency: 4, id: 'each', steps: [shapes.card('okta.remove-from-group', { user: expr('user.id'), group: expr('group.id') })] }),
    shapes.assign({ count: expr('groups.items | length'), note: 'yes' }),
    shapes.card('mail.send', { to: expr('user.profile.email'), subject: 'Hi', text: 'Hello {{ user.profile.firstName }},\n\nWelcome.' }, { id: 'mail', retry: retry(3, '2s', '1m'), timeout: '10s' }),
    shapes.if('vars.count > 3', { then: [shapes.stop('too many')] }),
    shapes.if('not user.profile.managerId', { then: [shapes.fail('no manager for {{ user.profile.login }}')] }),
    shapes.return({ ok: true, login: expr('user.profile.login') }),
  ];
  for (const s of steps) d.insertStep(['steps'], undefined, s);
  d.insertStep(['steps', 2, 'cases', 'Sales'], 0, shapes.stop('sales'));
  d.insertStep(['steps', 0, 'on_error'], 0, shapes.fail('cannot read the user: {{ error.message }}'));
  d.insertStep(['on_failure'], 0, shapes.card('slack.post', { connection: 'it-slack', channel: '#it-ops', text: 'failed: {{ error.message }}' }));
  out['all-shapes.yaml'] = d.toString();

  const helper = empty('Helper', 'A helper flow.');
  helper.setTrigger({ kind: 'flow', inputs: [{ name: 'email', type: 'string', required: true, description: 'who' }, { name: 'subject', type: 'string', default: 'A note' }] });
  helper.insertStep(['steps'], 0, shapes.return({ sent: expr('inputs.email') }));
  out['helper.yaml'] = helper.toString();

  const caller = empty('Caller', 'Calls the helper every weekday.');
  caller.setTrigger({ kind: 'schedule', cron: '0 9 * * 1-5', timezone: 'America/New_York', catch_up: 'once' });
  caller.insertStep(['steps'], 0, shapes.call('Helper', { email: 'a@example.com' }, { id: 'sent' }));
  caller.insertStep(['steps'], 1, shapes.call('Helper', { email: 'b@example.com' }, { id: 'started' }));
  // The call form's "Wait for it to finish" unticked.
  caller.setStepField(['steps', 1], 'wait', false);
  caller.insertStep(['steps'], 2, shapes.stop('{{ sent.sent }} and run {{ started.run_id }}'));
  out['caller.yaml'] = caller.toString();

  const api = empty('Api', 'Answers an API call.');
  api.setTrigger({ kind: 'api', sync_timeout: '10s' });
  api.insertStep(['steps'], 0, shapes.return({ got: expr('event') }));
  out['api.yaml'] = api.toString();

  const manual = empty('Manual', 'Run by hand.');
  manual.setDescription('Run by hand.\n\nTwo paragraphs: written as a block.');
  manual.insertStep(['steps'], 0, shapes.assign({ when: expr('now()') }));
  out['manual.yaml'] = manual.toString();

  // Waits of each kind, as the wait form writes them, and an answer's timeout handled.
  const waits = empty('Waits', 'Waits for a while, until a date, and for an answer.');
  waits.setTrigger({ kind: 'okta', event_types: ['user.lifecycle.create'] });
  waits.insertStep(['steps'], 0, shapes.card('okta.get-user', { user: expr('event.target[0].id') }, { id: 'user' }));
  waits.insertStep(['steps'], 1, shapes.wait({ for: '1d' }, { id: 'wait' }));
  waits.insertStep(['steps'], 2, shapes.wait({ until: "{{ add_time(user.created, 3, 'days') }}" }, { id: 'wait_2' }));
  waits.insertStep(['steps'], 3, shapes.wait({ signal: 'approval', choices: ['approve', 'reject'], timeout: '2d' }, { id: 'approval' }));
  waits.insertStep(['steps', 3, 'on_error'], 0, shapes.stop('no answer: {{ error.message }}'));
  waits.insertStep(['steps'], 4, shapes.if("approval.choice == 'approve'", { then: [shapes.card('okta.add-to-group', { user: expr('user.id'), group: 'Approved' })] }));
  out['waits.yaml'] = waits.toString();

  // A loop that collects a value per item and keeps totals, as the loop form writes them.
  const totals = empty('Totals', 'Counts the groups and lists their names.');
  totals.setTrigger({ kind: 'okta', event_types: ['user.lifecycle.deactivate'] });
  totals.insertStep(['steps'], 0, shapes.card('okta.list-user-groups', { user: expr('event.target[0].id') }, { id: 'groups' }));
  totals.insertStep(['steps'], 1, shapes.forEach(expr('groups.items'), 'group', { id: 'each', steps: [shapes.card('okta.remove-from-group', { user: expr('event.target[0].id'), group: expr('group.id') }, { id: 'removed' })] }));
  totals.setStepField(['steps', 1], 'collect', '{{ group.profile.name }}');
  totals.setStepField(['steps', 1], 'reduce', { total: { start: 0, each: '{{ acc + 1 }}' } });
  totals.setStepField(['steps', 1, 'reduce'], 'names', { start: '', each: "{{ acc ~ group.profile.name ~ ' ' }}" });
  totals.insertStep(['steps'], 2, shapes.return({ removed: expr('each'), total: expr('vars.total'), names: expr('vars.names') }));
  out['totals.yaml'] = totals.toString();
  return out;
}

/// A daemon with two Okta orgs (`lanyard.toml` for `lanyard validate`).
export const TWO_ORGS_CONFIG = '[okta.orgs.default]\nsandbox = true\n\n[okta.orgs.preview]\nsandbox = true\n';

/// `{ file: text }` of flows whose trigger and card steps the builder gave
/// an org (for a daemon with TWO_ORGS_CONFIG): the seeds with an Okta
/// trigger moved to preview and their first Okta card kept in the default
/// org, and flows built from nothing.
export function twoOrgFlows() {
  const out = {};
  for (const { file, text } of seedFlows()) {
    const d = FlowDoc.parse(text);
    if (d.trigger().kind !== 'okta') continue;
    d.setTriggerOrg('preview');
    const i = d.steps().findIndex((st) => typeof st.card === 'string' && st.card.startsWith('okta.'));
    if (i >= 0) d.setStepField(['steps', i], 'org', 'default');
    d.setName(`${d.name} (preview)`);
    out[`preview-${file}`] = d.toString();
  }

  const d = empty('Preview leavers', 'A user deactivated in preview is suspended in the default org.');
  d.setTrigger({ kind: 'okta', event_types: ['user.lifecycle.deactivate'] });
  d.setTriggerOrg('preview');
  d.insertStep(['steps'], undefined, shapes.card('okta.suspend', { user: expr('event.target[0].alternateId') }, { id: 'suspend' }));
  d.setStepField(['steps', 0], 'org', 'default');
  d.insertStep(['steps'], undefined, { id: 'each', for_each: { card: 'okta.find-users', with: { status: 'SUSPENDED' } }, as: 'u', steps: [] });
  d.setStepField(['steps', 1, 'for_each'], 'org', 'default');
  d.insertStep(['steps', 1, 'steps'], 0, shapes.card('okta.get-user', { user: expr('u.id') }));
  out['preview-leavers.yaml'] = d.toString();

  // A schedule has no org: its Okta card names one, or uses the default.
  const s = empty('Preview sweep', 'Every morning, read the preview org.');
  s.setTrigger({ kind: 'schedule', cron: '0 9 * * *', timezone: 'UTC' });
  s.insertStep(['steps'], 0, shapes.card('okta.find-users', { status: 'ACTIVE' }, { id: 'found' }));
  s.setStepField(['steps', 0], 'org', 'preview');
  out['preview-sweep.yaml'] = s.toString();
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] || '').href) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node tests/browser/unit/builder-flows.mjs <output dir>');
    process.exit(2);
  }
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(builderFlows())) writeFileSync(join(dir, file), text);
  const two = join(dir, 'two-orgs');
  mkdirSync(two, { recursive: true });
  writeFileSync(join(two, 'lanyard.toml'), TWO_ORGS_CONFIG);
  for (const [file, text] of Object.entries(twoOrgFlows())) writeFileSync(join(two, file), text);
}
