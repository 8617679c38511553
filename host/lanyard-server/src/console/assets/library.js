// The flow library: ready-made flows for what identity teams automate most.
// `#/library` lists them (what each does, what starts it, what it needs);
// `#/library/{id}` shows one in full (description, needs, the grants to add
// to lanyard.toml, the diagram and the YAML) with "Add to my flows", which
// creates it, turned off, through the same `createFlow` endpoint the new-flow
// page uses, and opens its page to test it. The daemon refuses a second import
// under the same name; the page says so before the admin tries.

import { call, get } from './api.js';
import { h, fill, callout, toast, inline } from './dom.js';
import { paragraphs } from './format.js';
import { renderDiagram } from './diagram.js';
import { needsWords, triggerWords, importBody, alreadyThere, refusal } from './librarywords.js';

const KIND_LABEL = { okta: 'Okta event', schedule: 'Schedule', api: 'API call', manual: 'By hand', flow: 'Helper' };

export function renderList(ctx) {
  ctx.title('Flow library');
  const body = h('div', { class: 'library' }, h('p', { class: 'muted' }, 'Loading the library…'));
  fill(
    ctx.main,
    h(
      'div',
      { class: 'page-head' },
      h('div', null, h('p', { class: 'crumbs' }, h('a', { href: '#/flows' }, 'Flows'), ' / '), h('h1', null, 'Flow library')),
      h('div', { class: 'actions' }, h('a', { class: 'button', href: '#/new-flow' }, 'New flow from scratch')),
    ),
    h(
      'p',
      { class: 'lede' },
      'Ready-made flows for what identity teams automate most. Read what each one does and what it needs; ',
      h('strong', null, 'Add to my flows'),
      ' copies it into your flows turned off, so you can test it before you turn it on.',
    ),
    body,
  );
  (async () => {
    let list;
    try {
      list = (await get('library', { signal: ctx.signal })).flows || [];
    } catch (e) {
      if (e.name !== 'AbortError') fill(body, callout('error', 'Cannot load the flow library', h('p', null, e.message)));
      return;
    }
    fill(body, h('ul', { class: 'library-list', role: 'list' }, list.map((f) => h('li', null, card(f)))));
  })();
}

function card(f) {
  const href = `#/library/${encodeURIComponent(f.id)}`;
  return h(
    'article',
    { class: 'library-card', 'aria-labelledby': `lib-${f.id}` },
    h('h2', { id: `lib-${f.id}` }, h('a', { href }, f.name)),
    h('p', { class: 'library-trigger' }, h('span', { class: 'tag kind-tag' }, KIND_LABEL[f.trigger.kind] || 'Trigger'), ' ', triggerWords(f.trigger)),
    h('p', null, inline(f.summary)),
    needsList(f),
    h(
      'p',
      { class: 'library-actions' },
      alreadyThere(f) ? h('span', { class: 'badge status-succeeded' }, '✓ In your flows') : null,
      f.problems.length ? h('span', { class: 'badge status-failed' }, 'This daemon cannot run it') : null,
      h('a', { class: 'button', href, 'aria-label': `Read more: ${f.name}` }, alreadyThere(f) ? 'Read more' : 'Read more and add'),
    ),
  );
}

function needsList(f) {
  const needs = needsWords(f.needs);
  if (!needs.length) return h('p', { class: 'library-needs small' }, 'Needs nothing but the built-in Okta cards.');
  return h('p', { class: 'library-needs small' }, 'Needs ', needs.map((n, i) => [i ? ', ' : '', h('span', { class: `need need-${n.kind}` }, n.short)]), '.');
}

export function renderFlow(ctx, id) {
  ctx.title('Flow library');
  const head = h('div', { class: 'page-head' }, h('div', null, h('p', { class: 'crumbs' }, h('a', { href: '#/flows' }, 'Flows'), ' / ', h('a', { href: '#/library' }, 'Flow library'), ' / '), h('h1', null, 'Loading…')));
  const body = h('div', { class: 'library-flow' });
  fill(ctx.main, head, body);
  (async () => {
    let f;
    let flows;
    try {
      [f, flows] = await Promise.all([get('libraryFlow', { params: { id }, signal: ctx.signal }), get('flows', { signal: ctx.signal })]);
    } catch (e) {
      if (e.name === 'AbortError') return;
      fill(head, h('div', null, h('p', { class: 'crumbs' }, h('a', { href: '#/library' }, 'Flow library'), ' / '), h('h1', null, 'No such flow')));
      fill(body, callout('error', 'Cannot show this library flow', h('p', null, e.message)));
      return;
    }
    ctx.title(f.name);
    const names = (flows.flows || []).map((x) => x.name);
    const status = h('div', { class: 'library-status', 'aria-live': 'polite' });
    const add = h('button', { type: 'button', class: 'primary', id: 'library-add' }, 'Add to my flows');
    fill(head, h('div', null, h('p', { class: 'crumbs' }, h('a', { href: '#/flows' }, 'Flows'), ' / ', h('a', { href: '#/library' }, 'Flow library'), ' / '), h('h1', null, f.name)), h('div', { class: 'actions' }, add));

    const there = alreadyThere(f, names);
    if (there) {
      add.disabled = true;
      fill(status, callout('info', 'Already in your flows', h('p', null, `You have a flow named “${f.name}”. `, h('a', { href: `#/flows/${encodeURIComponent(f.name)}`, id: 'library-open' }, 'Open it'), ' to test or change it.')));
    } else if (f.problems.length) {
      add.disabled = true;
      fill(status, callout('error', 'This daemon cannot run this flow', h('ul', null, f.problems.map((p) => h('li', null, p))), h('p', null, 'Usually a card this daemon does not have yet: upgrade lanyard, or publish the card.')));
    } else {
      fill(status, h('p', { class: 'muted' }, 'Adding it creates the flow turned off. Nothing runs until you turn it on from its page, after a test.'));
    }

    add.addEventListener('click', async () => {
      add.disabled = true;
      fill(status, h('p', { class: 'muted' }, 'Adding…'));
      try {
        const r = await call('createFlow', { body: importBody(f), signal: ctx.signal });
        toast(`Added “${r.body.name}” to your flows (${r.body.file}), turned off. Test it, then turn it on.`);
        location.hash = `#/flows/${encodeURIComponent(r.body.name)}`;
      } catch (e) {
        if (e.name === 'AbortError') return;
        // Refused as already there: is it this flow (imported meanwhile, from another tab)?
        let loaded = false;
        if (e.code === 'exists') {
          try {
            loaded = ((await get('flows', { signal: ctx.signal })).flows || []).some((x) => x.name === f.name);
          } catch {
            loaded = false;
          }
        }
        fill(
          status,
          callout(
            'error',
            'Not added',
            h('p', { id: 'library-refusal' }, refusal(e, f, { loaded })),
            loaded ? h('p', null, h('a', { href: `#/flows/${encodeURIComponent(f.name)}`, id: 'library-open' }, `Open “${f.name}”`)) : null,
          ),
        );
        add.disabled = e.code === 'exists';
      }
    });

    const needs = needsWords(f.needs);
    const diagram = h('div', { class: 'library-diagram' });
    fill(
      body,
      status,
      h(
        'dl',
        { class: 'summary' },
        h('dt', null, 'What starts it'),
        h('dd', null, triggerWords(f.trigger)),
        h('dt', null, 'Cards it uses'),
        h('dd', null, f.cards.map((c, i) => [i ? ', ' : '', h('code', null, c)])),
        h('dt', null, 'File'),
        h('dd', null, h('code', null, f.file), h('span', { class: 'muted' }, ' (in your flows folder once added)')),
      ),
      h('h2', null, 'What it does'),
      h('div', { class: 'library-description' }, paragraphs(f.description)),
      h('h2', null, 'What it needs'),
      needs.length
        ? h('ul', { class: 'library-needs-list' }, needs.map((n) => h('li', null, n.text)))
        : h('p', null, 'Nothing to set up: it uses only the built-in Okta cards, which have the Okta scopes they need.'),
      f.grants
        ? [
            h('p', null, 'Add these grants to your ', h('code', null, 'lanyard.toml'), ' (merge them into the lists you have: a card’s table appears once in the file), then reload:'),
            h('pre', { class: 'detail library-grants', tabindex: '0', 'aria-label': 'Grants for lanyard.toml' }, f.grants),
          ]
        : null,
      h('details', { class: 'library-more', id: 'library-steps' }, h('summary', null, 'Its steps, as a diagram'), diagram),
      h('details', { class: 'library-more library-yaml' }, h('summary', null, 'The YAML file'), h('pre', { class: 'detail', tabindex: '0', 'aria-label': 'The flow file' }, f.source)),
    );
    if (f.outline) {
      fill(diagram, renderDiagram(f.outline));
    } else {
      fill(diagram, h('p', { class: 'muted' }, 'No diagram: this daemon cannot load the flow.'));
    }
  })();
}
