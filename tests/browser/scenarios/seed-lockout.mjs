// Use case 4 built in the browser from an empty flows folder: when Okta
// locks a user out, email their manager, or tell IT in Slack when they have
// none. Clicking and typing only names, descriptions, message texts and
// values; the Rust test (`built::lockout_built_in_the_browser`) checks the
// outcomes with the shipped flow's own test.
//
// `t.data`: { flow }.

import { addStep, start, compose, field, newFlow, pick, saveAndTurnOn } from '../builder-kit.mjs';

export default async function (t) {
  const { page, a } = await start(t);

  await newFlow(a, t, {
    name: t.data.flow,
    description: "When Okta locks a user out, email their manager so a real person checks it was them. Without a manager, IT hears of it in Slack.",
    events: [['locked', 'user.account.lock']],
  });

  // Who was locked out, and their manager.
  await addStep(a, { list: ['steps'], search: 'get user', card: 'okta.get-user', id: 'user' });
  await pick(a, 'user', 'target id', '{{ event.target[0].id }}');
  await addStep(a, { list: ['steps'], index: 1, search: 'manager', card: 'okta.get-manager', id: 'manager' });

  // If they have one: an email.
  await addStep(a, { list: ['steps'], index: 2, search: 'if', logic: 'If / else' });
  await pick(a, page.getByRole('button', { name: 'Pick a field…' }), 'found', '{{ manager.found }}');
  await addStep(a, { list: ['steps', 2, 'then'], search: 'mail', card: 'mail.send', id: 'email' });
  await pick(a, 'to', 'manager email', '{{ manager.manager.profile.email }}');
  await compose(a, 'subject', [
    ['user first', '{{ user.profile.firstName }}'],
    ' ',
    ['user last', '{{ user.profile.lastName }}'],
    ' is locked out of Okta',
  ]);
  await compose(a, 'text', [
    'Hi ',
    ['manager first', '{{ manager.manager.profile.firstName }}'],
    ',\n\nOkta locked the account of ',
    ['user first', '{{ user.profile.firstName }}'],
    ' ',
    ['user last', '{{ user.profile.lastName }}'],
    ' (',
    ['user login', '{{ user.profile.login }}'],
    ')\nat ',
    ['published', '{{ event.published }}'],
    ' after too many failed sign-ins from ',
    ['ip', '{{ event.client.ipAddress }}', 'an unknown address'],
    '.\n\nIf that was not them, please tell IT right away. If it was, IT can unlock the account.',
  ]);

  // If not: IT, in Slack.
  await addStep(a, { list: ['steps', 2, 'else'], search: 'slack', card: 'slack.post', id: 'no-manager' });
  await a.fill(field(page, 'connection'), 'it-slack');
  await a.fill(field(page, 'channel'), '#it-ops');
  await compose(a, 'text', [':lock: ', ['user login', '{{ user.profile.login }}'], ' is locked out of Okta and has no manager on record; please check with them.']);

  await t.shot(page, 'built');
  await saveAndTurnOn(a, t);
  await t.shot(page, 'saved-and-on');
  t.tally('lockout', a);
}
