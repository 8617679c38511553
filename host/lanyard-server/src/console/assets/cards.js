// Cards: every card version flows can name, with its digest, description,
// size, the flows that use it and its calls so far, the grants it asks for,
// has, and still waits for (an operator decides on a held card's grants
// here, narrowing a wildcard to one name), and its schemas.

import { call, get } from './api.js';
import { h, fill, callout, inline, jsonBlock, toast } from './dom.js';
import { number } from './format.js';

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
  const poller = ctx.poll(async (signal) => {
    const d = await get('cards', { signal });
    cards = (d.cards || []).slice().sort((a, b) => String(a.name).localeCompare(String(b.name)));
    draw();
  }, 0);
  const item = (c) => cardItem(ctx, c, () => poller.poke());

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
            h('p', null, 'A published card that asks for something is held until an operator decides, below (or with ', h('code', null, 'lanyard card grant NAME@VERSION GRANT...'), ' or ', h('code', null, '[cards."NAME"] grants'), ' in lanyard.toml).'),
          )
        : null,
      h('p', { class: 'muted' }, `${shown.length} of ${cards.length} card versions`),
      shown.length ? h('ul', { class: 'card-list' }, shown.map(item)) : callout('info', 'No card matches', null),
    );
  }
}

/// A card's calls in words: how many, how many failed, fuel per call.
export function usageWords(u) {
  const calls = (u && u.calls) || 0;
  if (!calls) return 'Not called since the daemon started.';
  const failed = u.errors ? `, ${number(u.errors)} failed` : '';
  return `${number(calls)} call${calls === 1 ? '' : 's'} since the daemon started${failed}; ${number(Math.round((u.fuel || 0) / calls))} fuel a call on average.`;
}

/// Bytes as people read them.
export function sizeWords(bytes) {
  const n = Number(bytes) || 0;
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/// The grants a held card asks for, each checked, a wildcard narrowed to one
/// name if the operator types it; "Grant" decides (what is unchecked is not
/// given), and the card runs.
function grantForm(c, done) {
  const key = `${c.name}@${c.version}`.replace(/[^A-Za-z0-9_-]/g, '-');
  const rows = grantList(c.requested).map((g, i) => {
    const box = h('input', { type: 'checkbox', id: `grant-${key}-${i}`, checked: true });
    const wild = g.endsWith(':*');
    const narrow = wild ? h('input', { type: 'text', id: `grant-${key}-${i}-only`, class: 'narrow', placeholder: 'any', spellcheck: 'false', 'aria-label': `Only this ${g.slice(0, -2)} (empty: any)` }) : null;
    return { g, box, narrow, el: h('li', null, box, ' ', h('label', { for: box.id }, h('code', null, g)), wild ? [' only ', narrow] : null) };
  });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Grant');
  const form = h(
    'form',
    { class: 'grant-form', 'aria-label': `Grants for ${c.name}@${c.version}` },
    h('p', null, h('strong', null, 'Decide what it gets'), ' — what you uncheck it does not get; a name narrows a wildcard.'),
    h('ul', { class: 'grant-choices' }, rows.map((r) => r.el)),
    button,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const grants = rows.filter((r) => r.box.checked).map((r) => (r.narrow && r.narrow.value.trim() ? `${r.g.slice(0, -1)}${r.narrow.value.trim()}` : r.g));
    button.disabled = true;
    try {
      await call('grantCard', { params: { card: c.name, version: c.version }, body: { grants, replace: true } });
      toast(`${c.name}@${c.version}: granted ${grants.length ? grants.join(', ') : 'nothing'}.`);
      done();
    } catch (err) {
      toast(`Could not grant: ${err.message}`, 'error');
      button.disabled = false;
    }
  });
  return form;
}

function cardItem(ctx, c, refresh) {
  const requested = grantList(c.requested);
  const granted = grantList(c.granted);
  // A wildcard asked for (`connection:*`) that the operator narrowed
  // (`connection:it-slack`) is granted, not pending.
  const covered = (g) => granted.includes(g) || (g.endsWith(':*') && granted.some((x) => x.startsWith(g.slice(0, -1))));
  const pending = requested.filter((g) => !covered(g));
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
      c.held ? grantForm(c, refresh) : null,
      h('p', { class: 'desc' }, c.description ? inline(c.description) : h('span', { class: 'muted' }, 'No description.')),
      h(
        'p',
        { class: 'small used-by' },
        (c.used_by || []).length
          ? ['Used by ', (c.used_by || []).map((f, i) => [i ? ', ' : '', h('a', { href: ctx.routeHref(['flows', f]) }, f)])]
          : h('span', { class: 'muted' }, 'No loaded flow uses this version.'),
      ),
      h('p', { class: 'small muted usage' }, usageWords(c.usage)),
      h('p', { class: 'small muted' }, sizeWords(c.size), ' · digest ', h('code', { title: `sha256:${c.digest}` }, `sha256:${String(c.digest || '').slice(0, 16)}…`)),
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
      c.output_schema !== undefined
        ? h('details', { class: 'schema' }, h('summary', null, 'Output schema'), jsonBlock(c.output_schema, { label: `output schema of ${c.name}` }))
        : null,
    ),
  );
}
