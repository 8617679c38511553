// picks.js: what the picker offers beyond the fields, and the expressions
// its choices write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { assets } from './helpers.mjs';

const { withExtras, withFallback, quoteText, rankMatches } = await import(join(assets, 'picks.js'));

const groups = [
  { group: 'Step “groups”', label: 'Groups', expression: '{{ groups }}', path: ['groups'], type: 'mapping' },
  { group: 'Step “groups”', label: 'Groups › Groups (list)', expression: '{{ groups.groups }}', path: ['groups', 'groups'], type: 'list' },
  { group: 'Step “groups”', label: 'Groups › Groups › First › Name', expression: '{{ groups.groups[0].name }}', path: ['groups', 'groups', 0, 'name'], type: 'text' },
  { group: 'Step “groups”', label: 'Groups › Groups › First › Outcome', expression: '{{ groups.groups[0].outcome }}', path: ['groups', 'groups', 0, 'outcome'], type: 'text' },
  { group: 'Step “user”', label: 'User › Created', expression: '{{ user.created }}', path: ['user', 'created'], type: 'text' },
  { group: 'Step “user”', label: 'User › Activated yes', expression: '{{ sessions.revoked }}', path: ['sessions', 'revoked'], type: 'yes/no' },
];

test('each item of a list: as a list, and into text as words', () => {
  const list = withExtras(groups, { ages: false, words: true });
  const each = list.filter((f) => f.label.includes('each'));
  assert.deepEqual(
    each.map((f) => [f.label, f.expression]),
    [
      ['Groups › Groups › each Name (a list)', "{{ groups.groups | map(attribute='name') | list }}"],
      ['Groups › Groups › each Name, as text', "{{ groups.groups | map(attribute='name') | join(', ') }}"],
      ['Groups › Groups › each Outcome (a list)', "{{ groups.groups | map(attribute='outcome') | list }}"],
      ['Groups › Groups › each Outcome, as text', "{{ groups.groups | map(attribute='outcome') | join(', ') }}"],
    ],
  );
  // Not into text: only the lists.
  assert.equal(withExtras(groups, { ages: false, words: false }).filter((f) => f.label.includes('as text')).length, 0);
});

test('words for a yes/no or a step, ages for dates, and the time', () => {
  const list = withExtras(groups, { ages: true, words: true });
  const labels = list.map((f) => f.label);
  assert.ok(labels.includes('Groups › in words…'), labels);
  assert.ok(labels.includes('User › Activated yes › in words…'), labels);
  assert.equal(list.find((f) => f.label === 'User › Created › age in days').expression, '{{ days_since(user.created) }}');
  assert.deepEqual(list.slice(-5).map((f) => f.label), ['Now', 'Some days ago…', 'Some hours from now…', 'Some days from now…', 'A new unique id']);
  // Each number is asked with its own question.
  assert.deepEqual(list.filter((f) => typeof f.ask === 'string' && f.ask !== 'words').map((f) => f.ask), ['How many days ago?', 'How many hours from now?', 'How many days from now?']);
  // In a condition a date has an age; as a value it can be moved on.
  assert.equal(list.find((f) => f.label.endsWith('some days later…')), undefined);
  const values = withExtras(groups, { ages: false, words: true });
  const later = values.find((f) => f.label === 'User › Created › some days later…');
  assert.equal(later.expression, "{{ add_time(user.created, N, 'days') }}");
  assert.equal(later.ask, 'How many days later?');
  assert.equal(values.find((f) => f.label.endsWith('age in days')), undefined);
});

test('fallbacks and words: text quoted, yes/no, none and numbers as they are', () => {
  assert.equal(withFallback('{{ user.profile.title }}', '(none)'), "{{ user.profile.title | default('(none)') }}");
  assert.equal(withFallback('{{ user.profile.department }}', 'none'), '{{ user.profile.department | default(none) }}');
  assert.equal(withFallback('{{ sessions.revoked }}', 'false'), '{{ sessions.revoked | default(false) }}');
  assert.equal(withFallback('{{ x }}', ''), '{{ x }}');
  // A line break stays an escape in the expression's text.
  assert.equal(quoteText('\nNo earlier snapshot'), '"\\nNo earlier snapshot"');
  // Each item's field of a list: the fallback stands in for a missing list.
  const each = withExtras(groups, { ages: false, words: false }).find((f) => f.label.includes('each Name'));
  assert.deepEqual(each.fallback, { on: 'groups.groups' });
  assert.equal(withFallback(each.expression, 'none', each.fallback), "{{ groups.groups | map(attribute='name') | list if groups.groups is defined else none }}");
  // Into text, a list falls back when it is empty too.
  assert.equal(withFallback("{{ a.b | join(', ') }}", 'none', { or: true }), "{{ a.b | join(', ') or 'none' }}");
  const names = [
    { group: 'Step “sync”', label: 'Sync › Added (list)', expression: '{{ sync.added }}', path: ['sync', 'added'], type: 'list' },
    { group: 'Step “sync”', label: 'Sync › Added › First', expression: '{{ sync.added[0] }}', path: ['sync', 'added', 0], type: 'text' },
  ];
  const text = withExtras(names, { ages: false, words: true }).find((f) => f.label === 'Sync › Added, as text');
  assert.equal(text.expression, "{{ sync.added | join(', ') }}");
  assert.deepEqual(text.fallback, { or: true });
  assert.equal(withExtras(names, { ages: false, words: false }).filter((f) => f.label.includes('as text')).length, 0);
  assert.equal(quoteText("it's"), '"it\'s"');
  assert.equal(quoteText('3'), '3');
});

test('a search matches every word, the entries it names first', () => {
  const user = [
    { group: 'Step “user”', label: 'User › Last login', expression: '{{ user.lastLogin }}' },
    { group: 'Step “user”', label: 'User › Profile › Login', expression: '{{ user.profile.login }}' },
    { group: 'Step “user”', label: 'User › Profile › Second email', expression: '{{ user.profile.secondEmail }}' },
    { group: 'Step “user”', label: 'User › Profile › Email', expression: '{{ user.profile.email }}' },
    { group: 'Event', label: 'Published', expression: '{{ event.published }}' },
    { group: 'Step “sessions”', label: 'Sessions › User id', expression: '{{ sessions.user_id }}' },
    { group: 'Step “user”', label: 'User › Id', expression: '{{ user.id }}' },
  ];
  const got = (q) => rankMatches(user, q).map((f) => f.expression);
  assert.deepEqual(got('user login'), ['{{ user.profile.login }}', '{{ user.lastLogin }}']);
  assert.deepEqual(got('email'), ['{{ user.profile.email }}', '{{ user.profile.secondEmail }}']);
  // No entry's own name searched: the list's order.
  assert.deepEqual(got('profile'), ['{{ user.profile.login }}', '{{ user.profile.secondEmail }}', '{{ user.profile.email }}']);
  assert.deepEqual(got('user id'), ['{{ user.id }}', '{{ sessions.user_id }}']);
  assert.deepEqual(got('nothing here'), []);
  assert.equal(rankMatches(user, '', 2).length, 2);
});
