// flows.js: the Okta orgs line of the Flows page, in an admin's words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import './fakedom.mjs';
import { assets } from './helpers.mjs';

const { oktaOrgs } = await import(join(assets, 'flows.js'));

test('one org reads as what it is and where its events arrive; several as a list with the default', () => {
  assert.equal(oktaOrgs([{ name: 'default', kind: 'sandbox', default: true, hook_path: '/hooks/okta' }]).textContent, 'Okta: the embedded sandbox org; its events arrive at /hooks/okta.');
  assert.equal(oktaOrgs([{ name: 'default', kind: 'org', url: 'https://acme.okta.com', default: true }]).textContent, 'Okta: https://acme.okta.com; no Event Hook.');
  const two = oktaOrgs([
    { name: 'prod', kind: 'org', url: 'https://acme.okta.com', default: true, hook_path: '/hooks/okta/prod' },
    { name: 'preview', kind: 'org', url: 'https://acme.oktapreview.com', default: false, hook_path: '/hooks/okta/preview' },
  ]).textContent;
  assert.match(two, /prod — https:\/\/acme\.okta\.com; its events arrive at \/hooks\/okta\/prod \(used by flows that name no org\)/);
  assert.match(two, /preview — https:\/\/acme\.oktapreview\.com; its events arrive at \/hooks\/okta\/preview$/);
  assert.match(oktaOrgs([]).textContent, /No Okta org is configured/);
});
