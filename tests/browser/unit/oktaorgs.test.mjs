// oktaorgs.js: which org a trigger or card step may choose, in an admin's words.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { byTag } from './fakedom.mjs';
import { assets } from './helpers.mjs';

const { callsOkta, choosesOrg, defaultOrg, flowOrg, orgSelect, orgWhat, stepOrgChoices, triggerOrgChoices } = await import(join(assets, 'oktaorgs.js'));

// As GET /api/v1/okta/orgs answers (orgs.rs OrgView).
const SANDBOX = { name: 'default', kind: 'sandbox', url: null, default: true, hook_path: '/hooks/okta' };
const PREVIEW = { name: 'preview', kind: 'org', url: 'https://acme.oktapreview.com', default: false, hook_path: '/hooks/okta/preview' };
const PROD = { name: 'prod', kind: 'org', url: 'https://acme.okta.com', default: false, hook_path: '/hooks/okta/prod' };
const EVENTS = { name: 'audit', kind: 'events-only', url: null, default: false, hook_path: '/hooks/okta/audit' };

const plain = (choices) => choices.map((c) => [c.value, c.label, Boolean(c.selected)]);

test('one org, or none, is no choice: nothing to show', () => {
  for (const orgs of [[], [SANDBOX], [PROD], undefined]) {
    assert.equal(choosesOrg(orgs), false);
    assert.equal(triggerOrgChoices(orgs, null), null);
    assert.equal(triggerOrgChoices(orgs, 'prod'), null);
    assert.equal(stepOrgChoices(orgs, null, 'default'), null);
  }
  assert.equal(choosesOrg([SANDBOX, PREVIEW]), true);
});

test('what each org is, as the Flows page words it', () => {
  assert.deepEqual([SANDBOX, PROD, EVENTS, { name: 'x', kind: 'injected', url: null }].map(orgWhat), [
    'the embedded sandbox org',
    'https://acme.okta.com',
    'events only, no API access',
    'an Okta org',
  ]);
});

test('a trigger with no org shows the default org chosen; a named org is chosen; one not configured is shown as such', () => {
  const orgs = [SANDBOX, PREVIEW];
  assert.deepEqual(plain(triggerOrgChoices(orgs, null)), [
    ['default', 'default — the embedded sandbox org', true],
    ['preview', 'preview — https://acme.oktapreview.com', false],
  ]);
  assert.deepEqual(plain(triggerOrgChoices(orgs, 'preview')).map((c) => c[2]), [false, true]);
  assert.deepEqual(plain(triggerOrgChoices(orgs, 'staging')).at(-1), ['staging', 'staging — not configured in lanyard.toml', true]);
});

test('several orgs and no default: the trigger must be chosen, and the placeholder cannot be chosen back', () => {
  const choices = triggerOrgChoices([PROD, PREVIEW], null);
  assert.deepEqual(choices[0], { value: '', label: 'Choose the org whose events start it…', selected: true, disabled: true });
  assert.deepEqual(choices.slice(1).map((c) => [c.value, c.selected]), [['prod', false], ['preview', false]]);
  assert.equal(defaultOrg([PROD, PREVIEW]), null);
});

test('a step offers the flow\'s org first (no key), then each org', () => {
  const orgs = [SANDBOX, PREVIEW];
  const trigger = { kind: 'okta', event_types: ['user.lifecycle.deactivate'], org: 'preview' };
  assert.equal(flowOrg(trigger, orgs), 'preview');
  assert.deepEqual(plain(stepOrgChoices(orgs, null, flowOrg(trigger, orgs))), [
    ['', 'The flow’s org (preview)', true],
    ['default', 'default — the embedded sandbox org', false],
    ['preview', 'preview — https://acme.oktapreview.com', false],
  ]);
  assert.deepEqual(plain(stepOrgChoices(orgs, 'default', 'preview')).map((c) => c[2]), [false, true, false]);
  // An Okta trigger without org:, a schedule, a helper: the default org.
  assert.equal(flowOrg({ kind: 'okta', event_types: ['x'] }, orgs), 'default');
  assert.equal(flowOrg({ kind: 'schedule', cron: '0 9 * * *', timezone: 'UTC' }, orgs), 'default');
  // No default and no Okta trigger: the step has to name one.
  assert.equal(flowOrg({ kind: 'flow', inputs: [] }, [PROD, PREVIEW]), null);
  assert.equal(stepOrgChoices([PROD, PREVIEW], null, null)[0].label, 'The flow’s org (none: choose one)');
});

test('the cards that take an org: okta.* and any card that asks for Okta scopes', () => {
  assert.equal(callsOkta('okta.suspend', undefined), true);
  assert.equal(callsOkta('okta.find-users', { requested: { okta: ['okta.users.read'] } }), true);
  assert.equal(callsOkta('acme.mirror', { requested: { okta: ['okta.users.manage'], connections: [] } }), true);
  assert.equal(callsOkta('acme.audit', { requested: { okta: [], okta_api: ['okta.logs.read'] } }), true);
  assert.equal(callsOkta('slack.post', { requested: { okta: [], connections: ['*'] } }), false);
  assert.equal(callsOkta('acme.jamf-offboard', undefined), false);
  assert.equal(callsOkta('', null), false);
});

test('the select is labelled "Okta org", says what it is for, and hands back the chosen name', () => {
  const chosen = [];
  const el = orgSelect({ id: 'step-org', help: 'The Okta org this card reads and changes.', choices: stepOrgChoices([SANDBOX, PREVIEW], null, 'preview'), onChoose: (v) => chosen.push(v) });
  const [label] = byTag(el, 'label');
  const [select] = byTag(el, 'select');
  assert.equal(label.textContent, 'Okta org');
  assert.equal(label.getAttribute('for'), 'step-org');
  assert.equal(select.id, 'step-org');
  assert.equal(select.getAttribute('aria-describedby'), 'step-org-help');
  assert.equal(byTag(el, 'p')[0].textContent, 'The Okta org this card reads and changes.');
  const options = byTag(select, 'option');
  assert.deepEqual(options.map((o) => [o.getAttribute('value'), o.hasAttribute('selected')]), [['', true], ['default', false], ['preview', false]]);
  select.value = 'default';
  select.dispatchEvent(new Event('change'));
  select.value = '';
  select.dispatchEvent(new Event('change'));
  assert.deepEqual(chosen, ['default', '']);
  // The placeholder of a trigger with no default is disabled.
  const t = orgSelect({ id: 'trigger-org', choices: triggerOrgChoices([PROD, PREVIEW], null), onChoose: () => {} });
  assert.equal(byTag(t, 'option')[0].hasAttribute('disabled'), true);
  assert.equal(byTag(t, 'p').length, 0, 'no help, no empty paragraph');
  assert.equal(byTag(t, 'label')[0].getAttribute('class'), 'sf-label');
  // Under a heading that says it, the label is for screen readers only.
  const under = orgSelect({ id: 'new-org', choices: triggerOrgChoices([PROD, PREVIEW], null), onChoose: () => {}, hiddenLabel: true });
  assert.deepEqual([byTag(under, 'label')[0].textContent, byTag(under, 'label')[0].getAttribute('class')], ['Okta org', 'visually-hidden']);
});
