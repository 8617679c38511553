// schemaform.js: fields from card input schemas, value checks, the form.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { byClass, byTag, findAll } from './fakedom.mjs';
import { assets } from './helpers.mjs';

const { fieldsOf, checkValue, parseInput, renderForm, words, resolve } = await import(join(assets, 'schemaform.js'));
const { cards } = JSON.parse(readFileSync(new URL('./fixtures/card-schemas.json', import.meta.url), 'utf8'));

const field = (card, key) => fieldsOf(cards[card].input_schema).find((f) => f.key === key);

test('fields of the built-in cards: required, types, enums, defaults', () => {
  const slack = fieldsOf(cards['slack.post'].input_schema);
  assert.deepEqual(slack.map((f) => f.key), ['connection', 'channel', 'text', 'blocks', 'thread_ts', 'mode']);
  assert.deepEqual(slack.filter((f) => f.required).map((f) => f.key), ['connection', 'text']);
  const mode = slack.find((f) => f.key === 'mode');
  assert.equal(mode.kind, 'choice');
  assert.equal(mode.nullable, true);
  assert.deepEqual(mode.choices.map((c) => c.value), ['web-api', 'webhook']);
  assert.match(mode.choices[1].description, /webhook/);
  assert.equal(slack.find((f) => f.key === 'channel').kind, 'text');
  assert.equal(slack.find((f) => f.key === 'text').multiline, true);
  assert.equal(slack.find((f) => f.key === 'thread_ts').title, 'Thread ts');
  assert.equal(slack.find((f) => f.key === 'blocks').kind, 'json');

  const method = field('http.request', 'method');
  assert.equal(method.kind, 'choice');
  assert.equal(method.required, true);
  assert.match(method.description, /GET, HEAD/);
  assert.deepEqual(method.choices.map((c) => c.value), ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
  assert.equal(field('http.request', 'timeout_ms').kind, 'number');
  assert.equal(field('http.request', 'timeout_ms').maximum, 120000);
  assert.equal(field('http.request', 'json').type, 'any');
  // Free-form values (query parameters, a table row) are named rows.
  assert.equal(field('http.request', 'query').kind, 'mapping');
  assert.equal(field('http.request', 'json').kind, 'mapping');

  const tokens = field('okta.clear-sessions', 'oauth_tokens');
  assert.equal(tokens.kind, 'boolean');
  assert.equal(tokens.default, false);
  assert.equal(tokens.required, false);
  const user = field('okta.clear-sessions', 'user');
  assert.equal(user.kind, 'text');
  assert.deepEqual(user.types, ['string', 'object']);
  assert.equal(field('okta.get-user', 'user').maxLength, null, 'bounds of one alternative are not the field’s');

  assert.equal(field('mail.send', 'to').kind, 'text');
  assert.equal(field('mail.send', 'to').required, true);
  assert.equal(field('okta.find-users', 'limit').minimum, 1);
  assert.equal(words('firstName'), 'First name');
});

test('nested objects become nested fields, references are followed', () => {
  const schema = {
    type: 'object',
    properties: { address: { $ref: '#/$defs/Address', description: 'Where.' }, tags: { type: 'array', items: { type: 'string' } } },
    required: ['address'],
    $defs: { Address: { type: 'object', properties: { city: { type: 'string' }, zip: { type: 'integer' } }, required: ['city'] } },
  };
  const [address, tags] = fieldsOf(schema);
  assert.equal(address.kind, 'object');
  assert.equal(address.description, 'Where.');
  assert.deepEqual(address.fields.map((f) => [f.key, f.required, f.path.join('.')]), [['city', true, 'address.city'], ['zip', false, 'address.zip']]);
  assert.equal(tags.kind, 'list');
  assert.deepEqual(parseInput(tags, 'a\n\n b \n{{ x }}'), ['a', 'b', '{{ x }}']);
  // A reference to itself ends instead of looping.
  const loop = { type: 'object', properties: { next: { $ref: '#/$defs/N' } }, $defs: { N: { type: 'object', properties: { next: { $ref: '#/$defs/N' } } } } };
  assert.ok(fieldsOf(loop)[0].fields[0].fields[0].fields.length <= 1);
  assert.deepEqual(resolve(true), {});
});

test('values are checked against their field; expressions always pass', () => {
  const method = field('http.request', 'method');
  assert.deepEqual(checkValue(method, 'POST'), { ok: true, expression: false, message: null });
  assert.equal(checkValue(method, 'FETCH').ok, false);
  assert.match(checkValue(method, 'FETCH').message, /must be one of GET, HEAD/);
  assert.deepEqual(checkValue(method, '{{ vars.method }}'), { ok: true, expression: true, message: null });
  assert.match(checkValue(method, undefined).message, /required/);

  const limit = field('okta.find-users', 'limit');
  assert.equal(checkValue(limit, 50).ok, true);
  assert.equal(checkValue(limit, 0).ok, false);
  assert.equal(checkValue(limit, 20000).ok, false);
  assert.equal(checkValue(limit, 1.5).ok, false);
  assert.equal(checkValue(limit, 'ten').ok, false);
  assert.equal(checkValue(limit, null).ok, true, 'nullable');
  assert.equal(checkValue(limit, undefined).ok, true, 'optional');
  assert.equal(checkValue(limit, '{{ vars.n }}').expression, true);
  assert.match(checkValue(limit, 'n = {{ vars.n }}').message, /one \{\{ … \}\} alone/);
  assert.equal(parseInput(limit, ' 25 '), 25);
  assert.equal(parseInput(limit, '{{ n }}'), '{{ n }}');

  const text = field('slack.post', 'text');
  assert.equal(checkValue(text, 'Hi {{ user.profile.login }}').ok, true);
  assert.equal(checkValue(text, 'Hi {{ user.profile.login }}').template, true);
  assert.equal(checkValue(text, 3).ok, false);
  assert.equal(checkValue(text, '').ok, false);

  const to = field('mail.send', 'to');
  assert.equal(checkValue(to, 'a@example.com').ok, true);
  assert.equal(checkValue(to, ['a@example.com', 'b@example.com']).ok, true);
  assert.equal(checkValue(to, 5).ok, false);
  const tokens = field('okta.clear-sessions', 'oauth_tokens');
  assert.equal(checkValue(tokens, true).ok, true);
  assert.equal(checkValue(tokens, 'yes').ok, false);
  assert.equal(checkValue(field('http.request', 'json'), { any: ['thing'] }).ok, true);
});

test('the form: labels, required marks, selects, checkboxes, a pick button per field', () => {
  const fields = fieldsOf(cards['slack.post'].input_schema).concat(field('okta.clear-sessions', 'oauth_tokens'));
  const changes = [];
  const picks = [];
  const form = renderForm(fields, { connection: 'it-slack', text: '{{ vars.note }}' }, { onChange: (k, v) => changes.push([k, v]), onPick: (f, set) => picks.push([f.key, set]), id: 'slack' });
  const labels = byTag(form, 'label');
  assert.equal(labels.length, fields.length);
  assert.equal(labels[0].getAttribute('for'), 'slack-connection');
  assert.match(labels[0].textContent, /Connection \* \(required\)/);
  assert.equal(byClass(form, 'sf-required').length, 2);
  const select = byTag(form, 'select')[0];
  assert.deepEqual(byTag(select, 'option').map((o) => o.textContent), ['(none)', 'web-api', 'webhook']);
  select.value = '1';
  select.dispatchEvent(new Event('change'));
  assert.deepEqual(changes.pop(), ['mode', 'webhook']);
  const box = findAll(form, (e) => e.getAttribute('type') === 'checkbox')[0];
  box.checked = true;
  box.dispatchEvent(new Event('change'));
  assert.deepEqual(changes.pop(), ['oauth_tokens', true]);
  // The expression in `text` is shown as one.
  const textField = byClass(form, 'sf-field').find((f) => f.dataset.key === 'text');
  assert.ok(textField.classList.contains('sf-is-expression'));
  assert.equal(byClass(textField, 'sf-badge')[0].textContent, 'expression');
  assert.equal(byTag(textField, 'textarea')[0].value, '{{ vars.note }}');
  // Typing an invalid value shows the error; fixing it hides it.
  const conn = findAll(form, (e) => e.id === 'slack-connection')[0];
  conn.value = '';
  conn.dispatchEvent(new Event('input'));
  const connField = byClass(form, 'sf-field')[0];
  assert.equal(byClass(connField, 'sf-error')[0].hidden, false);
  assert.match(byClass(connField, 'sf-error')[0].textContent, /Connection is required/);
  assert.deepEqual(changes.pop(), ['connection', undefined]);
  conn.value = 'hr-slack';
  conn.dispatchEvent(new Event('input'));
  assert.equal(byClass(connField, 'sf-error')[0].hidden, true);
  // “Insert a value from…” hands the field to the picker; a pick replaces a select by text.
  assert.equal(byClass(form, 'sf-pick').length, fields.length);
  byClass(form, 'sf-pick').find((b) => b.parentNode.dataset.key === 'mode').dispatchEvent(new Event('click'));
  const [key, set] = picks.pop();
  assert.equal(key, 'mode');
  set('{{ vars.mode }}');
  assert.deepEqual(changes.pop(), ['mode', '{{ vars.mode }}']);
  const modeField = byClass(form, 'sf-field').find((f) => f.dataset.key === 'mode');
  assert.equal(byTag(modeField, 'select').length, 0);
  assert.equal(findAll(modeField, (e) => e.tagName === 'INPUT')[0].value, '{{ vars.mode }}');
});

test('a nested object is a fieldset whose fields build its value', () => {
  const schema = {
    type: 'object',
    properties: { address: { type: 'object', description: 'Where.', properties: { city: { type: 'string' }, zip: { type: 'integer' } }, required: ['city'] } },
    required: ['address'],
  };
  const changes = [];
  const form = renderForm(fieldsOf(schema), { address: { city: 'Oslo' } }, { onChange: (k, v) => changes.push([k, v]), id: 'f' });
  const group = byTag(form, 'fieldset')[0];
  assert.match(byTag(group, 'legend')[0].textContent, /Address \* \(required\)/);
  const zip = findAll(group, (e) => e.id === 'f-address-zip')[0];
  assert.equal(findAll(group, (e) => e.id === 'f-address-city')[0].value, 'Oslo');
  zip.value = '0150';
  zip.dispatchEvent(new Event('input'));
  assert.deepEqual(changes.pop(), ['address', { city: 'Oslo', zip: 150 }]);
  // An expression for the whole object is shown as text, not as fields.
  const expr = renderForm(fieldsOf(schema), { address: '{{ user.address }}' }, { id: 'g' });
  assert.equal(byTag(expr, 'fieldset').length, 0);
  assert.equal(byTag(expr, 'textarea')[0].value, '{{ user.address }}');
});
