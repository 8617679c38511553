// What the field picker offers beyond the fields themselves, and how a
// pick becomes an expression: the run's time, a date's age, a yes/no in
// words, each item's field of a list, and a fallback for an empty value.
// Pure (no DOM), unit-tested in tests/browser/unit/picks.test.mjs.

import { words as wordsOf } from './schemaform.js';
import { lit } from './conditions.js';
import { filterFields } from './fields.js';

/// `{{ x }}` → `x` (anything else as it is).
export function stripBraces(x) {
  const m = /^\s*\{\{\s*([\s\S]*?)\s*\}\}\s*$/.exec(x);
  return m ? m[1] : x;
}

/// The picker's list with what it offers beyond the fields: each item's
/// field of a list, into text a yes/no in words, for conditions a date's
/// age in days (`days_since(u.created)`, so "older than 3 days" compares
/// numbers), and the run's time. Added entries are `whole: true` (a
/// fallback does not apply to them).
export function withExtras(list, { ages, words = false }) {
  const out = [];
  const each = new Set();
  for (const f of list) {
    out.push(f);
    // A field of a list's first item stands for that field of every item:
    // "Groups › each Name", as a list, and into text as "A, B, C".
    const at = Array.isArray(f.path) ? f.path.length - 2 : -1;
    if (at > 0 && f.path[at] === 0 && typeof f.path[at + 1] === 'string' && !['list', 'mapping'].includes(f.type)) {
      const listExpr = stripBraces(f.expression).replace(/\[0\]\.[A-Za-z_]\w*$/, '');
      const key = `${listExpr}|${f.path[at + 1]}`;
      if (!each.has(key)) {
        each.add(key);
        const listLabel = f.label.split(' › ').slice(0, -2).join(' › ').replace(/ \(list\)$/, '');
        const name = wordsOf(f.path[at + 1]);
        const attr = quoteText(f.path[at + 1]);
        // A fallback stands in when the list itself is missing (its step
        // failed); into text, when it is empty too.
        out.push({ ...f, label: `${listLabel} › each ${name} (a list)`, expression: `{{ ${listExpr} | map(attribute=${attr}) | list }}`, type: 'list', description: `The ${name.toLowerCase()} of every item.`, whole: true, fallback: { on: listExpr } });
        if (words) out.push({ ...f, label: `${listLabel} › each ${name}, as text`, expression: `{{ ${listExpr} | map(attribute=${attr}) | join(', ') }}`, type: 'text', description: `The ${name.toLowerCase()} of every item, separated by commas.`, whole: true, fallback: { or: true } });
      }
    }
    // A list of text, into text: "A, B, C" (or the fallback when it is empty).
    const last = Array.isArray(f.path) ? f.path.length - 1 : -1;
    if (words && last > 0 && f.path[last] === 0 && f.type === 'text') {
      const listExpr = stripBraces(f.expression).replace(/\[0\]$/, '');
      const listLabel = f.label.split(' › ').slice(0, -1).join(' › ').replace(/ \(list\)$/, '');
      out.push({ ...f, label: `${listLabel}, as text`, expression: `{{ ${listExpr} | join(', ') }}`, type: 'text', description: 'Every item, separated by commas.', whole: true, fallback: { or: true } });
    }
    // Into text, a yes/no (or whether a step ran: its output) can be words.
    if (words && (f.type === 'yes/no' || (f.path && f.path.length === 1 && f.group.startsWith('Step')))) {
      out.push({ ...f, label: `${f.label} › in words…`, description: 'Write one thing when it holds (or the step gave a value), another when not.', ask: 'words', whole: true });
    }
    if (ages && isDate(f)) out.push({ ...f, label: `${f.label} › age in days`, expression: `{{ days_since(${stripBraces(f.expression)}) }}`, type: 'number', description: `Whole days since ${f.label.split(' › ').pop()}.`, whole: true });
    // A date moved on: "the end date, 1 day later" (a wait until then).
    if (!ages && isDate(f)) out.push({ ...f, label: `${f.label} › some days later…`, expression: `{{ add_time(${stripBraces(f.expression)}, N, 'days') }}`, type: 'text', description: `That many days after ${f.label.split(' › ').pop()}.`, whole: true, ask: 'How many days later?' });
  }
  out.push({ group: 'Time', label: 'Now', expression: '{{ now() }}', type: 'text', description: 'The date and time when the step runs (UTC, RFC 3339).', whole: true });
  out.push({ group: 'Time', label: 'Some days ago…', expression: '{{ add_days(now(), -N) }}', type: 'text', description: 'A date and time that many days before the step runs.', whole: true, ask: 'How many days ago?' });
  out.push({ group: 'Time', label: 'Some hours from now…', expression: "{{ add_time(now(), N, 'hours') }}", type: 'text', description: 'A date and time that many hours after the step runs.', whole: true, ask: 'How many hours from now?' });
  out.push({ group: 'Time', label: 'Some days from now…', expression: "{{ add_time(now(), N, 'days') }}", type: 'text', description: 'A date and time that many days after the step runs.', whole: true, ask: 'How many days from now?' });
  out.push({ group: 'Text', label: 'A new unique id', expression: '{{ uuid() }}', type: 'text', description: 'A UUID, the same one if the run resumes after a restart.', whole: true });
  return out;
}

// Okta's timestamps (and any field a schema says is a date-time).
const DATE_KEYS = new Set(['created', 'lastUpdated', 'lastLogin', 'activated', 'statusChanged', 'passwordChanged', 'published', 'fire_time', 'transitioningToStatus']);

function isDate(f) {
  const last = Array.isArray(f.path) ? f.path[f.path.length - 1] : null;
  return f.format === 'date-time' || (typeof last === 'string' && DATE_KEYS.has(last) && f.type.includes('text'));
}

/// Typed words as an expression's text literal (single quotes read better
/// inside the double-quoted YAML the value lands in).
/// `true`, `false`, `none` and numbers are written as such (a row's
/// `sessions_revoked` is then a yes/no, a missing value a null).
export function quoteText(s) {
  const t = String(s ?? '');
  if (t.trim() === t) {
    const l = lit(t);
    if (!l.startsWith('"')) return l;
  }
  // Text as typed, spaces and line breaks kept.
  return /['\\\n\r\t]/.test(t) ? JSON.stringify(t) : `'${t}'`;
}

/// `{{ x }}` with what to write when x is empty: `{{ x | default("y") }}`;
/// with `{ on }`, when that is missing: `{{ x if on is defined else "y" }}`
/// (each item's field of a list whose step failed); with `{ or: true }`,
/// when x is empty text: `{{ x or "y" }}` (a list joined into text).
export function withFallback(expression, fallback, how = null) {
  if (!fallback) return expression;
  const inner = stripBraces(expression);
  if (how && how.on) return `{{ ${inner} if ${how.on} is defined else ${quoteText(fallback)} }}`;
  // Text stays text here ("none" is the word, not a missing value).
  if (how && how.or) return `{{ ${inner} or ${/['\\]/.test(fallback) ? JSON.stringify(fallback) : `'${fallback}'`} }}`;
  return `{{ ${inner} | default(${quoteText(fallback)}) }}`;
}


/// The entries matching every word of the search `q` (lowercase): one whose
/// label is the search's very words first ("user id": User › Id), then those
/// whose own name (the label's last part) is a searched word ("user login"
/// puts User › Profile › Login before User › Last login), otherwise in the
/// list's order; at most `max`.
export function rankMatches(list, q, max = 200) {
  const terms = q.split(/\s+/).filter(Boolean);
  const own = (f) => String(f.label).split(' › ').pop().toLowerCase();
  const wordsOf = (s) => s.toLowerCase().split(/[^\p{L}\p{N}_]+/u).filter(Boolean);
  const score = (f) => {
    const name = own(f);
    const words = wordsOf(name);
    const exact = wordsOf(String(f.label)).join(' ') === terms.join(' ') ? 10 : 0;
    return exact + terms.reduce((n, t) => n + (name === t ? 3 : words.includes(t) ? 2 : name.includes(t) ? 1 : 0), 0);
  };
  return filterFields(list, q)
    .map((f, i) => ({ f, i, s: score(f) }))
    .sort((a, b) => b.s - a.s || a.i - b.i)
    .slice(0, max)
    .map((x) => x.f);
}
