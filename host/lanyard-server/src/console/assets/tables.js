// Tables: every table with its row count; the rows of one table by key prefix,
// a page at a time; one row's JSON.

import { get } from './api.js';
import { h, fill, callout, jsonBlock } from './dom.js';
import { number } from './format.js';

const PAGE = 50;
// The most rows the API returns in one answer.
const MAX_ROWS = 1000;

export function renderList(ctx) {
  ctx.title('Tables');
  const body = h('div', null, h('p', { class: 'muted' }, 'Loading tables…'));
  fill(ctx.main, h('div', { class: 'page-head' }, h('h1', null, 'Tables')), body);
  ctx.poll(async (signal) => {
    const d = await get('tables', { signal });
    const tables = d.tables || [];
    if (tables.length === 0) {
      fill(body, callout('info', 'No tables yet', h('p', null, 'A table appears when a flow (a card granted it) or ', h('code', null, 'lanyard table put/import'), ' writes its first row.')));
      return;
    }
    fill(
      body,
      h(
        'table',
        { class: 'data tables' },
        h('caption', { class: 'visually-hidden' }, 'Tables'),
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Table'), h('th', { scope: 'col', class: 'num' }, 'Rows'))),
        h(
          'tbody',
          null,
          tables.map((t) =>
            h(
              'tr',
              null,
              h('td', { 'data-label': 'Table' }, h('a', { href: ctx.routeHref(['tables', t.name]) }, t.name)),
              h('td', { 'data-label': 'Rows', class: 'num' }, number(t.rows)),
            ),
          ),
        ),
      ),
    );
  }, 0);
}

export function renderTable(ctx, name) {
  ctx.title(`Table ${name}`);
  let prefix = ctx.route.query.get('prefix') || '';
  let selected = ctx.route.query.get('key') || '';
  let shown = PAGE;
  const prefixInput = h('input', { id: 'prefix', type: 'search', value: prefix, spellcheck: 'false', autocomplete: 'off' });
  const rowsBox = h('div', { class: 'rows-list' }, h('p', { class: 'muted' }, 'Loading rows…'));
  const rowBox = h('div', { class: 'row-view', 'aria-live': 'polite' });
  const more = h('button', { type: 'button' }, 'Show more rows');
  const info = h('p', { class: 'muted small', 'aria-live': 'polite' });
  fill(
    ctx.main,
    h('div', { class: 'page-head' }, h('h1', null, 'Table ', h('code', null, name))),
    h('p', { class: 'crumbs' }, h('a', { href: ctx.routeHref(['tables']) }, 'All tables')),
    h(
      'form',
      {
        class: 'filters',
        role: 'search',
        'aria-label': 'Filter rows',
        on: {
          submit: (e) => {
            e.preventDefault();
            prefix = prefixInput.value;
            shown = PAGE;
            ctx.replaceQuery({ prefix, key: selected });
            load();
          },
        },
      },
      h('div', { class: 'field' }, h('label', { for: 'prefix' }, 'Key starts with'), prefixInput),
      h('button', { type: 'submit' }, 'Filter'),
    ),
    h('div', { class: 'split' }, h('div', null, rowsBox, info, more), rowBox),
  );
  more.addEventListener('click', () => {
    shown = Math.min(shown + PAGE, MAX_ROWS);
    load();
  });

  let inflight = null;
  async function load() {
    if (inflight) inflight.abort();
    inflight = new AbortController();
    const signal = inflight.signal;
    ctx.signal.addEventListener('abort', () => inflight && inflight.abort(), { once: true });
    try {
      // Ask for one row more than shown, to know whether there are more.
      const limit = Math.min(shown + 1, MAX_ROWS);
      const d = await get('rows', { params: { table: name }, query: { prefix, limit }, signal });
      const rows = d.rows || [];
      const hasMore = rows.length > shown;
      drawRows(rows.slice(0, shown));
      more.hidden = !hasMore || shown >= MAX_ROWS;
      info.textContent = hasMore
        ? shown >= MAX_ROWS
          ? `Showing the first ${number(shown)} rows; narrow the key prefix to see others.`
          : `Showing the first ${number(shown)} rows.`
        : `${number(rows.length)} row${rows.length === 1 ? '' : 's'}${prefix ? ' with this prefix' : ''}.`;
    } catch (e) {
      if (e.name === 'AbortError') return;
      fill(rowsBox, callout('error', 'Cannot read the rows', h('p', null, `${e.status}: ${e.message}`)));
      more.hidden = true;
    }
  }

  function drawRows(rows) {
    if (rows.length === 0) {
      fill(rowsBox, callout('info', prefix ? 'No row key starts with this prefix' : 'This table is empty', null));
      return;
    }
    fill(
      rowsBox,
      h(
        'ul',
        { class: 'keys', 'aria-label': 'Row keys' },
        rows.map((r) =>
          h(
            'li',
            null,
            h(
              'button',
              {
                type: 'button',
                class: 'key',
                'aria-pressed': r.key === selected ? 'true' : 'false',
                on: { click: () => showRow(r.key) },
              },
              h('span', { class: 'mono' }, r.key),
              h('span', { class: 'preview muted' }, preview(r.value)),
            ),
          ),
        ),
      ),
    );
  }

  async function showRow(key) {
    selected = key;
    ctx.replaceQuery({ prefix, key });
    for (const b of rowsBox.querySelectorAll('button.key')) b.setAttribute('aria-pressed', b.firstChild.textContent === key ? 'true' : 'false');
    fill(rowBox, h('p', { class: 'muted' }, 'Loading the row…'));
    try {
      const d = await get('row', { params: { table: name, key }, signal: ctx.signal });
      fill(rowBox, h('h2', null, 'Row ', h('code', null, d.key)), jsonBlock(d.value, { label: `row ${d.key}` }));
    } catch (e) {
      if (e.name === 'AbortError') return;
      fill(rowBox, callout('error', `Cannot read row ${key}`, h('p', null, `${e.status}: ${e.message}`)));
    }
  }

  load();
  if (selected) showRow(selected);
}

/// A short one-line look at a row's value.
function preview(v) {
  let s;
  try {
    s = JSON.stringify(v);
  } catch {
    s = String(v);
  }
  return s.length > 90 ? `${s.slice(0, 89)}…` : s;
}
