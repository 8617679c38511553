// Cards: every card version flows can name, with its digest, description,
// the grants it asks for, has, and still waits for, and its input schema.

import { get } from './api.js';
import { h, fill, callout, jsonBlock } from './dom.js';

/// A Grants object ({ okta, http_hosts, connections, tables, mail }) as the
/// grant strings `lanyard card grant` and lanyard.toml use.
export function grantList(g) {
  if (!g || typeof g !== 'object') return [];
  const out = [];
  for (const s of g.okta || []) out.push(`okta:${s}`);
  for (const s of g.http_hosts || []) out.push(`http-host:${s}`);
  for (const s of g.connections || []) out.push(`connection:${s}`);
  for (const s of g.tables || []) out.push(`table:${s}`);
  if (g.mail) out.push('mail');
  return out;
}

export function render(ctx) {
  ctx.title('Cards');
  const filter = h('input', { id: 'card-filter', type: 'search', spellcheck: 'false', autocomplete: 'off' });
  const body = h('div', null, h('p', { class: 'muted' }, 'Loading cards…'));
  fill(
    ctx.main,
    h('div', { class: 'page-head' }, h('h1', null, 'Cards')),
    h(
      'form',
      { class: 'filters', role: 'search', 'aria-label': 'Filter cards', on: { submit: (e) => e.preventDefault() } },
      h('div', { class: 'field' }, h('label', { for: 'card-filter' }, 'Name or description contains'), filter),
    ),
    body,
  );
  let cards = [];
  filter.addEventListener('input', draw);
  ctx.poll(async (signal) => {
    const d = await get('cards', { signal });
    cards = (d.cards || []).slice().sort((a, b) => String(a.name).localeCompare(String(b.name)));
    draw();
  }, 0);

  function draw() {
    const q = filter.value.trim().toLowerCase();
    const shown = cards.filter((c) => !q || String(c.name).toLowerCase().includes(q) || String(c.description || '').toLowerCase().includes(q));
    const held = cards.filter((c) => c.held).length;
    const broken = cards.filter((c) => c.broken).length;
    fill(
      body,
      broken
        ? callout(
            'error',
            `${broken} card version${broken === 1 ? ' is' : 's are'} broken`,
            h('p', null, 'A card that failed to load (its describe() ran past its deadline, or failed) fails its steps at once until it is published again: ', h('code', null, 'lanyard card publish CARD.wasm'), '.'),
          )
        : null,
      held
        ? callout(
            'warn',
            `${held} card version${held === 1 ? '' : 's'} wait for grants`,
            h('p', null, 'A published card that asks for something is held until an operator decides: ', h('code', null, 'lanyard card grant NAME@VERSION GRANT...'), ' or ', h('code', null, '[cards."NAME"] grants'), ' in lanyard.toml.'),
          )
        : null,
      h('p', { class: 'muted' }, `${shown.length} of ${cards.length} card versions`),
      shown.length ? h('ul', { class: 'card-list' }, shown.map(cardItem)) : callout('info', 'No card matches', null),
    );
  }
}

function cardItem(c) {
  const requested = grantList(c.requested);
  const granted = grantList(c.granted);
  const pending = requested.filter((g) => !granted.includes(g));
  const grantRow = (label, list, cls) =>
    h(
      'div',
      { class: 'grant-row' },
      h('dt', null, label),
      h('dd', null, list.length ? h('ul', { class: 'grants' }, list.map((g) => h('li', { class: `grant ${cls}` }, g))) : h('span', { class: 'muted' }, 'none')),
    );
  return h(
    'li',
    { class: 'card-item' },
    h(
      'article',
      { 'aria-labelledby': `card-${c.name}@${c.version}` },
      h(
        'div',
        { class: 'card-head' },
        h('h2', { id: `card-${c.name}@${c.version}` }, h('code', null, c.name), h('span', { class: 'version' }, `@${c.version}`)),
        h('span', { class: 'tag' }, c.source === 'builtin' ? 'built-in' : String(c.source || '')),
        c.held ? h('span', { class: 'badge status-suppressed small' }, h('span', { 'aria-hidden': 'true' }, '⏸'), ' waiting for grants') : null,
        c.broken ? h('span', { class: 'badge status-failed small' }, h('span', { 'aria-hidden': 'true' }, '✕'), ' broken') : null,
        c.loaded || c.broken ? null : h('span', { class: 'tag muted' }, 'not loaded yet'),
      ),
      c.broken ? h('p', { class: 'small' }, String(c.broken.message || '')) : null,
      h('p', { class: 'desc' }, c.description || h('span', { class: 'muted' }, 'No description.')),
      h('p', { class: 'small muted' }, 'digest ', h('code', { title: `sha256:${c.digest}` }, `sha256:${String(c.digest || '').slice(0, 16)}…`)),
      h(
        'dl',
        { class: 'grants-table' },
        grantRow('Asks for', requested, 'requested'),
        grantRow('Granted', granted, 'granted'),
        grantRow('Pending', pending, 'pending'),
      ),
      c.input_schema !== undefined
        ? h('details', { class: 'schema' }, h('summary', null, 'Input schema'), jsonBlock(c.input_schema, { label: `input schema of ${c.name}` }))
        : null,
    ),
  );
}
