// Words and badges for times, durations, statuses and triggers.

import { h, inline } from './dom.js';

/// Run statuses: an icon and a word besides the colour, so colour is never the
/// only cue.
export const STATUSES = {
  queued: { icon: '◷', label: 'queued' },
  running: { icon: '▶', label: 'running' },
  waiting: { icon: '‖', label: 'waiting' },
  succeeded: { icon: '✓', label: 'succeeded' },
  failed: { icon: '✕', label: 'failed' },
  stopped: { icon: '■', label: 'stopped' },
  suppressed: { icon: '⊘', label: 'suppressed' },
  cancelled: { icon: '⊗', label: 'cancelled' },
};

export const STATUS_NAMES = Object.keys(STATUSES);

export function isFinal(status) {
  return status !== 'queued' && status !== 'running' && status !== 'waiting';
}

export function statusBadge(status) {
  const s = STATUSES[status] || { icon: '?', label: String(status) };
  return h(
    'span',
    { class: `badge status-${STATUSES[status] ? status : 'unknown'}` },
    h('span', { class: 'badge-icon', 'aria-hidden': 'true' }, s.icon),
    ' ',
    s.label,
  );
}

const ABS = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});
const REL = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });

export function parseTime(s) {
  if (!s) return null;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function absolute(s) {
  const d = parseTime(s);
  return d ? ABS.format(d) : '—';
}

export function relative(s, now = Date.now()) {
  const d = parseTime(s);
  if (!d) return '—';
  const sec = Math.round((d.getTime() - now) / 1000);
  const a = Math.abs(sec);
  if (a < 5) return 'just now';
  if (a < 60) return REL.format(sec, 'second');
  if (a < 3600) return REL.format(Math.round(sec / 60), 'minute');
  if (a < 86400) return REL.format(Math.round(sec / 3600), 'hour');
  return REL.format(Math.round(sec / 86400), 'day');
}

/// `<time>` with the relative time as text and the exact one as a tooltip.
export function timeEl(s) {
  const d = parseTime(s);
  if (!d) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: d.toISOString(), title: ABS.format(d) }, relative(s));
}

/// `12ms`, `1.2s`, `2m03s` (as the text trace writes them).
export function duration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  ms = Math.max(0, Math.round(ms));
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 3600000) return `${Math.floor(ms / 60000)}m${String(Math.floor((ms % 60000) / 1000)).padStart(2, '0')}s`;
  return `${Math.floor(ms / 3600000)}h${String(Math.floor((ms % 3600000) / 60000)).padStart(2, '0')}m`;
}

/// How long a run took, or has been going.
export function runDuration(run, now = Date.now()) {
  const s = parseTime(run.started);
  if (!s) return null;
  const e = parseTime(run.ended);
  return (e ? e.getTime() : now) - s.getTime();
}

export function number(n) {
  return typeof n === 'number' ? n.toLocaleString() : '—';
}

/// A run's trigger in a few words: `okta user.lifecycle.deactivate`,
/// `schedule 0 9 * * * America/New_York`, `api`, `manual`, `called by …`.
export function runTrigger(t) {
  if (!t || typeof t !== 'object') return 'unknown';
  switch (t.kind) {
    case 'okta':
      return t.event_type || 'okta event';
    case 'schedule':
      return `schedule ${t.cron || ''} ${t.timezone || ''}`.trim();
    case 'api':
      return 'api call';
    case 'flow':
      return 'called by another flow';
    case 'manual':
      return 'run now';
    case 'rerun':
      return `re-run of ${t.of || 'a run'}`;
    default:
      return String(t.kind);
  }
}

/// A flow's trigger (as the flows endpoint of api.js serializes it) in a few words.
export function flowTrigger(t) {
  if (t === 'manual') return { kind: 'manual', text: 'manual (run now only)' };
  if (t && t.manual) {
    const inputs = Array.isArray(t.manual.inputs) ? t.manual.inputs : [];
    return { kind: 'manual', text: `manual, with a form (${inputs.map((i) => i.name).join(', ')})`, inputs };
  }
  if (!t || typeof t !== 'object') return { kind: 'unknown', text: 'unknown' };
  if (t.okta) {
    const types = Array.isArray(t.okta.event_types) ? t.okta.event_types : [];
    let text = `okta ${types.join(', ')}`;
    // The org, when the daemon has one besides the default.
    if (t.okta.org && t.okta.org !== 'default') text += ` in org ${t.okta.org}`;
    if (t.okta.filter) text += ` where ${t.okta.filter}`;
    return { kind: 'okta', text, types };
  }
  if (t.schedule) {
    return { kind: 'schedule', text: `schedule ${t.schedule.cron} (${t.schedule.timezone})` };
  }
  if (t.api) {
    const sync = t.api.sync_timeout ? `, answers within ${t.api.sync_timeout}` : '';
    return { kind: 'api', text: `api invoke${sync}` };
  }
  if (t.flow) {
    const inputs = Array.isArray(t.flow.inputs) ? t.flow.inputs.map((i) => i.name).join(', ') : '';
    return { kind: 'flow', text: `helper flow${inputs ? ` (inputs: ${inputs})` : ''}` };
  }
  return { kind: 'unknown', text: JSON.stringify(t) };
}

/// The first paragraph of a description, and whether there is more.
export function firstParagraph(text) {
  if (!text) return { first: '', more: false };
  const trimmed = String(text).trim();
  const i = trimmed.search(/\n\s*\n/);
  return i < 0 ? { first: trimmed, more: false } : { first: trimmed.slice(0, i), more: true };
}

/// A time as the clock on the wall of `zone` shows it.
export function inZone(t, zone) {
  try {
    return new Date(t).toLocaleString(undefined, { timeZone: zone, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
  } catch {
    return new Date(t).toLocaleString();
  }
}

/// A description as the author meant it: blank lines part paragraphs, lines
/// starting with "- " are list items, other line breaks are where the file
/// wrapped (so the text rewraps to the screen).
export function paragraphs(text) {
  const blocks = String(text || '').trim().split(/\n\s*\n/);
  return blocks.map((b) => {
    const lines = b.split('\n');
    if (lines[0].trim().startsWith('- ')) {
      const items = [];
      for (const l of lines) {
        if (l.trim().startsWith('- ')) items.push(l.trim().slice(2));
        else if (items.length) items[items.length - 1] += ` ${l.trim()}`;
      }
      return h('ul', null, items.map((i) => h('li', null, inline(i))));
    }
    return h('p', null, inline(lines.map((l) => l.trim()).join(' ')));
  });
}
