// Tables: every table with its row count and size; one table as a grid of
// rows (a column per field, sortable, found by text in any field or by key
// prefix, a page at a time), each row added, changed or deleted with a form,
// the table exported and imported as CSV or cleared.

import { call, get } from './api.js';
import { h, fill, callout, toast } from './dom.js';
import { number } from './format.js';
import { sizeWords } from './cards.js';

const PAGE = 50;
// The most columns the grid shows (the rest are in the row's form).
const MAX_COLUMNS = 12;

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
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Table'), h('th', { scope: 'col', class: 'num' }, 'Rows'), h('th', { scope: 'col', class: 'num' }, 'Size'))),
        h(
          'tbody',
          null,
          tables.map((t) =>
            h(
              'tr',
              null,
              h('td', { 'data-label': 'Table' }, h('a', { href: ctx.routeHref(['tables', t.name]) }, t.name)),
              h('td', { 'data-label': 'Rows', class: 'num' }, number(t.rows)),
              h('td', { 'data-label': 'Size', class: 'num' }, sizeWords(t.bytes)),
            ),
          ),
        ),
      ),
    );
  }, 0);
}

export function renderTable(ctx, name) {
  ctx.title(`Table ${name}`);
  const state = { q: ctx.route.query.get('q') || '', in: ctx.route.query.get('in') || '', prefix: ctx.route.query.get('prefix') || '', starts: [null], rows: [], next: null, sort: null, desc: false };
  const summary = h('p', { class: 'muted', 'aria-live': 'polite' });
  const find = h('input', { id: 'row-find', type: 'search', value: state.q, spellcheck: 'false', autocomplete: 'off', placeholder: 'a login, a name, any text' });
  const prefix = h('input', { id: 'row-prefix', type: 'search', value: state.prefix, spellcheck: 'false', autocomplete: 'off' });
  // Which column the text is looked for in (the page's columns; any by default).
  const findIn = h('select', { id: 'row-find-in' }, h('option', { value: '' }, 'any column'));
  const columnsSeen = new Set();
  const offerColumns = (cols) => {
    for (const c of ['key', ...cols, state.in].filter(Boolean)) {
      if (columnsSeen.has(c)) continue;
      columnsSeen.add(c);
      findIn.append(h('option', { value: c }, c));
    }
    findIn.value = state.in;
  };
  const grid = h('div', { class: 'grid-box' }, h('p', { class: 'muted' }, 'Loading rows…'));
  const pager = h('div', { class: 'pager' });
  const editor = h('dialog', { class: 'row-editor', 'aria-labelledby': 'row-editor-title' });
  const confirmBox = h('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-title' });
  const file = h('input', { type: 'file', id: 'csv-file', accept: '.csv,text/csv', class: 'visually-hidden' });
  const replace = h('input', { type: 'checkbox', id: 'csv-replace' });
  fill(
    ctx.main,
    h('div', { class: 'page-head' }, h('h1', null, 'Table ', h('code', null, name)), h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', id: 'row-add', on: { click: () => openEditor(null) } }, 'Add a row'))),
    h('p', { class: 'crumbs' }, h('a', { href: ctx.routeHref(['tables']) }, 'All tables')),
    summary,
    h(
      'form',
      { class: 'filters', role: 'search', 'aria-label': 'Find rows', on: { submit: (e) => { e.preventDefault(); search(); } } },
      h('div', { class: 'field' }, h('label', { for: 'row-find' }, 'Rows containing'), find),
      h('div', { class: 'field' }, h('label', { for: 'row-find-in' }, 'In'), findIn),
      h('div', { class: 'field' }, h('label', { for: 'row-prefix' }, 'Key starts with'), prefix),
      h('button', { type: 'submit' }, 'Find'),
    ),
    grid,
    pager,
    h(
      'div',
      { class: 'table-tools' },
      h('button', { type: 'button', id: 'csv-export', on: { click: exportCsv } }, 'Export CSV'),
      h('label', { for: 'csv-file', class: 'button' }, 'Import CSV…'),
      file,
      h('span', { class: 'field check inline' }, replace, h('label', { for: 'csv-replace' }, 'Import replaces the table (rows not in the file are deleted)')),
      h('button', { type: 'button', id: 'table-clear', class: 'danger', on: { click: confirmClear } }, 'Clear the table…'),
    ),
    editor,
    confirmBox,
  );
  file.addEventListener('change', importCsv);

  async function loadSummary() {
    try {
      const d = await get('tables', { signal: ctx.signal });
      const t = (d.tables || []).find((x) => x.name === name);
      summary.textContent = t ? `${number(t.rows)} row${t.rows === 1 ? '' : 's'}, ${sizeWords(t.bytes)}.` : 'No rows yet.';
    } catch (e) {
      if (e.name !== 'AbortError') summary.textContent = `Cannot count the rows: ${e.message}`;
    }
  }

  function search() {
    state.q = find.value.trim();
    state.in = findIn.value;
    state.prefix = prefix.value;
    state.starts = [null];
    ctx.replaceQuery({ q: state.q, in: state.in, prefix: state.prefix });
    load();
  }

  async function load() {
    const after = state.starts[state.starts.length - 1];
    try {
      const sort = state.sort ? { sort: state.sort, desc: String(state.desc) } : {};
      const d = await get('rows', { params: { table: name }, query: { prefix: state.prefix, q: state.q, in: state.in, after: after ?? '', limit: PAGE, ...sort }, signal: ctx.signal });
      state.rows = d.rows || [];
      state.next = d.next || null;
      draw();
    } catch (e) {
      if (e.name === 'AbortError') return;
      fill(grid, callout('error', 'Cannot read the rows', h('p', null, `${e.status}: ${e.message}`)));
    }
  }

  function draw() {
    const rows = state.rows.slice();
    if (!rows.length) {
      fill(grid, callout('info', state.q || state.prefix ? 'No row matches' : 'This table is empty', state.q || state.prefix ? null : h('p', null, 'Add a row, or import a CSV.')));
    } else {
      const columns = columnsOf(rows);
      offerColumns(columns);
      const head = ['key', ...columns].map((c) => {
        const sorted = state.sort === c;
        return h(
          'th',
          { scope: 'col', 'aria-sort': sorted ? (state.desc ? 'descending' : 'ascending') : 'none' },
          h('button', { type: 'button', class: 'sort', on: { click: () => { state.desc = state.sort === c ? !state.desc : false; state.sort = c; state.starts = [null]; load(); } } }, c === 'key' ? 'Key' : c, sorted ? (state.desc ? ' ▼' : ' ▲') : ''),
        );
      });
      fill(
        grid,
        h(
          'table',
          { class: 'data rows-grid' },
          h('caption', { class: 'visually-hidden' }, `Rows of ${name}`),
          h('thead', null, h('tr', null, head)),
          h(
            'tbody',
            null,
            rows.map((r) =>
              h(
                'tr',
                null,
                h('th', { scope: 'row', 'data-label': 'Key' }, h('button', { type: 'button', class: 'link mono', on: { click: () => openEditor(r) } }, r.key)),
                columns.map((c) => h('td', { 'data-label': c }, cellText(r.value, c))),
              ),
            ),
          ),
        ),
      );
    }
    const page = state.starts.length;
    fill(
      pager,
      page > 1 ? h('button', { type: 'button', on: { click: () => { state.starts.pop(); load(); } } }, 'Previous page') : null,
      h('span', { class: 'muted' }, ` Page ${page} `),
      state.next ? h('button', { type: 'button', id: 'next-page', on: { click: () => { state.starts.push(state.next); load(); } } }, 'Next page') : null,
    );
  }

  /// The row's form: its key (a new row's is typed), a field per value
  /// (text as text; numbers, yes/no, lists and mappings as JSON), fields
  /// added by name; Save writes the row, Delete removes it.
  function openEditor(row) {
    const fields = row && row.value && typeof row.value === 'object' && !Array.isArray(row.value) ? Object.entries(row.value) : [];
    const key = h('input', { id: 'row-key', type: 'text', value: row ? row.key : '', readonly: Boolean(row), spellcheck: 'false', required: true });
    const list = h('div', { class: 'row-fields' });
    const inputs = [];
    const addField = (k, v) => {
      const i = inputs.length;
      const nameEl = h('input', { type: 'text', id: `row-f${i}`, class: 'map-key', value: k, placeholder: 'field', 'aria-label': `Field ${i + 1} name` });
      const json = v !== undefined && typeof v !== 'string';
      const valueEl = h('textarea', { id: `row-v${i}`, rows: json && typeof v === 'object' && v !== null ? '3' : '1', 'aria-label': `Value of ${k || `field ${i + 1}`}` });
      valueEl.value = v === undefined ? '' : json ? JSON.stringify(v, null, typeof v === 'object' && v !== null ? 2 : 0) : v;
      const asJson = h('input', { type: 'checkbox', id: `row-j${i}`, checked: json });
      inputs.push({ nameEl, valueEl, asJson });
      list.append(h('div', { class: 'row-field' }, nameEl, valueEl, h('span', { class: 'field check inline' }, asJson, h('label', { for: `row-j${i}` }, 'JSON'))));
    };
    for (const [k, v] of fields) addField(k, v);
    if (!row) addField('', undefined);
    const problems = h('div', { 'aria-live': 'polite' });
    const save = h('button', { type: 'submit', class: 'primary' }, 'Save the row');
    const del = row ? h('button', { type: 'button', class: 'danger', on: { click: () => remove(row.key) } }, 'Delete the row') : null;
    const form = h(
      'form',
      { novalidate: true },
      h('h2', { id: 'row-editor-title' }, row ? 'Row ' : 'A new row', row ? h('code', null, row.key) : null),
      row && (!row.value || typeof row.value !== 'object' || Array.isArray(row.value)) ? callout('info', 'This row is not a mapping', h('p', null, 'Its value is shown as one JSON field named ', h('code', null, 'value'), '.')) : null,
      h('div', { class: 'field' }, h('label', { for: 'row-key' }, 'Key'), key),
      list,
      h('p', null, h('button', { type: 'button', id: 'row-field-add', on: { click: () => addField('', undefined) } }, 'Add a field')),
      problems,
      h('div', { class: 'dialog-actions' }, del, h('button', { type: 'button', on: { click: () => editor.close() } }, 'Cancel'), save),
    );
    if (row && (!row.value || typeof row.value !== 'object' || Array.isArray(row.value))) {
      list.replaceChildren();
      inputs.length = 0;
      addField('value', row.value);
    }
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const wrong = [];
      const value = {};
      for (const { nameEl, valueEl, asJson } of inputs) {
        const k = nameEl.value.trim();
        if (!k) continue;
        if (asJson.checked) {
          try {
            value[k] = JSON.parse(valueEl.value);
          } catch (err) {
            wrong.push(`${k}: not JSON (${err.message})`);
          }
        } else value[k] = valueEl.value;
      }
      if (!key.value.trim()) wrong.push('The row needs a key.');
      if (wrong.length) {
        fill(problems, callout('error', 'Not yet', h('ul', null, wrong.map((w) => h('li', null, w)))));
        return;
      }
      const whole = row && (!row.value || typeof row.value !== 'object' || Array.isArray(row.value)) ? value.value : value;
      save.disabled = true;
      try {
        const r = await call('putRow', { params: { table: name, key: key.value.trim() }, body: whole });
        toast(r.body.outcome === 'unchanged' ? `Row ${key.value.trim()} was already so.` : `Saved row ${key.value.trim()}.`);
        editor.close();
        load();
        loadSummary();
      } catch (err) {
        fill(problems, callout('error', 'Not saved', h('p', null, err.message)));
        save.disabled = false;
      }
    });
    fill(editor, form);
    editor.showModal();
    (row ? inputs[0]?.valueEl : key)?.focus();
  }

  async function remove(key) {
    if (!(await confirmed(`Delete row ${key}?`, 'A flow that reads it finds nothing afterwards.', 'Delete the row'))) return;
    try {
      await call('deleteRow', { params: { table: name, key } });
      toast(`Deleted row ${key}.`);
      editor.close();
      load();
      loadSummary();
    } catch (err) {
      toast(`Not deleted: ${err.message}`, 'error');
    }
  }

  async function confirmClear() {
    if (!(await confirmed(`Clear table ${name}?`, 'Every row is deleted, at once. Export it first to keep a copy.', 'Delete every row'))) return;
    try {
      const r = await call('clearTable', { params: { table: name } });
      toast(`Cleared ${name}: ${number(r.body.deleted)} rows deleted.`);
      state.starts = [null];
      load();
      loadSummary();
    } catch (err) {
      toast(`Not cleared: ${err.message}`, 'error');
    }
  }

  /// A yes/no question in a dialog; resolves true only on the named button.
  function confirmed(title, text, yes) {
    return new Promise((resolve) => {
      const ok = h('button', { type: 'button', class: 'danger', id: 'confirm-yes' }, yes);
      const no = h('button', { type: 'button' }, 'Cancel');
      fill(confirmBox, h('h2', { id: 'confirm-title' }, title), h('p', null, text), h('div', { class: 'dialog-actions' }, no, ok));
      const done = (v) => {
        confirmBox.close();
        resolve(v);
      };
      ok.addEventListener('click', () => done(true));
      no.addEventListener('click', () => done(false));
      confirmBox.addEventListener('cancel', () => resolve(false), { once: true });
      confirmBox.showModal();
      no.focus();
    });
  }

  async function exportCsv() {
    try {
      const r = await call('exportCsv', { params: { table: name }, asText: true });
      // A blob URL this page made (h() lets only safe addresses into href).
      const a = h('a', { download: `${name}.csv` });
      a.href = URL.createObjectURL(new Blob([r.body], { type: 'text/csv' }));
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 60000);
      toast(`Exported ${name}.csv.`);
    } catch (err) {
      toast(`Not exported: ${err.message}`, 'error');
    }
  }

  async function importCsv() {
    const f = file.files && file.files[0];
    file.value = '';
    if (!f) return;
    try {
      const r = await call('importCsv', { params: { table: name }, query: { mode: replace.checked ? 'replace' : 'merge' }, text: { text: await f.text(), type: 'text/csv' } });
      const s = r.body.imported || {};
      toast(`Imported ${f.name}: ${number(s.inserted)} added, ${number(s.updated)} changed, ${number(s.unchanged)} unchanged, ${number(s.deleted)} deleted.`);
      state.starts = [null];
      load();
      loadSummary();
    } catch (err) {
      toast(`Nothing imported: ${err.message}`, 'error');
    }
  }

  loadSummary();
  load();
}

/// The grid's columns: the rows' top-level fields, in the order first seen.
export function columnsOf(rows) {
  const seen = new Set();
  for (const r of rows) {
    if (r.value && typeof r.value === 'object' && !Array.isArray(r.value)) for (const k of Object.keys(r.value)) seen.add(k);
    else seen.add('value');
    if (seen.size >= MAX_COLUMNS) break;
  }
  return [...seen].slice(0, MAX_COLUMNS);
}

function cellText(v, c) {
  const x = v && typeof v === 'object' && !Array.isArray(v) ? v[c] : c === 'value' ? v : undefined;
  if (x === undefined) return h('span', { class: 'muted' }, '—');
  if (x === null) return h('span', { class: 'muted' }, 'null');
  if (Array.isArray(x) && x.every((i) => typeof i !== 'object')) return x.join(', ');
  const s = typeof x === 'object' ? JSON.stringify(x) : String(x);
  return s.length > 80 ? `${s.slice(0, 79)}…` : s;
}
