// Runs: the execution history, newest first, filtered by flow and status,
// found by text (a user's login or name, anything in the event or the
// steps' inputs and outputs), by card and by error kind, with whom each run
// is about and where a failed one failed; paged with the API's cursor, refreshed every 2 s while the first page is
// shown and the tab is visible. Above them, when the daemon has refused Okta
// events at intake (they started no run, and Okta will not send them again),
// a notice with the newest of them.

import { get } from './api.js';
import { h, fill, callout, inline } from './dom.js';
import { statusBadge, timeEl, runTrigger, duration, runDuration, STATUS_NAMES, isFinal } from './format.js';

const PAGE = 50;
const REFRESH_MS = 2000;
// What a card or a run fails with (lanyard_core::ErrorKind).
const ERROR_KINDS = ['invalid-input', 'not-found', 'denied', 'conflict', 'rate-limited', 'unavailable', 'timeout', 'internal', 'fuel-exhausted', 'memory-limit', 'deadline', 'stack-overflow', 'trap'];

export function render(ctx) {
  ctx.title('Runs');
  const q = ctx.route.query;
  const state = {
    flow: q.get('flow') || '',
    status: q.get('status') || '',
    text: q.get('text') || '',
    card: q.get('card') || '',
    error: q.get('error') || '',
    // Cursors of the pages before this one (for "Newer"), and this page's.
    back: [],
    cursor: null,
    next: null,
  };

  const flowSelect = h('select', { id: 'filter-flow' }, h('option', { value: '' }, 'All flows'));
  if (state.flow) flowSelect.append(h('option', { value: state.flow }, state.flow));
  flowSelect.value = state.flow;
  const statusSelect = h(
    'select',
    { id: 'filter-status' },
    h('option', { value: '' }, 'Any status'),
    STATUS_NAMES.map((s) => h('option', { value: s }, s)),
  );
  statusSelect.value = state.status;
  const textInput = h('input', { id: 'filter-text', type: 'search', value: state.text, spellcheck: 'false', autocomplete: 'off', placeholder: 'a login, a name, any text' });
  const cardSelect = h('select', { id: 'filter-card' }, h('option', { value: '' }, 'Any card'));
  if (state.card) cardSelect.append(h('option', { value: state.card }, state.card));
  cardSelect.value = state.card;
  const errorSelect = h('select', { id: 'filter-error' }, h('option', { value: '' }, 'Any'), ERROR_KINDS.map((k) => h('option', { value: k }, k)));
  errorSelect.value = state.error;
  const live = h('p', { class: 'live muted', 'aria-live': 'off' });
  const table = h('div', { class: 'runs-body' }, h('p', { class: 'muted' }, 'Loading runs…'));
  const newer = h('button', { type: 'button' }, '← Newer');
  const older = h('button', { type: 'button' }, 'Older →');
  const pageInfo = h('span', { class: 'muted', 'aria-live': 'polite' });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages of runs' }, newer, pageInfo, older);
  const tbody = h('tbody');
  const rejected = h('div', { class: 'rejected', hidden: true });
  let rejectedSeen = -1;

  fill(
    ctx.main,
    h('div', { class: 'page-head' }, h('h1', null, 'Runs'), live),
    h(
      'form',
      { class: 'filters', role: 'search', 'aria-label': 'Filter runs', on: { submit: (e) => { e.preventDefault(); onFilter(); } } },
      h('div', { class: 'field' }, h('label', { for: 'filter-text' }, 'Runs mentioning'), textInput),
      h('div', { class: 'field' }, h('label', { for: 'filter-flow' }, 'Flow'), flowSelect),
      h('div', { class: 'field' }, h('label', { for: 'filter-status' }, 'Status'), statusSelect),
      h('div', { class: 'field' }, h('label', { for: 'filter-card' }, 'Used the card'), cardSelect),
      h('div', { class: 'field' }, h('label', { for: 'filter-error' }, 'Failed with'), errorSelect),
      h('button', { type: 'submit' }, 'Find'),
    ),
    rejected,
    table,
    pager,
  );

  // The flow names for the filter (once; a reload rarely adds one).
  get('flows', { signal: ctx.signal })
    .then((d) => {
      const names = (d.flows || []).map((f) => f.name).sort((a, b) => a.localeCompare(b));
      fill(flowSelect, h('option', { value: '' }, 'All flows'), names.map((n) => h('option', { value: n }, n)));
      if (state.flow && !names.includes(state.flow)) flowSelect.append(h('option', { value: state.flow }, `${state.flow} (not loaded)`));
      flowSelect.value = state.flow;
    })
    .catch(() => {});

  // The card names for the filter (once).
  get('cards', { signal: ctx.signal })
    .then((d) => {
      const names = [...new Set((d.cards || []).map((c) => c.name))].sort((a, b) => a.localeCompare(b));
      fill(cardSelect, h('option', { value: '' }, 'Any card'), names.map((n) => h('option', { value: n }, n)));
      cardSelect.value = state.card;
    })
    .catch(() => {});

  function onFilter() {
    state.flow = flowSelect.value;
    state.status = statusSelect.value;
    state.text = textInput.value.trim();
    state.card = cardSelect.value;
    state.error = errorSelect.value;
    state.back = [];
    state.cursor = null;
    ctx.replaceQuery({ flow: state.flow, status: state.status, text: state.text, card: state.card, error: state.error });
    poller.poke();
  }
  for (const el of [flowSelect, statusSelect, cardSelect, errorSelect]) el.addEventListener('change', onFilter);
  older.addEventListener('click', () => {
    if (!state.next) return;
    state.back.push(state.cursor);
    state.cursor = state.next;
    poller.poke();
  });
  newer.addEventListener('click', () => {
    if (state.back.length === 0) return;
    state.cursor = state.back.pop();
    poller.poke();
  });

  const rows = new Map(); // run id → { sig, tr }
  let lastOk = null;
  let failing = null;

  const poller = ctx.poll(async (signal) => {
    const wanted = { ...state };
    try {
      const page = await get('runs', {
        query: { flow: wanted.flow, status: wanted.status, text: wanted.text, card: wanted.card, error: wanted.error, limit: PAGE, cursor: wanted.cursor },
        signal,
      });
      // A filter or page change while this was in flight: poke() fetches again.
      if (['flow', 'status', 'text', 'card', 'error', 'cursor'].some((k) => wanted[k] !== state[k])) return true;
      state.next = page.next_cursor || null;
      draw(page.runs || []);
      drawRejected(await get('rejectedEvents', { signal }));
      lastOk = Date.now();
      failing = null;
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      failing = e;
      if (e.status !== 0) fill(table, callout('error', 'Cannot list runs', h('p', null, `${e.status}: ${e.message}`)));
      throw e;
    } finally {
      drawLive();
    }
    // Only the first page changes as runs come in (older pages get no new
    // rows); keep it live, leave older pages still.
    return state.cursor === null;
  }, REFRESH_MS);

  // Update "live" text without fetching.
  const clock = setInterval(drawLive, 1000);
  ctx.onCleanup(() => clearInterval(clock));

  function drawLive() {
    let text;
    if (failing && failing.status === 0) text = 'Cannot reach the daemon; retrying…';
    else if (failing) text = `Refresh failed (${failing.status}); retrying…`;
    else if (state.cursor !== null) text = 'Older page: not refreshing';
    else if (document.hidden) text = 'Paused while the tab is hidden';
    else if (lastOk) text = `Live · updated ${Math.max(0, Math.round((Date.now() - lastOk) / 1000))} s ago`;
    else text = '';
    live.textContent = text;
    live.classList.toggle('warn', Boolean(failing));
    newer.disabled = state.back.length === 0;
    older.disabled = !state.next;
    pageInfo.textContent = state.back.length === 0 ? 'Newest first' : `Page ${state.back.length + 1}`;
  }

  function drawRejected(r) {
    if (!r || !r.total || r.total === rejectedSeen) return;
    rejectedSeen = r.total;
    const recent = r.recent || [];
    const list = h(
      'table',
      { class: 'data' },
      h('caption', { class: 'visually-hidden' }, 'Refused events, newest first'),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { scope: 'col' }, 'Received'),
          h('th', { scope: 'col' }, 'Event'),
          h('th', { scope: 'col' }, 'Why it was refused'),
        ),
      ),
      h(
        'tbody',
        null,
        recent.map((e) =>
          h(
            'tr',
            null,
            h('td', { 'data-label': 'Received' }, timeEl(e.received), h('div', { class: 'muted small' }, `from ${e.source}`)),
            h(
              'td',
              { 'data-label': 'Event' },
              h('div', { class: 'mono small' }, e.event_type || 'no event type'),
              h('div', { class: 'muted small mono' }, e.uuid || 'no uuid'),
            ),
            h('td', { 'data-label': 'Why' }, e.reason),
          ),
        ),
      ),
    );
    const one = r.total === 1;
    fill(
      rejected,
      callout(
        'warn',
        one ? 'One Okta event was refused since the daemon started' : `${r.total} Okta events were refused since the daemon started`,
        h(
          'p',
          null,
          one
            ? 'It started no run, and Okta does not send it again; the other events of its delivery were accepted. '
            : 'They started no run, and Okta does not send them again; the other events of their deliveries were accepted. ',
          'Events are refused when they cannot be read as Okta System Log events or are over a size limit: fix what sent them.',
        ),
        h('details', null, h('summary', null, recent.length < r.total ? `The newest ${recent.length}` : one ? 'Show it' : 'Show them'), list),
      ),
    );
    rejected.hidden = false;
  }

  function draw(runs) {
    if (runs.length === 0) {
      rows.clear();
      const filtered = state.flow || state.status || state.text || state.card || state.error;
      fill(
        table,
        callout(
          'info',
          filtered ? 'No runs match these filters' : 'No runs yet',
          h(
            'p',
            null,
            filtered
              ? state.next
                ? 'None among the runs searched so far; Older → searches on.'
                : 'Try other words or filters.'
              : 'Runs appear here when an Okta event, a schedule or an API call starts a flow, or when you use Run now on the Flows page.',
          ),
        ),
      );
      return;
    }
    if (!table.contains(tbody)) fill(table, runsTable(tbody));
    const now = Date.now();
    const wanted = runs.map((r) => {
      // The duration of a running run changes every tick.
      const sig = `${r.status}|${r.ended}|${isFinal(r.status) ? '' : Math.floor(runDuration(r, now) / 1000)}|${relativeBucket(r.created, now)}`;
      const have = rows.get(r.id);
      if (have && have.sig === sig) return have.tr;
      const tr = runRow(ctx, r, now);
      rows.set(r.id, { sig, tr });
      return tr;
    });
    // Move rows into place without touching the ones already there, so focus
    // and selection stay on an unchanged row.
    wanted.forEach((tr, i) => {
      if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] || null);
    });
    while (tbody.children.length > wanted.length) tbody.lastChild.remove();
    const ids = new Set(runs.map((r) => r.id));
    for (const id of rows.keys()) if (!ids.has(id)) rows.delete(id);
  }
}

// "3 min ago" changes slowly: redraw a row's time once a minute at most.
function relativeBucket(created, now) {
  const t = Date.parse(created);
  const age = (now - t) / 1000;
  return age < 60 ? Math.floor(age / 10) : Math.floor(age / 60);
}

function runsTable(tbody) {
  return h(
    'table',
    { class: 'data runs' },
    h('caption', { class: 'visually-hidden' }, 'Runs, newest first'),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', { scope: 'col' }, 'Status'),
        h('th', { scope: 'col' }, 'Flow'),
        h('th', { scope: 'col' }, 'Trigger'),
        h('th', { scope: 'col' }, 'Started'),
        h('th', { scope: 'col', class: 'num' }, 'Duration'),
      ),
    ),
    tbody,
  );
}

function runRow(ctx, r, now) {
  const href = ctx.routeHref(['runs', r.id]);
  const trigger = runTrigger(r.trigger);
  const tr = h(
    'tr',
    { class: 'clickable' },
    h('td', { 'data-label': 'Status' }, statusBadge(r.status), r.dry_run ? h('span', { class: 'tag' }, 'dry run') : null),
    h(
      'td',
      { 'data-label': 'Flow' },
      h('a', { href, class: 'row-link' }, r.flow),
      h('div', { class: 'muted small mono' }, r.id),
    ),
    h(
      'td',
      { 'data-label': 'Trigger' },
      h('span', { class: 'mono small' }, trigger),
      r.who
        ? h('div', { class: 'small who' }, h('span', { class: 'muted' }, 'user '), r.who.name || r.who.login, r.who.name && r.who.login ? h('span', { class: 'muted' }, ` (${r.who.login})`) : null)
        : r.subject
          ? h('div', { class: 'small' }, h('span', { class: 'muted' }, 'user '), h('span', { class: 'mono' }, r.subject))
          : null,
      r.reason ? h('div', { class: 'small muted reason' }, r.reason) : null,
      r.error
        ? h(
            'div',
            { class: 'small run-error' },
            r.error.step ? [h('span', { class: 'muted' }, 'at '), h('code', null, r.error.step), ': '] : null,
            inline(String(r.error.message || r.error.kind || '').split('\n')[0]),
          )
        : null,
    ),
    h('td', { 'data-label': 'Started' }, timeEl(r.started || r.created)),
    h(
      'td',
      { 'data-label': 'Duration', class: 'num' },
      r.started ? duration(runDuration(r, now)) : h('span', { class: 'muted' }, 'not started'),
    ),
  );
  // The whole row opens the run for a pointer; keyboard users have the link.
  tr.addEventListener('click', (e) => {
    if (e.target.closest('a, button, summary')) return;
    if (window.getSelection && String(window.getSelection()).length > 0) return;
    location.hash = href;
  });
  return tr;
}
