// Conditions as the builder shows them: rows of field, comparison and value,
// joined by "all of" (`and`) or "any of" (`or`). The builder writes these
// expressions and reads back only what it wrote (or the same shape written by
// hand); anything else stays an expression.

// Conditions the builder writes and reads back: `left OP right`, several
// joined by `and` or by `or`.
export const OPS = [
  { id: 'eq', label: 'is', write: (l, r) => `${l} == ${lit(r)}` },
  { id: 'ne', label: 'is not', write: (l, r) => `${l} != ${lit(r)}` },
  { id: 'contains', label: 'contains', write: (l, r) => `${lit(r)} in ${l}` },
  { id: 'gt', label: 'is more than', write: (l, r) => `${l} > ${lit(r)}` },
  { id: 'lt', label: 'is less than', write: (l, r) => `${l} < ${lit(r)}` },
  { id: 'set', label: 'is true (or has a value)', unary: true, write: (l) => `${l}` },
  { id: 'unset', label: 'is false (or empty)', unary: true, write: (l) => `not ${l}` },
];

/// A typed value as an expression literal: numbers and true/false as they
/// are, anything else as a quoted string.
export function lit(v) {
  const s = String(v ?? '').trim();
  if (/^-?\d+(\.\d+)?$/.test(s) || s === 'true' || s === 'false' || s === 'none') return s;
  return JSON.stringify(s);
}

export function buildCondition(left, op, right) {
  const o = OPS.find((x) => x.id === op) || OPS[0];
  return o.write(left, right);
}

export function joinConditions({ join, clauses }) {
  return clauses.map((c) => buildCondition(c.left, c.op, c.right)).join(` ${join} `);
}

/// Read back a condition the builder wrote: `{ join, clauses }`, or null for
/// any other expression (it is then shown as an expression).
export function parseConditions(s) {
  const t = String(s || '').trim();
  if (!t) return { join: 'and', clauses: [] };
  const parts = splitTopLevel(t);
  if (!parts) return null;
  const clauses = parts.texts.map(parseCondition);
  return clauses.every(Boolean) ? { join: parts.join, clauses } : null;
}

// `a and b and c` into its clauses, outside quotes and brackets; null when
// `and` and `or` are mixed (precedence the rows cannot show).
function splitTopLevel(t) {
  const texts = [];
  let join = null;
  let depth = 0;
  let quote = null;
  let start = 0;
  for (let i = 0; i < t.length; i++) {
    const c = t[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    else if (depth === 0 && /\s/.test(c)) {
      const m = /^\s+(and|or)\s+/.exec(t.slice(i));
      if (m) {
        if (join && join !== m[1]) return null;
        join = m[1];
        texts.push(t.slice(start, i).trim());
        i += m[0].length - 1;
        start = i + 1;
      }
    }
  }
  texts.push(t.slice(start).trim());
  return { join: join || 'and', texts };
}

/// One clause the builder wrote, or null.
export function parseCondition(s) {
  const t = String(s || '').trim();
  const str = '("(?:[^"\\\\]|\\\\.)*"|-?\\d+(?:\\.\\d+)?|true|false|none)';
  const name = '[A-Za-z_][\\w]*(?:\\.[A-Za-z_]\\w*|\\[\\d+\\])*';
  const path = `((?:days_since\\(${name}\\))|${name})`;
  const un = (v) => (v.startsWith('"') ? JSON.parse(v) : v);
  let m;
  if ((m = new RegExp(`^${path}\\s*==\\s*${str}$`).exec(t))) return { left: m[1], op: 'eq', right: un(m[2]) };
  if ((m = new RegExp(`^${path}\\s*!=\\s*${str}$`).exec(t))) return { left: m[1], op: 'ne', right: un(m[2]) };
  if ((m = new RegExp(`^${str}\\s+in\\s+${path}$`).exec(t))) return { left: m[2], op: 'contains', right: un(m[1]) };
  if ((m = new RegExp(`^${path}\\s*>\\s*${str}$`).exec(t))) return { left: m[1], op: 'gt', right: un(m[2]) };
  if ((m = new RegExp(`^${path}\\s*<\\s*${str}$`).exec(t))) return { left: m[1], op: 'lt', right: un(m[2]) };
  if ((m = new RegExp(`^not\\s+${path}$`).exec(t))) return { left: m[1], op: 'unset', right: '' };
  if ((m = new RegExp(`^${path}$`).exec(t))) return { left: m[1], op: 'set', right: '' };
  return null;
}
