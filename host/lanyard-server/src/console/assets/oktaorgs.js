// The Okta orgs the daemon works with (`oktaOrgs` in api.js), in an
// admin's words, and the choice of one for an Okta trigger or for a card
// step that calls Okta (`org:` in the flow file, FORMAT.md "Okta orgs").
//
// With one org, or none, there is nothing to choose: the pick functions
// answer null and the pages show no select. This module knows which orgs
// there are and what a missing `org:` means; it never writes the file (the
// builder does, through flowdoc.js) and never decides validity (the daemon
// does).

import { h } from './dom.js';

/// What an org is: the embedded sandbox, events only, or where its API is.
export function orgWhat(o) {
  return o.kind === 'sandbox' ? 'the embedded sandbox org' : o.kind === 'events-only' ? 'events only, no API access' : o.url || 'an Okta org';
}

/// Whether the admin has an org to choose: several are configured.
export function choosesOrg(orgs) {
  return Array.isArray(orgs) && orgs.length > 1;
}

/// The org a trigger or step that names none uses, or null (several orgs,
/// none named `default`).
export function defaultOrg(orgs) {
  return (orgs || []).find((o) => o.default)?.name ?? null;
}

/// Whether a card step's card calls Okta, and so takes `org:`: an `okta.`
/// card, or one that asks for Okta scopes (`card` is its listing, if loaded).
export function callsOkta(name, card) {
  if (String(name || '').startsWith('okta.')) return true;
  const asked = card && card.requested;
  return Boolean(asked && ((asked.okta || []).length || (asked.okta_api || []).length));
}

/// The org a card step without `org:` acts in: an Okta trigger's org (its
/// `org:`, else the default org), else the default org; null when neither.
export function flowOrg(trigger, orgs) {
  if (trigger && trigger.kind === 'okta' && trigger.org) return trigger.org;
  return defaultOrg(orgs);
}

// An org's name and what it is. Which one is the default needs no word:
// with several orgs it is the one named `default`.
function label(o) {
  return `${o.name} — ${orgWhat(o)}`;
}

// Each configured org, and the file's own choice when it names no
// configured org (so the select shows what the file says).
function orgOptions(orgs, current) {
  const out = orgs.map((o) => ({ value: o.name, label: label(o), selected: o.name === current }));
  if (current && !orgs.some((o) => o.name === current)) out.push({ value: current, label: `${current} — not configured in lanyard.toml`, selected: true });
  return out;
}

/// The choices for an Okta trigger's org, `[{ value, label, selected }]`, or
/// null when there is nothing to choose. `current` is the trigger's `org:`;
/// without one the default org is selected, or, when there is none, a
/// "Choose…" entry that cannot be chosen back.
export function triggerOrgChoices(orgs, current) {
  if (!choosesOrg(orgs)) return null;
  const shown = current || defaultOrg(orgs);
  const opts = orgOptions(orgs, shown);
  if (!shown) opts.unshift({ value: '', label: 'Choose the org whose events start it…', selected: true, disabled: true });
  return opts;
}

/// The choices for a card step's org, or null when there is nothing to
/// choose: first the org it uses without `org:` (value '', which removes the
/// key), then each org. `current` is the step's `org:`; `fallback` what
/// `flowOrg` says for the flow.
export function stepOrgChoices(orgs, current, fallback) {
  if (!choosesOrg(orgs)) return null;
  const none = fallback ? `The flow’s org (${fallback})` : 'The flow’s org (none: choose one)';
  return [{ value: '', label: none, selected: !current }, ...orgOptions(orgs, current || null)];
}

/// A select of `choices` labelled "Okta org" (for screen readers only with
/// `hiddenLabel`, under a heading that says it); `onChoose(value)` on a change.
export function orgSelect({ id, help, choices, onChoose, hiddenLabel = false }) {
  const sel = h(
    'select',
    { id, 'aria-describedby': help ? `${id}-help` : null },
    choices.map((c) => h('option', { value: c.value, selected: c.selected, disabled: c.disabled || null }, c.label)),
  );
  sel.addEventListener('change', () => onChoose(sel.value));
  return h('div', { class: 'sf-field' }, h('label', { for: id, class: hiddenLabel ? 'visually-hidden' : 'sf-label' }, 'Okta org'), help ? h('p', { class: 'sf-help', id: `${id}-help` }, help) : null, sel);
}
