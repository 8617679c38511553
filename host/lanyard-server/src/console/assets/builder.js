// The builder: a flow edited on its own page, without writing YAML.
//
// The file stays the truth: every change is an edit of the flow's YAML
// document (flowdoc.js keeps comments, key order and formatting of what the
// edit does not touch), checked by the daemon with exactly the diagnostics of
// `lanyard validate` (the `checkFlow` endpoint), and saved only when it is
// valid, guarded by the file's etag so two admins cannot overwrite each other.
// Until then the text is a draft, kept in this browser (localStorage) so a
// refused save or a closed tab loses nothing.
//
// While editing, the diagram is drawn from the draft itself (so it also shows
// a draft that does not compile yet, with its problems on the steps), merged
// with the daemon's outline of the last valid draft for what only the
// compiler knows (run paths, summaries, triggers in words).

import { call, get } from './api.js';
import { h, fill, callout, inline, toast } from './dom.js';
import { FlowDoc, FlowDocError, shapes, stepKind, expr } from './flowdoc.js';
import { History } from './undo.js';
import { fieldsOf, insertAtCaret, renderForm, renderMapping, resolve, words } from './schemaform.js';
import { availableFields, loopsAround, tableRows, varsBefore } from './fields.js';
import { problemsByStep, walk, yamlKey } from './diagram.js';
import { OPS, joinConditions, parseConditions } from './conditions.js';
import { quoteText, rankMatches, stripBraces, withFallback, withExtras } from './picks.js';
import { callsOkta, flowOrg, orgSelect, stepOrgChoices, triggerOrgChoices } from './oktaorgs.js';

const CHECK_DELAY_MS = 350;
const DRAFT_PREFIX = 'lanyard.draft.';

const LOGIC = [
  { kind: 'if', title: 'If / else', description: 'Do some steps only when a condition holds, others when it does not.' },
  { kind: 'switch', title: 'Switch', description: 'Pick one branch by a value (a department, a status…).' },
  { kind: 'for_each', title: 'For each', description: 'Repeat steps for every item of a list (groups, devices, users…).' },
  { kind: 'call', title: 'Call flow', description: 'Run a helper flow and use what it returns.' },
  { kind: 'wait', title: 'Wait', description: 'Pause the flow for a while, until a date, or until someone answers (approve or reject).' },
  { kind: 'assign', title: 'Assign', description: 'Keep values in variables (vars) for later steps.' },
  { kind: 'return', title: 'Return', description: 'End the flow here, with a value.' },
  { kind: 'stop', title: 'Stop', description: 'End the flow here without an error.' },
  { kind: 'fail', title: 'Fail', description: 'End the flow here as failed, with a message.' },
  { kind: 'on_error', title: 'On error', description: 'Steps that run if the step above fails; the flow then goes on.' },
  { kind: 'retry', title: 'Retry', description: 'Try the card above again when it fails with a passing error (rate limit, outage).' },
];

// The steps that can have an error path (`on_error`); a wait's is its timeout's.
const ERROR_PATH_KINDS = ['card', 'call', 'if', 'switch', 'for_each', 'assign', 'wait'];

const GROUPS = ['Okta', 'Slack', 'Mail', 'HTTP', 'Tables', 'Custom'];

// What each kind of step is, in the side panel's words.
const KIND_WORDS = Object.fromEntries([['card', 'A card: one action'], ...LOGIC.map((l) => [l.kind, l.description])]);

/// Load what the builder needs once per page: the cards with their schemas,
/// the Okta event's schema (for the field picker) and the Okta orgs (a
/// trigger or card step chooses one when there are several).
async function catalog(signal) {
  const [cards, eventSchema, flows, orgs] = await Promise.all([
    get('cards', { signal }),
    get('eventSchema', { signal }).catch(() => null),
    get('flows', { signal }).catch(() => ({ flows: [] })),
    get('oktaOrgs', { signal }).catch(() => ({ orgs: [] })),
  ]);
  const byName = new Map();
  for (const c of cards.cards || []) {
    // The newest version of each card (the listing has every version).
    const prev = byName.get(c.name);
    if (!prev || compareVersions(c.version, prev.version) > 0) byName.set(c.name, c);
  }
  return { cards: byName, eventSchema: eventSchema && (eventSchema.schema || eventSchema), flows: flows.flows || [], orgs: orgs.orgs || [] };
}

function compareVersions(a, b) {
  const pa = String(a).split(/[.+-]/).map((x) => Number(x) || 0);
  const pb = String(b).split(/[.+-]/).map((x) => Number(x) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) if ((pa[i] || 0) !== (pb[i] || 0)) return (pa[i] || 0) - (pb[i] || 0);
  return 0;
}

/// Start editing the flow shown by `view` (a FlowView of flowpage.js).
export async function edit(view) {
  let doc;
  try {
    doc = FlowDoc.parse(view.detail.source);
  } catch (e) {
    toast(`This file cannot be edited in the builder: ${e.message}`, 'error');
    return;
  }
  const reason = doc.readOnlyReason();
  if (reason) {
    view.readOnly = reason;
    toast(`This file opens read-only: ${reason}. Edit it as YAML.`, 'error');
    view.draw();
    return;
  }
  let cat;
  try {
    cat = await catalog(view.ctx.signal);
  } catch (e) {
    if (e.name !== 'AbortError') toast(`Cannot load the cards: ${e.message}`, 'error');
    return;
  }
  const ed = new Editor(view, doc, cat);
  view.editor = ed;
  view.ctx.onCleanup(() => ed.close());
  ed.offerDraft();
  ed.refresh();
}

class Editor {
  constructor(view, doc, cat) {
    this.view = view;
    this.doc = doc;
    this.cat = cat;
    this.history = new History(doc.toString());
    this.selectedYaml = null;
    this.checkTimer = null;
    this.checkSeq = 0;
    this.lastGood = view.detail.outline; // the daemon's outline of the last valid text
    this.diagnostics = view.detail.diagnostics || [];
    this.state = 'saved'; // saved | changed | checking | invalid | valid | saving
    this.onKey = (e) => this.key(e);
    document.addEventListener('keydown', this.onKey);
    this.onLeave = (e) => {
      if (this.history.dirty) {
        e.preventDefault();
        e.returnValue = '';
      }
    };
    window.addEventListener('beforeunload', this.onLeave);
  }

  close() {
    document.removeEventListener('keydown', this.onKey);
    window.removeEventListener('beforeunload', this.onLeave);
    clearTimeout(this.checkTimer);
  }

  draftKey() {
    return DRAFT_PREFIX + (this.view.detail.file || this.view.detail.name);
  }

  /// A draft of this file left in this browser: offer it back.
  offerDraft() {
    let kept = null;
    try {
      kept = JSON.parse(localStorage.getItem(this.draftKey()) || 'null');
    } catch {
      kept = null;
    }
    if (!kept || kept.source === this.doc.toString()) return;
    if (kept.base !== this.view.detail.etag) {
      this.notice = { kind: 'warn', text: `An unsaved draft from ${new Date(kept.at).toLocaleString()} was made on an older version of this file.`, draft: kept };
    } else {
      this.notice = { kind: 'info', text: `You have an unsaved draft from ${new Date(kept.at).toLocaleString()}.`, draft: kept };
    }
  }

  restoreDraft(kept) {
    try {
      this.doc = FlowDoc.parse(kept.source);
    } catch (e) {
      toast(`The draft cannot be read: ${e.message}`, 'error');
      return;
    }
    this.notice = null;
    this.history.push(this.doc.toString());
    this.changed();
  }

  keepDraft() {
    try {
      if (this.history.dirty) localStorage.setItem(this.draftKey(), JSON.stringify({ source: this.doc.toString(), base: this.view.detail.etag, at: Date.now() }));
      else localStorage.removeItem(this.draftKey());
    } catch {
      // Storage full or disabled: the draft lives as long as the page.
    }
  }

  /// Go on from the file as the daemon has it now (after a write that was
  /// not this edit's: on/off, revert), with no undo past it.
  resetTo(detail) {
    this.doc = FlowDoc.parse(detail.source);
    this.history.reset(detail.source);
    this.lastGood = detail.outline;
    this.diagnostics = detail.diagnostics || [];
    this.state = 'saved';
    this.update();
  }

  // ---- edits ------------------------------------------------------------------

  /// Apply `fn(doc)` as one edit; `field` coalesces typing in one field into
  /// one undo step. Returns what `fn` returned, or undefined if it failed.
  edit(fn, { field = null, redraw = true } = {}) {
    let r;
    try {
      r = this.doc.batch(fn);
    } catch (e) {
      toast(e instanceof FlowDocError ? e.message : `Cannot do that: ${e.message}`, 'error');
      return undefined;
    }
    if (this.history.push(this.doc.toString(), { field })) this.changed(redraw);
    return r;
  }

  changed(redraw = true) {
    this.state = 'checking';
    // A test of the text before this edit says nothing of this one.
    this.view.paint = null;
    this.keepDraft();
    clearTimeout(this.checkTimer);
    this.checkTimer = setTimeout(() => this.check(), CHECK_DELAY_MS);
    if (redraw) this.refresh();
    else this.refreshLive();
  }

  async check() {
    const seq = ++this.checkSeq;
    const source = this.doc.toString();
    try {
      const r = await call('checkFlow', { body: { source, file: this.view.detail.file }, signal: this.view.ctx.signal });
      if (seq !== this.checkSeq) return;
      this.diagnostics = r.body.diagnostics || [];
      if (r.body.ok && r.body.outline) this.lastGood = r.body.outline;
      this.state = r.body.ok ? 'valid' : 'invalid';
    } catch (e) {
      if (e.name === 'AbortError' || seq !== this.checkSeq) return;
      this.state = 'invalid';
      this.diagnostics = [{ severity: 'error', message: `cannot check the flow: ${e.message}`, span: { start: { line: 0 } } }];
    }
    this.refreshLive();
  }

  undo() {
    const t = this.history.undo();
    if (t !== null) this.load(t);
  }

  redo() {
    const t = this.history.redo();
    if (t !== null) this.load(t);
  }

  load(text) {
    this.doc = FlowDoc.parse(text);
    this.changed();
  }

  key(e) {
    const mod = e.ctrlKey || e.metaKey;
    if (!mod || e.altKey) return;
    const inField = e.target.closest && e.target.closest('input, textarea, select, [contenteditable]');
    // Ctrl+Space in a field that takes values: its picker, inserting where the caret is.
    if (inField && e.code === 'Space' && !e.shiftKey) {
      const holder = inField.closest('.map-row, .sf-field');
      const pick = holder && [...holder.querySelectorAll('button')].find((b) => b.classList.contains('sf-pick') || b.textContent === 'Insert a value from…');
      if (pick) {
        e.preventDefault();
        // As a click on the button would: the field lets go of the focus
        // (keeping its caret) before the picker's modal makes it inert.
        inField.blur();
        pick.click();
      }
      return;
    }
    if (inField) return; // the field's own undo
    if (e.key === 'z' && !e.shiftKey) {
      e.preventDefault();
      this.undo();
    } else if ((e.key === 'z' && e.shiftKey) || e.key === 'y') {
      e.preventDefault();
      this.redo();
    } else if (e.key === 's') {
      e.preventDefault();
      this.save();
    }
  }

  // ---- the page -----------------------------------------------------------------

  /// The draft as the view shows it (text, diagram model, problems), the
  /// whole page redrawn: after a change of structure or of selection.
  refresh() {
    this.update();
    this.view.draw();
  }

  /// The same, redrawing only what does not hold the admin's typing (after a
  /// check, or as they type in a field).
  refreshLive() {
    this.update();
    this.view.drawLive();
  }

  update() {
    this.view.draft = { source: this.doc.toString(), outline: this.outline(), diagnostics: this.diagnostics };
    if (this.selectedYaml) this.view.selected = this.pathOf(this.selectedYaml);
  }

  pathOf(yamlK) {
    const n = walk(this.view.draft.outline).find((x) => yamlKey(x.yaml) === yamlK);
    return n ? n.path : null;
  }

  /// The diagram model of the draft: its structure from the document, the
  /// daemon's words and run paths where the last valid outline has the step.
  outline() {
    const value = this.doc.get([]) || {};
    const server = new Map(walk(this.lastGood).map((n) => [yamlKey(n.yaml), n]));
    const text = this.doc.toString();
    const lineOf = (path) => {
      const node = path.length ? this.doc.doc.getIn(path, true) : this.doc.doc.contents;
      const at = node && node.range ? node.range[0] : 0;
      return text.slice(0, at).split('\n').length;
    };
    const counters = {};
    const nodes = (list, yamlList, parentPath, scope) => {
      const out = [];
      const seen = [...scope];
      (Array.isArray(list) ? list : []).forEach((step, i) => {
        const yaml = [...yamlList, i];
        const kind = stepKind(step) || 'card';
        counters[kind] = (counters[kind] || 0) + 1;
        // The daemon's node for this place, if it is still the same step
        // (an insert or a move shifts the places of the steps after it).
        const candidate = server.get(yamlKey(yaml));
        const same = candidate && candidate.kind === kind && (typeof step.id === 'string' ? candidate.id === step.id : !candidate.id_given) && (kind !== 'card' || candidate.card === cardName(step));
        const fromServer = same ? candidate : null;
        const id = typeof step.id === 'string' ? step.id : fromServer ? fromServer.id : `${kind.replace('_', '-')}-${counters[kind]}`;
        const path = fromServer ? fromServer.path : parentPath ? `${parentPath}/${id}` : id;
        const n = {
          yaml,
          path,
          id,
          id_given: typeof step.id === 'string',
          kind,
          description: typeof step.description === 'string' ? step.description : null,
          summary: fromServer ? fromServer.summary : this.summary(step, kind),
          card: kind === 'card' ? cardName(step) : null,
          // A loop over pages: the card that answers them.
          paged: kind === 'for_each' && pagedSource(step) ? cardName(step.for_each) : null,
          // The Okta org the file names for the card (or the page loop's card).
          org: orgOf(step, kind),
          call: kind === 'call' ? String(step.call || '') : null,
          // A card's or a call's inputs; a return's named values.
          inputs: Object.entries(isObj(step.with) ? step.with : kind === 'return' && isObj(step.return) ? step.return : {})
            .slice(0, 4)
            .map(([k, v]) => ({ key: k, text: cut(inputWords(v), 80) })),
          retry: step.retry ? retryWords(step.retry) : null,
          line: lineOf(yaml),
          ends: ['return', 'stop', 'fail'].includes(kind),
          scope: [...seen],
          branches: [],
        };
        const inner = [...seen];
        if (kind === 'if') {
          n.branches.push({ label: 'Then', role: 'then', yaml: [...yaml, 'then'], steps: nodes(step.then, [...yaml, 'then'], path, inner) });
          n.branches.push({ label: 'Else', role: 'else', yaml: [...yaml, 'else'], steps: nodes(step.else, [...yaml, 'else'], path, inner) });
        } else if (kind === 'switch') {
          for (const c of Object.keys(isObj(step.cases) ? step.cases : {})) {
            n.branches.push({ label: `Case “${c}”`, role: 'case', key: c, yaml: [...yaml, 'cases', c], steps: nodes(step.cases[c], [...yaml, 'cases', c], path, inner) });
          }
          n.branches.push({ label: 'Otherwise', role: 'default', yaml: [...yaml, 'default'], steps: nodes(step.default, [...yaml, 'default'], path, inner) });
        } else if (kind === 'for_each') {
          const as = step.as || 'item';
          n.branches.push({ label: `For each ${as}`, role: 'loop', yaml: [...yaml, 'steps'], steps: nodes(step.steps, [...yaml, 'steps'], path, [...inner, as, 'loop']) });
        }
        if (Array.isArray(step.on_error)) {
          n.branches.push({ label: 'On error', role: 'on_error', yaml: [...yaml, 'on_error'], steps: nodes(step.on_error, [...yaml, 'on_error'], `${path}/on_error`, [...inner, 'error']) });
        }
        out.push(n);
        seen.push(id);
      });
      return out;
    };
    const base = this.lastGood || {};
    const trig = this.doc.trigger();
    const sameTrigger = base.trigger && triggerOf(base.trigger) === triggerOf(trig);
    return {
      name: value.name || '(no name yet)',
      description: typeof value.description === 'string' ? value.description : '',
      enabled: value.enabled !== false,
      file: this.view.detail.file,
      trigger: { ...(sameTrigger ? base.trigger : { kind: trig.kind, words: triggerWords(trig), inputs: trig.inputs }), org: trig.org || null },
      steps: nodes(value.steps, ['steps'], '', ['event', 'vars', 'flow', ...(declaresInputs(trig) ? ['inputs'] : [])]),
      on_failure: nodes(value.on_failure, ['on_failure'], 'on_failure', ['event', 'vars', 'flow', 'error', ...(declaresInputs(trig) ? ['inputs'] : [])]),
    };
  }

  summary(step, kind) {
    if (kind === 'card') {
      const name = cardName(step);
      const c = this.cat.cards.get(name);
      return c ? `${c.group || 'Custom'}: ${cardTitle(c)}` : name;
    }
    if (kind === 'if') return `If ${step.if}`;
    if (kind === 'switch') return `By ${step.switch}`;
    if (kind === 'for_each') return `For each ${step.as || 'item'} in ${pagedSource(step) ? `every page of ${step.for_each.card}` : step.for_each}`;
    if (kind === 'call') return `Call flow “${step.call}”${step.wait === false ? ', without waiting' : ''}`;
    if (kind === 'assign') return `Set ${Object.keys(isObj(step.assign) ? step.assign : {}).join(', ')}`;
    if (kind === 'return') return 'Return a value';
    if (kind === 'stop') return 'Stop';
    if (kind === 'fail') return `Fail: ${step.fail}`;
    if (kind === 'wait') return waitWords(step.wait);
    return kind;
  }

  toolbar() {
    const undo = h('button', { type: 'button', disabled: !this.history.canUndo, 'aria-keyshortcuts': 'Control+Z', on: { click: () => this.undo() } }, 'Undo');
    const redo = h('button', { type: 'button', disabled: !this.history.canRedo, 'aria-keyshortcuts': 'Control+Shift+Z', on: { click: () => this.redo() } }, 'Redo');
    const save = h('button', { type: 'button', class: 'primary', id: 'builder-save', disabled: !this.history.dirty || this.state === 'saving', on: { click: () => this.save() } }, 'Save');
    const done = h('button', { type: 'button', on: { click: () => this.leave() } }, this.history.dirty ? 'Discard changes' : 'Done');
    const settings = h('button', { type: 'button', on: { click: () => this.selectFlowSettings() } }, 'Name, description, trigger');
    this.statusEl = h('span', { class: `builder-status state-${this.state}`, role: 'status', 'aria-live': 'polite' });
    this.drawStatus();
    const bar = h('div', { class: 'builder-bar', role: 'toolbar', 'aria-label': 'Builder' }, h('strong', null, 'Editing'), undo, redo, settings, this.statusEl, h('span', { class: 'spacer' }), done, save);
    const notice = this.notice
      ? callout(
          this.notice.kind,
          this.notice.text,
          h(
            'p',
            null,
            h('button', { type: 'button', on: { click: () => this.restoreDraft(this.notice.draft) } }, 'Restore the draft'),
            ' ',
            h(
              'button',
              {
                type: 'button',
                class: 'quiet',
                on: {
                  click: () => {
                    this.notice = null;
                    try {
                      localStorage.removeItem(this.draftKey());
                    } catch {
                      // nothing kept
                    }
                    this.refresh();
                  },
                },
              },
              'Throw it away',
            ),
          ),
        )
      : null;
    return h('div', { class: 'builder-top' }, bar, notice, this.conflict ? this.conflictBox() : null);
  }

  drawStatus() {
    if (!this.statusEl) return;
    const errors = this.diagnostics.filter((d) => d.severity === 'error').length;
    const text = {
      saved: 'No changes',
      checking: 'Checking…',
      invalid: `${errors} problem${errors === 1 ? '' : 's'} to fix before saving (your draft is kept in this browser)`,
      valid: 'Unsaved changes, ready to save',
      saving: 'Saving…',
    }[this.state] || '';
    this.statusEl.textContent = this.history.dirty || this.state !== 'valid' ? text : 'No changes';
    this.statusEl.className = `builder-status state-${this.state}`;
  }

  leave() {
    if (this.history.dirty && !confirm('Throw away your changes to this flow?')) return;
    try {
      localStorage.removeItem(this.draftKey());
    } catch {
      // nothing kept
    }
    this.close();
    this.view.editor = null;
    this.view.draft = null;
    this.view.selected = null;
    this.view.draw();
  }

  async save() {
    if (!this.history.dirty) return;
    if (this.state === 'checking') await this.check();
    if (this.state === 'invalid') {
      toast('The flow has problems (shown on its steps); fix them to save. Your draft is kept in this browser.', 'error');
      return;
    }
    const note = (this.noteInput && this.noteInput.value.trim()) || null;
    this.state = 'saving';
    this.drawStatus();
    try {
      const r = await call('saveFlow', {
        params: { flow: this.view.detail.name },
        body: { source: this.doc.toString(), note },
        headers: { 'If-Match': this.view.detail.etag },
        signal: this.view.ctx.signal,
      });
      this.history.markSaved();
      try {
        localStorage.removeItem(this.draftKey());
      } catch {
        // nothing kept
      }
      toast(`Saved as version ${r.body.version}.`);
      const newName = this.doc.name;
      this.view.detail = await get('flow', { params: { flow: newName }, signal: this.view.ctx.signal });
      this.lastGood = this.view.detail.outline;
      this.state = 'saved';
      if (newName !== this.view.name) {
        this.view.name = newName;
        this.view.ctx.replaceQuery({});
        history.replaceState(null, '', `#/flows/${encodeURIComponent(newName)}`);
      }
      this.refresh();
    } catch (e) {
      if (e.name === 'AbortError') return;
      this.state = 'valid';
      if (e.status === 412) {
        this.conflict = e.body && e.body.current ? e.body.current : { source: null };
        toast('Not saved: the file changed since you opened it.', 'error');
      } else if (e.status === 422) {
        this.diagnostics = (e.body && e.body.diagnostics) || this.diagnostics;
        this.state = 'invalid';
        toast('Not saved: the daemon found problems (shown on the steps).', 'error');
      } else {
        toast(`Not saved: ${e.message}`, 'error');
      }
      this.refresh();
    }
  }

  conflictBox() {
    const theirs = this.conflict;
    return callout(
      'error',
      'Someone else changed this flow since you opened it',
      h('p', null, 'Another admin saved it, or the file was edited by hand. Your edit is not saved and is kept as a draft in this browser.'),
      h(
        'p',
        null,
        h(
          'button',
          {
            type: 'button',
            on: {
              click: async () => {
                // Start again from their version; the draft stays in local storage.
                this.view.detail = await get('flow', { params: { flow: this.view.detail.name }, signal: this.view.ctx.signal });
                this.conflict = null;
                this.resetTo(this.view.detail);
                this.offerDraft();
                this.refresh();
              },
            },
          },
          'Load their version (your draft can be restored)',
        ),
      ),
      theirs && theirs.source ? h('details', null, h('summary', null, 'Their version'), h('pre', { class: 'trace-text' }, theirs.source)) : null,
    );
  }

  // ---- selection and the side panel ---------------------------------------------

  selected(node) {
    this.selectedYaml = node ? yamlKey(node.yaml) : null;
    this.settingsOpen = false;
  }

  selectFlowSettings() {
    this.settingsOpen = true;
    this.selectedYaml = null;
    this.view.selected = '__flow__';
    this.view.draw();
  }

  /// The form for the selected step (or the flow's own settings).
  panel(node) {
    if (this.settingsOpen) return this.flowSettings();
    if (!node) {
      return h(
        'div',
        { class: 'builder-panel side-empty' },
        h('p', null, 'Click a step to change it, or a ', h('strong', null, '+'), ' to add one there.'),
        h('p', null, h('button', { type: 'button', on: { click: () => this.selectFlowSettings() } }, 'Change the name, description or trigger')),
      );
    }
    const step = this.doc.get(node.yaml);
    if (!step) return h('p', { class: 'muted' }, 'This step is gone (undone?). Pick another.');
    const kind = stepKind(step) || 'card';
    const p = node.yaml;
    const at = (key) => `${yamlKey(p)}.${key}`;
    const problems = problemsByStep(this.view.draft.outline, this.diagnostics).get(yamlKey(p)) || [];
    const parts = [
      h('h2', null, node.description || node.summary || node.id),
      h('p', { class: 'muted small' }, KIND_WORDS[kind] || kind),
      problems.length
        ? callout('error', problems.length === 1 ? 'A problem in this step' : `${problems.length} problems in this step`, h('ul', null, problems.map((d) => h('li', null, d.message, d.help ? h('span', { class: 'muted' }, ` — ${d.help}`) : null))))
        : null,
      this.textField('Step name', 'A short name; later steps read this step’s output by it.', step.id || '', (v) => this.edit((d) => d.setStepField(p, 'id', v.trim() || null), { field: at('id'), redraw: false }), { id: 'step-id' }),
      this.textField('Description', 'What this step is for, in a sentence.', step.description || '', (v) => this.edit((d) => d.setStepField(p, 'description', v.trim() || null), { field: at('description'), redraw: false }), { id: 'step-description', multiline: true }),
    ];
    if (kind === 'card') parts.push(this.cardForm(node, step));
    else if (kind === 'if') parts.push(this.conditionForm(node, step, 'if'));
    else if (kind === 'switch') parts.push(this.switchForm(node, step));
    else if (kind === 'for_each') parts.push(this.loopForm(node, step));
    else if (kind === 'call') parts.push(this.callForm(node, step));
    else if (kind === 'assign') parts.push(this.assignForm(node, step));
    else if (kind === 'wait') parts.push(this.waitForm(node, step));
    else parts.push(this.endForm(node, step, kind));
    if (ERROR_PATH_KINDS.includes(kind)) parts.push(this.errorForm(node, step));
    parts.push(this.stepActions(node));
    this.noteInput = null;
    return h('div', { class: 'builder-panel' }, parts);
  }

  textField(label, help, value, onInput, { id, multiline = false, onPick = null } = {}) {
    const el = h(multiline ? 'textarea' : 'input', { id, type: multiline ? null : 'text', rows: multiline ? '3' : null, 'aria-describedby': help ? `${id}-help` : null });
    el.value = value;
    el.addEventListener('input', () => onInput(el.value));
    el.addEventListener('blur', () => this.history.seal());
    const pick = onPick
      ? h('button', { type: 'button', class: 'link', title: 'Or press Ctrl+Space in the field', on: { click: () => this.openPicker(onPick.node, (x) => onInput(insertAtCaret(el, x)), null, { text: true }) } }, 'Insert a value from…')
      : null;
    return h('div', { class: 'sf-field' }, h('label', { for: id, class: 'sf-label' }, label), help ? h('p', { class: 'sf-help', id: `${id}-help` }, help) : null, el, pick);
  }

  /// `omit`: inputs the admin does not give (a loop over pages sets `after`).
  cardForm(node, step, omit = []) {
    const name = cardName(step);
    const card = this.cat.cards.get(name);
    const p = node.yaml;
    const head = h('p', null, 'Card ', h('code', null, step.card), card ? h('span', { class: 'muted small' }, ' — ', inline(card.description)) : null);
    if (!card) return h('div', null, head, callout('error', 'This card is not loaded', h('p', null, 'Publish it, or pick another card.')));
    // Required inputs first, then the rest, each group in the card's order.
    const fields = (card.input_schema ? fieldsOf(card.input_schema) : []).filter((f) => !omit.includes(f.key)).sort((a, b) => Number(b.required) - Number(a.required));
    const values = isObj(step.with) ? step.with : {};
    const form = fields.length
      ? renderForm(fields, values, {
          id: `in-${node.id}`,
          onChange: (key, v) => this.edit((d) => d.setInput(p, key, v), { field: `${yamlKey(p)}.with.${key}`, redraw: false }),
          onPick: (field, set) => this.openPicker(node, set, field, { text: field.kind === 'text' || field.kind === 'mapping' }),
        })
      : h('p', { class: 'muted' }, 'This card takes no input.');
    const retry = this.retryForm(node, step);
    return h('div', { class: 'card-form' }, head, this.stepOrgField(node, step), h('h3', null, 'Inputs'), form, retry);
  }

  /// Which Okta org a card that calls Okta acts in, when there are several:
  /// the flow's (no `org:`) or one by name. `node.yaml` is the card's
  /// mapping (a loop over pages' is its `for_each`).
  stepOrgField(node, step) {
    const name = cardName(step);
    if (!callsOkta(name, this.cat.cards.get(name))) return null;
    const choices = stepOrgChoices(this.cat.orgs, step.org ? String(step.org) : null, flowOrg(this.doc.trigger(), this.cat.orgs));
    if (!choices) return null;
    const p = node.yaml;
    return orgSelect({
      id: 'step-org',
      help: 'The Okta org this card reads and changes.',
      choices,
      onChoose: (v) => this.edit((d) => d.setStepField(p, 'org', v || null)),
    });
  }

  retryForm(node, step) {
    const p = node.yaml;
    const r = step.retry;
    const attempts = typeof r === 'number' ? r : isObj(r) ? r.attempts : 1;
    const sel = h('select', { id: 'step-retry' }, [1, 2, 3, 5].map((n) => h('option', { value: String(n), selected: n === attempts }, n === 1 ? 'No retry' : `${n} tries`)));
    sel.addEventListener('change', () => {
      const n = Number(sel.value);
      this.edit((d) => d.setStepField(p, 'retry', n === 1 ? null : { attempts: n, backoff: isObj(r) && r.backoff ? r.backoff : '2s' }));
    });
    return h('div', { class: 'sf-field' }, h('label', { for: 'step-retry', class: 'sf-label' }, 'If it fails with a passing error (rate limit, outage)'), sel);
  }

  /// If: field, comparison, value — written as one expression for the admin.
  conditionForm(node, step) {
    const p = node.yaml;
    return this.conditionEditor({
      node,
      title: 'Condition',
      current: String(step.if ?? ''),
      key: `${yamlKey(p)}.if`,
      write: (d, cond) => d.setStepField(p, 'if', cond),
    });
  }

  /// A condition as rows of field, comparison and value, joined by "all
  /// of" or "any of" (written as one expression for the admin), or as an
  /// expression for those who want one. `write(doc, text)` puts it in the
  /// file; `null` text removes it.
  conditionEditor({ node, title, current, key, write: put, optional = false, help = null }) {
    const parsed = parseConditions(current);
    const state = parsed || { join: 'and', clauses: [] };
    const write = () => {
      const cond = state.clauses.length ? joinConditions(state) : null;
      if (cond === null && !optional) return;
      this.edit((d) => put(d, cond), { field: key, redraw: false });
    };
    const pickInto = (use) => this.openPicker(node, (x) => {
      use(stripBraces(x));
      write();
      this.refresh();
    }, null, { forCondition: true });
    const row = (c, i) => {
      const n = i === 0 ? '' : `-${i + 1}`;
      const field = h('input', { id: `cond-field${n}`, type: 'text', readonly: true, value: c.left });
      const op = h('select', { id: `cond-op${n}` }, OPS.map((o) => h('option', { value: o.id, selected: c.op === o.id }, o.label)));
      const value = h('input', { id: `cond-value${n}`, type: 'text', value: c.right ?? '' });
      value.hidden = OPS.find((o) => o.id === c.op).unary;
      op.addEventListener('change', () => {
        c.op = op.value;
        value.hidden = OPS.find((o) => o.id === op.value).unary;
        write();
      });
      value.addEventListener('input', () => {
        c.right = value.value;
        write();
      });
      const remove =
        state.clauses.length > 1
          ? h('button', { type: 'button', class: 'link', 'aria-label': `Remove condition ${i + 1}`, on: { click: () => {
              state.clauses.splice(i, 1);
              write();
              this.refresh();
            } } }, 'Remove')
          : null;
      return h(
        'div',
        { class: 'cond-clause' },
        h('div', { class: 'cond-row' }, h('label', { for: `cond-field${n}`, class: 'visually-hidden' }, `Field ${i + 1}`), field, h('button', { type: 'button', on: { click: () => pickInto((x) => (c.left = x)) } }, 'Pick a field…')),
        h('div', { class: 'cond-row' }, h('label', { for: `cond-op${n}`, class: 'visually-hidden' }, 'Comparison'), op, h('label', { for: `cond-value${n}`, class: 'visually-hidden' }, 'Value'), value, remove),
      );
    };
    const join = h('select', { id: 'cond-join' }, h('option', { value: 'and', selected: state.join === 'and' }, 'All of these are true'), h('option', { value: 'or', selected: state.join === 'or' }, 'Any of these is true'));
    join.addEventListener('change', () => {
      state.join = join.value;
      write();
    });
    const add = h('button', { type: 'button', id: 'cond-add', on: { click: () => pickInto((x) => state.clauses.push({ left: x, op: 'set', right: '' })) } }, state.clauses.length ? 'And another condition…' : 'Pick a field…');
    const clear = optional && current ? h('button', { type: 'button', class: 'link', on: { click: () => this.edit((d) => put(d, null)) } }, 'Remove the condition') : null;
    const raw = this.textField('Or write the condition', 'An expression, for those who want one: user.profile.department == "Sales"', current, (v) => this.edit((d) => put(d, v.trim() || (optional ? null : v)), { field: `${key}.raw`, redraw: false }), { id: 'cond-raw' });
    const rows = parsed
      ? [state.clauses.length > 1 ? h('div', { class: 'cond-row' }, h('label', { for: 'cond-join', class: 'visually-hidden' }, 'How the conditions combine'), join) : null, ...state.clauses.map(row), h('p', null, add)]
      : [h('p', { class: 'sf-help' }, 'This condition is an expression the rows cannot show; change it below, or start again:'), h('p', null, h('button', { type: 'button', on: { click: () => pickInto((x) => state.clauses.push({ left: x, op: 'set', right: '' })) } }, 'Pick a field…'))];
    return h('div', { class: 'condition-form' }, h('h3', null, title), help ? h('p', { class: 'sf-help' }, help) : null, ...rows, clear, h('details', { open: !parsed && current ? true : null }, h('summary', null, 'Expression'), raw));
  }

  switchForm(node, step) {
    const p = node.yaml;
    const subject = h('input', { id: 'switch-subject', type: 'text', readonly: true, value: String(step.switch ?? '') });
    const pick = h('button', { type: 'button', on: { click: () => this.openPicker(node, (x) => this.edit((d) => d.setStepField(p, 'switch', stripBraces(x)))) } }, 'Pick a field…');
    const cases = Object.keys(isObj(step.cases) ? step.cases : {});
    const add = h('input', { id: 'switch-add', type: 'text', placeholder: 'A value, e.g. Sales' });
    const addCase = () => {
      const v = add.value.trim();
      if (!v) return;
      // The new switch's placeholder case, still empty, becomes the first real one.
      const placeholder = cases.length === 1 && cases[0] === 'case' && !(step.cases.case || []).length;
      this.edit((d) => (placeholder ? d.renameCase(p, 'case', v) : d.addCase(p, v)));
      // Ready for the next one.
      document.getElementById('switch-add')?.focus();
    };
    add.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        addCase();
      }
    });
    const addBtn = h('button', { type: 'button', on: { click: addCase } }, 'Add case');
    return h(
      'div',
      null,
      h('h3', null, 'Branch by'),
      h('div', { class: 'cond-row' }, h('label', { for: 'switch-subject', class: 'visually-hidden' }, 'Value to branch by'), subject, pick),
      h('h3', null, 'Cases'),
      h('ul', { class: 'case-list' }, cases.map((c) => h('li', null, h('span', null, c), ' ', h('button', { type: 'button', class: 'link', on: { click: () => confirm(`Remove case “${c}” and its steps?`) && this.edit((d) => d.removeCase(p, c)) } }, 'Remove')))),
      h('div', { class: 'cond-row' }, h('label', { for: 'switch-add', class: 'visually-hidden' }, 'New case'), add, addBtn),
    );
  }

  loopForm(node, step) {
    const p = node.yaml;
    const as = this.textField('Name of each item', 'Steps inside read the current item by this name.', step.as || 'item', (v) => this.edit((d) => d.setStepField(p, 'as', v.trim() || null), { field: `${yamlKey(p)}.as`, redraw: false }), { id: 'loop-as' });
    if (pagedSource(step)) {
      // Every item of every page a card answers: the card's own form, at
      // `for_each` (its `with` and `retry`), without the cursor.
      return h(
        'div',
        null,
        h('h3', null, 'Repeat for each item of every page of'),
        h('p', { class: 'muted small' }, 'The card is asked for one page at a time, as many as there are, so the list can be any length.'),
        this.cardForm({ ...node, yaml: [...p, 'for_each'] }, step.for_each, ['after']),
        as,
        this.reduceForm(node, step),
      );
    }
    const list = h('input', { id: 'loop-list', type: 'text', readonly: true, value: String(step.for_each ?? '') });
    const pick = h('button', { type: 'button', on: { click: () => this.openPicker(node, (x) => this.edit((d) => d.setStepField(p, 'for_each', x)), { wantList: true }) } }, 'Pick a list…');
    return h(
      'div',
      null,
      h('h3', null, 'Repeat for each item of'),
      h('div', { class: 'cond-row' }, h('label', { for: 'loop-list', class: 'visually-hidden' }, 'List'), list, pick),
      as,
      this.textField(
        'Keep from each item (optional)',
        `A value read at the end of each pass, such as {{ ${step.as || 'item'}.profile.login }}: the loop then gives the list of these values (empty ones left out), in the list’s order.`,
        String(step.collect ?? ''),
        (v) => this.edit((d) => d.setStepField(p, 'collect', v.trim() || null), { field: `${yamlKey(p)}.collect`, redraw: false }),
        { id: 'loop-collect' },
      ),
      this.reduceForm(node, step),
    );
  }

  /// A loop's totals (`reduce`): each a variable the loop sets, its start
  /// and its next value from `acc`, the value so far.
  reduceForm(node, step) {
    const p = node.yaml;
    const totals = isObj(step.reduce) ? step.reduce : {};
    const names = Object.keys(totals);
    const field = (name, key, label, i) => {
      const spec = isObj(totals[name]) ? totals[name] : {};
      const v = spec[key];
      const el = h('input', { type: 'text', id: `reduce-${key}-${i}`, 'aria-label': `${label} of ${name}` });
      el.value = v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
      el.addEventListener('input', () => this.edit((d) => d.setStepField([...p, 'reduce', name], key, typedValue(el.value)), { field: `${yamlKey(p)}.reduce.${name}.${key}`, redraw: false }));
      el.addEventListener('blur', () => this.history.seal());
      return el;
    };
    const remove = (name) =>
      this.edit((d) => (names.length === 1 ? d.removeStepField(p, 'reduce') : d.removeStepField([...p, 'reduce'], name)));
    const add = () => {
      let name = 'total';
      for (let n = 2; names.includes(name); n++) name = `total_${n}`;
      const spec = { start: 0, each: '{{ acc + 1 }}' };
      this.edit((d) => (names.length ? d.setStepField([...p, 'reduce'], name, spec) : d.setStepField(p, 'reduce', { [name]: spec })));
    };
    return h(
      'div',
      { class: 'reduce-form' },
      h('h3', null, 'Totals'),
      h('p', { class: 'sf-help' }, 'Values the loop adds up as it goes, such as a count; after the loop each is ', h('code', null, 'vars.<name>'), '. Each pass sets it to “next”, where ', h('code', null, 'acc'), ' is the value so far.'),
      names.map((name, i) =>
        h(
          'div',
          { class: 'reduce-row' },
          h('p', { class: 'reduce-head' }, h('code', null, `vars.${name}`), ' ', h('button', { type: 'button', class: 'link', on: { click: () => remove(name) } }, 'Remove')),
          h('label', { for: `reduce-start-${i}`, class: 'sf-label' }, 'Start'),
          field(name, 'start', 'Start', i),
          h('label', { for: `reduce-each-${i}`, class: 'sf-label' }, 'Next'),
          field(name, 'each', 'Next', i),
        ),
      ),
      h('p', null, h('button', { type: 'button', id: 'reduce-add', on: { click: add } }, 'Add a total')),
    );
  }

  callForm(node, step) {
    const p = node.yaml;
    const helpers = this.cat.flows.filter((f) => f.trigger && (f.trigger.flow !== undefined || f.trigger === 'flow' || f.trigger.kind === 'flow'));
    const sel = h('select', { id: 'call-flow' }, h('option', { value: '' }, 'Choose a helper flow…'), helpers.map((f) => h('option', { value: f.name, selected: f.name === step.call }, f.name)));
    sel.addEventListener('change', () => sel.value && this.edit((d) => d.setStepField(p, 'call', sel.value)));
    const inputs = isObj(step.with) ? step.with : {};
    // The helper's declared inputs, then any others the file gives.
    const chosen = helpers.find((f) => f.name === step.call);
    const declared = chosen && isObj(chosen.trigger) && isObj(chosen.trigger.flow) ? chosen.trigger.flow.inputs || [] : [];
    const keys = [...declared.map((i) => i.name), ...Object.keys(inputs).filter((k) => !declared.some((i) => i.name === k))];
    return h(
      'div',
      null,
      h('div', { class: 'sf-field' }, h('label', { for: 'call-flow', class: 'sf-label' }, 'Helper flow'), sel),
      this.callWaitField(p, step),
      h('h3', null, 'Inputs'),
      keys.length
        ? keys.map((k) => {
            const v = inputs[k];
            const decl = declared.find((i) => i.name === k);
            const help = decl ? [decl.description, `${decl.type}${decl.required ? ', required' : ', optional'}`].filter(Boolean).join(' · ') : 'The helper does not declare this input.';
            return this.textField(
              words(k),
              help,
              v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v),
              (x) => this.edit((d) => (x === '' ? d.removeInput(p, k) : d.setInput(p, k, x)), { field: `${yamlKey(p)}.with.${k}`, redraw: false }),
              { id: `call-in-${k}`, onPick: { node } },
            );
          })
        : h('p', { class: 'muted' }, chosen ? 'This helper takes no inputs.' : 'Choose the helper: its inputs appear here.'),
    );
  }

  /// Wait for the helper (its result is this step's output), or start it as
  /// a run of its own and go on (`wait: false`).
  callWaitField(p, step) {
    const box = h('input', { type: 'checkbox', id: 'call-wait', checked: step.wait !== false, 'aria-describedby': 'call-wait-help' });
    box.addEventListener('change', () => this.edit((d) => d.setStepField(p, 'wait', box.checked ? null : false)));
    return h(
      'div',
      { class: 'sf-field' },
      h('label', { for: 'call-wait' }, box, ' Wait for it to finish'),
      h(
        'p',
        { class: 'sf-help', id: 'call-wait-help' },
        step.wait === false
          ? 'It starts as a run of its own and this flow goes on at once: later steps get its run id, not its result. Use this for work that may take days (reminders, approvals) or for many helpers at once.'
          : 'Later steps can use what the helper returns. Untick to start it as a run of its own and go on without waiting.',
      ),
    );
  }

  assignForm(node, step) {
    const p = node.yaml;
    const vals = isObj(step.assign) ? step.assign : {};
    const key = h('input', { id: 'assign-key', type: 'text', placeholder: 'name' });
    const add = h('button', { type: 'button', on: { click: () => key.value.trim() && this.edit((d) => d.setStepField(p, 'assign', { ...vals, [key.value.trim()]: '' })) } }, 'Add variable');
    return h(
      'div',
      null,
      h('h3', null, 'Variables (read later as vars.name)'),
      Object.entries(vals).map(([k, v]) =>
        this.textField(k, null, typeof v === 'string' ? v : JSON.stringify(v), (x) => this.edit((d) => d.setStepField(p, 'assign', { ...(d.get([...p, 'assign']) || {}), [k]: x }), { field: `${yamlKey(p)}.assign.${k}`, redraw: false }), { id: `assign-${k}`, onPick: { node } }),
      ),
      h('div', { class: 'cond-row' }, h('label', { for: 'assign-key', class: 'visually-hidden' }, 'New variable'), key, add),
    );
  }

  endForm(node, step, kind) {
    const p = node.yaml;
    if (kind === 'return' && (isObj(step.return) || step.return === null || step.return === undefined || step.return === '')) {
      // The flow's result as named values (what a caller or an API client reads).
      return h(
        'div',
        null,
        h('h3', null, 'Values to return'),
        h('p', { class: 'sf-help' }, 'What the flow answers with: a caller reads them by name (user, department…).'),
        renderMapping(isObj(step.return) ? step.return : {}, {
          id: 'return',
          emptyRow: true,
          onChange: (v) => this.edit((d) => d.setStepField(p, 'return', v || {}), { field: `${yamlKey(p)}.return`, redraw: false }),
          onPick: (set) => this.openPicker(node, set, null, { text: true }),
        }),
      );
    }
    const label = { return: 'Value to return', stop: 'Why it stops (for the history)', fail: 'Error message' }[kind] || kind;
    const v = step[kind];
    return this.textField(label, null, v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v), (x) => this.edit((d) => d.setStepField(p, kind, x), { field: `${yamlKey(p)}.${kind}`, redraw: false }), { id: `end-${kind}`, onPick: { node } });
  }

  /// A wait: for a length of time, until a time, or for an answer (a
  /// signal) with its choices and how long to wait for it.
  waitForm(node, step) {
    const p = node.yaml;
    const w = isObj(step.wait) ? step.wait : {};
    const mode = 'signal' in w ? 'signal' : 'until' in w ? 'until' : 'for';
    const wp = [...p, 'wait'];
    const at = (key) => `${yamlKey(p)}.wait.${key}`;
    const MODES = [
      ['for', 'For a length of time', 'then the flow goes on'],
      ['until', 'Until a date and time', 'such as the end date in a user’s profile'],
      ['signal', 'For an answer', 'someone approves or rejects, then the flow goes on with their answer'],
    ];
    const choose = (m) => {
      if (m === mode) return;
      const next = m === 'for' ? { for: '1d' } : m === 'until' ? { until: '' } : { signal: 'approval', choices: ['approve', 'reject'], timeout: '2d' };
      this.edit((d) => d.setStepField(p, 'wait', next));
    };
    const modes = h(
      'fieldset',
      { class: 'kind-choice' },
      h('legend', null, 'Wait'),
      MODES.map(([m, label, help]) =>
        h('div', { class: 'kind-option' }, h('input', { type: 'radio', id: `wait-mode-${m}`, name: 'wait-mode', value: m, checked: m === mode, on: { change: () => choose(m) } }), ' ', h('label', { for: `wait-mode-${m}` }, h('strong', null, label), h('span', { class: 'muted' }, ` — ${help}`))),
      ),
    );
    const set = (key, value) => this.edit((d) => d.setStepField(wp, key, value), { field: at(key), redraw: false });
    const how = [];
    if (mode === 'for') {
      how.push(this.textField('How long', 'A length such as 30m, 4h, 3d or 2w (minutes, hours, days, weeks).', String(w.for ?? ''), (v) => set('for', v.trim()), { id: 'wait-for' }));
    } else if (mode === 'until') {
      how.push(this.textField('Until', 'A date and time: pick a field (a date in the user’s profile) or type one like 2027-01-31T17:00:00Z. A time already past does not pause.', String(w.until ?? ''), (v) => set('until', v.trim()), { id: 'wait-until', onPick: { node } }));
    } else {
      const choices = Array.isArray(w.choices) ? w.choices.join(', ') : '';
      how.push(
        this.textField('Name of the answer', 'What the answer is called (approval, manager-ok…); the console, a link or an API call gives it.', String(w.signal ?? ''), (v) => set('signal', v.trim()), { id: 'wait-signal' }),
        this.textField('Possible answers', 'Separated by commas, such as: approve, reject. Leave empty to take any answer.', choices, (v) => {
          const list = v.split(',').map((c) => c.trim()).filter(Boolean);
          set('choices', list.length ? list : null);
        }, { id: 'wait-choices' }),
        this.textField('Give up after', 'A length such as 2d. Then this step fails as “timeout”: add an error path to say what happens. Empty: wait until someone answers or the run is cancelled.', String(w.timeout ?? ''), (v) => set('timeout', v.trim()), { id: 'wait-timeout' }),
        h('p', { class: 'sf-help' }, 'While it waits, the run holds no worker. Its page in the console shows a button for each answer; a message can carry links that answer (see “signal_link” in the functions), and the API takes answers too.'),
      );
    }
    return h('div', null, modes, ...how);
  }

  errorForm(node, step) {
    if (Array.isArray(step.on_error)) return h('p', { class: 'muted small' }, 'On error: the steps in the red box run if this step fails; the flow then goes on.');
    return h(
      'p',
      null,
      h('button', { type: 'button', on: { click: () => this.openPalette([...node.yaml, 'on_error'], 0) } }, 'Add an error path…'),
      h('span', { class: 'muted small' }, ' steps that run if this one fails'),
    );
  }

  stepActions(node) {
    const p = node.yaml;
    const list = p.slice(0, -1);
    const i = p[p.length - 1];
    const n = (this.doc.get(list) || []).length;
    const after = (path) => {
      if (path) this.selectedYaml = yamlKey(path);
      this.refresh();
    };
    return h(
      'div',
      { class: 'step-actions', role: 'group', 'aria-label': 'Step actions' },
      h('button', { type: 'button', disabled: i === 0, on: { click: () => after(this.edit((d) => d.moveStep(p, list, i - 1))) } }, 'Move up'),
      h('button', { type: 'button', disabled: i >= n - 1, on: { click: () => after(this.edit((d) => d.moveStep(p, list, i + 2))) } }, 'Move down'),
      h('button', { type: 'button', on: { click: () => after(this.edit((d) => d.duplicateStep(p))) } }, 'Duplicate'),
      h(
        'button',
        {
          type: 'button',
          class: 'danger',
          on: {
            click: () => {
              this.edit((d) => d.deleteStep(p));
              this.selectedYaml = null;
              this.view.selected = null;
              this.refresh();
            },
          },
        },
        'Delete',
      ),
    );
  }

  /// The trigger in the daemon's words (as the diagram says it) while the
  /// last valid outline has this trigger, else in the builder's own.
  triggerSaid(t) {
    const base = this.lastGood && this.lastGood.trigger;
    return base && base.words && triggerOf(base) === triggerOf(t) ? base.words : triggerWords(t);
  }

  flowSettings() {
    const t = this.doc.trigger();
    return h(
      'div',
      { class: 'builder-panel' },
      h('h2', null, 'The flow'),
      this.textField('Name', 'Required: how the flow is listed and called.', this.doc.name, (v) => this.edit((d) => d.setName(v), { field: 'name', redraw: false }), { id: 'flow-name' }),
      this.textField('Description', 'Required: what the flow does and why, for the next admin.', this.doc.description, (v) => this.edit((d) => d.setDescription(v), { field: 'description', redraw: false }), { id: 'flow-description', multiline: true }),
      h('h3', null, 'Trigger'),
      h('p', null, this.triggerSaid(t)),
      t.kind === 'okta' ? this.triggerOrgField(t) : null,
      t.kind === 'okta'
        ? this.conditionEditor({
            node: { scope: ['event'], yaml: ['trigger'] },
            title: 'Only when (optional)',
            help: 'A condition on the event: the flow starts only for events where it holds.',
            current: t.filter || '',
            key: 'trigger.filter',
            optional: true,
            write: (d, cond) => d.setTrigger({ ...d.trigger(), filter: cond || null }),
          })
        : null,
      h('h3', null, 'History'),
      this.keepDataField(),
      this.textField('Note for the version history (optional)', null, '', () => {}, { id: 'save-note' }),
    );
  }

  /// Which Okta org's events start the flow, when there are several.
  triggerOrgField(t) {
    const choices = triggerOrgChoices(this.cat.orgs, t.org || null);
    if (!choices) return null;
    return orgSelect({
      id: 'trigger-org',
      help: 'Events from this org start the flow; its Okta cards act there too unless a step says otherwise.',
      choices,
      onChoose: (v) => this.edit((d) => d.setTriggerOrg(v || null)),
    });
  }

  /// Whether runs keep their steps' inputs and outputs (personal data).
  keepDataField() {
    const box = h('input', { type: 'checkbox', id: 'keep-step-data', checked: this.doc.keepsStepData });
    box.addEventListener('change', () => this.edit((d) => d.setKeepsStepData(box.checked)));
    return h(
      'div',
      { class: 'field check' },
      box,
      h('label', { for: 'keep-step-data' }, 'Keep each step’s inputs and outputs in the run history. Uncheck for flows that handle personal data: the steps, their errors and logs stay; what they read and wrote goes when the run ends.'),
    );
  }

  // ---- adding steps -------------------------------------------------------------

  insertAt(listPath, index) {
    this.openPalette(listPath, index);
  }

  openPalette(listPath, index) {
    const results = h('div', { class: 'palette-results' });
    const choose = (item) => {
      close();
      if (item.logic === 'on_error' || item.logic === 'retry') return this.forStepAbove(item.logic, listPath, index);
      const path = this.edit((d) => d.insertStep(listPath, index, this.newStep(item, d, listPath, index)));
      if (path) {
        this.selectedYaml = yamlKey(path);
        this.settingsOpen = false;
        this.refresh();
        const box = document.querySelector(`.dg-box[data-yaml="${CSS.escape(yamlKey(path))}"]`);
        if (box) box.scrollIntoView({ block: 'nearest' });
        document.getElementById('step-id')?.focus();
      }
    };
    const draw = (q) => {
      // Every word of the search, anywhere: "get user" finds okta.get-user.
      const terms = q.split(/\s+/).filter(Boolean);
      const match = (s) => terms.every((t) => s.toLowerCase().includes(t));
      const groups = new Map(GROUPS.map((g) => [g, []]));
      for (const c of this.cat.cards.values()) {
        if (c.broken) continue;
        const g = GROUPS.includes(c.group) ? c.group : 'Custom';
        if (match(`${c.name} ${cardTitle(c)} ${c.description} ${g}`)) groups.get(g).push(c);
      }
      // Logic whose name matches comes before logic whose words do ("return": Return, then Call flow).
      const logic = LOGIC.filter((l) => match(`${l.title} ${l.description}`)).sort((x, y) => Number(!match(x.title)) - Number(!match(y.title)));
      const sections = [];
      if (logic.length) sections.push(h('section', null, h('h3', null, 'Logic'), h('ul', null, logic.map((l) => h('li', null, h('button', { type: 'button', class: 'palette-item', on: { click: () => choose({ logic: l.kind }) } }, h('strong', null, l.title), h('span', { class: 'muted' }, l.description)))))));
      for (const [g, cards] of groups) {
        if (!cards.length) continue;
        cards.sort((a, b) => a.name.localeCompare(b.name));
        sections.push(h('section', null, h('h3', null, g), h('ul', null, cards.map((c) => h('li', null, h('button', { type: 'button', class: 'palette-item', dataset: { card: c.name }, on: { click: () => choose({ card: c }) } }, h('strong', null, cardTitle(c)), h('code', { class: 'small' }, c.name), h('span', { class: 'muted' }, inline(c.description))))))));
      }
      fill(results, sections.length ? sections : h('p', { class: 'muted' }, 'Nothing matches.'));
    };
    const close = searchDialog({ id: 'palette', title: 'Add a step', placeholder: 'Search cards and logic…', results, draw });
  }

  /// On error and Retry from the palette belong to the step above the `+`
  /// they were chosen at: its error path is started, or its retry set and
  /// shown.
  forStepAbove(what, listPath, index) {
    const above = index > 0 ? [...listPath, index - 1] : null;
    const step = above ? this.doc.get(above) : null;
    if (!isObj(step)) {
      toast(`${what === 'retry' ? 'Retry' : 'On error'} belongs to the step above the +: add that step first.`, 'error');
      return;
    }
    const kind = stepKind(step) || 'card';
    this.selectedYaml = yamlKey(above);
    this.settingsOpen = false;
    if (what === 'retry') {
      if (kind !== 'card') {
        toast('Retry is for cards: a card that fails with a passing error is tried again.', 'error');
        return this.refresh();
      }
      if (!step.retry) this.edit((d) => d.setStepField(above, 'retry', { attempts: 3, backoff: '2s' }));
      this.refresh();
      document.getElementById('step-retry')?.focus();
      return;
    }
    if (!ERROR_PATH_KINDS.includes(kind)) {
      toast('A return, stop or fail step has no error path.', 'error');
      return this.refresh();
    }
    if (Array.isArray(step.on_error)) {
      toast('That step has an error path already: add to it with its +.');
      return this.refresh();
    }
    this.refresh();
    this.openPalette([...above, 'on_error'], 0);
  }

  /// The step a palette choice adds (at `index` of `listPath`), with a
  /// fresh readable id.
  newStep(item, d, listPath = ['steps'], index = 0) {
    if (item.card) {
      const base = item.card.name.split('.').pop().replace(/-/g, '_');
      const inputs = {};
      // A card's user is, until the admin says otherwise, the user an
      // earlier Get user step read (the flow's subject): its id for an Okta
      // card, the whole user for a card that takes a user object (a custom
      // card that offboards them elsewhere).
      const schema = item.card.input_schema || {};
      // (Only a top-level one: it has run on every path to the new step.)
      const getUser = lastStepBefore(d.get(['steps']) || [], [...listPath, index], (st, at) => at.length === 2 && typeof st.id === 'string' && /^[A-Za-z_]\w*$/.test(st.id) && cardName(st) === 'okta.get-user');
      const subject = getUser ? getUser.id : null;
      const userInput = schema.properties && (schema.required || []).includes('user') ? resolve(schema.properties.user, schema) : null;
      if (subject && userInput) {
        if (item.card.name.startsWith('okta.')) inputs.user = `{{ ${subject}.id }}`;
        else if (userInput.type === 'object') inputs.user = `{{ ${subject} }}`;
      }
      // A card starts where the flow's previous step of its kind worked: a
      // Tables card on the same row (read it, then write or delete it), any
      // other card on the same connection (and Slack channel).
      const tables = item.card.name.startsWith('tables.');
      const family = (st) => (tables ? cardName(st).startsWith('tables.') : cardName(st) === item.card.name);
      const prev = lastStepBefore(d.get(['steps']) || [], [...listPath, index], family);
      for (const k of tables ? ['table', 'key'] : ['connection', 'channel']) {
        if (prev && prev.with && prev.with[k] !== undefined && schema.properties && schema.properties[k]) inputs[k] = prev.with[k];
      }
      return shapes.card(item.card.name, inputs, { id: d.uniqueId(base) });
    }
    switch (item.logic) {
      case 'if':
        // "true" until a field is picked: the first row then reads "<field> is true".
        // No `else:` until a step goes there (the diagram shows the branch anyway).
        return shapes.if('true', { then: [], id: d.uniqueId('check') });
      case 'switch':
        return shapes.switch('event.eventType', ['case'], { id: d.uniqueId('branch') });
      case 'for_each':
        return shapes.forEach(expr('[]'), 'item', { id: d.uniqueId('each') });
      case 'call':
        return shapes.call(this.cat.flows.find((f) => f.trigger && (f.trigger.flow !== undefined || f.trigger.kind === 'flow'))?.name || 'helper', {}, { id: d.uniqueId('call') });
      case 'assign':
        return shapes.assign({ value: '' }, { id: d.uniqueId('set') });
      case 'wait':
        return shapes.wait({ for: '1d' }, { id: d.uniqueId('wait') });
      case 'return':
        return shapes.return({});
      case 'stop':
        return shapes.stop('nothing to do');
      case 'fail':
        return shapes.fail('something went wrong');
      default:
        throw new FlowDocError(`unknown step kind ${item.logic}`);
    }
  }

  // ---- the field picker ---------------------------------------------------------

  /// Offer the fields readable at `node` and hand the chosen expression to
  /// `use`. Into text (`text`), a value can carry what to write when it is
  /// empty; for a condition (`forCondition`), dates also offer their age in
  /// days.
  openPicker(node, use, field = null, { wantList = false, text = false, forCondition = false } = {}) {
    const outline = this.view.draft.outline;
    const value = this.doc.get([]) || {};
    const trig = (outline || {}).trigger || {};
    let list = availableFields({
      scope: node.scope || [],
      outline,
      cards: [...this.cat.cards.values()],
      eventSchema: trig.kind === 'okta' ? this.cat.eventSchema : null,
      loops: loopsAround(value, node.yaml),
      vars: varsBefore(value, node.yaml),
      tables: tableRows(value),
    });
    if (wantList) list = list.filter((f) => f.type === 'list');
    else list = withExtras(list, { ages: forCondition, words: text });
    const fallback = text ? h('input', { type: 'text', id: 'picker-fallback', placeholder: 'e.g. (none)' }) : null;
    const results = h('ul', { class: 'picker-results' });
    const finish = (f, extra = null) => {
      const fb = fallback ? fallback.value : '';
      close();
      // The asked number is the expression's last `N` (a field's name may hold one).
      use(withFallback(extra ? f.expression.replace(/\bN\b(?!.*\bN\b)/, extra) : f.expression, f.whole && !f.fallback ? '' : fb, f.fallback));
    };
    // "… in words": what to write when it holds, and when it does not.
    const askWords = (f) => {
      // One line each; Shift+Enter starts another line, Enter inserts.
      const yes = h('textarea', { id: 'picker-yes', rows: '1', placeholder: 'e.g. revoked', title: 'Shift+Enter for a new line' });
      const no = h('textarea', { id: 'picker-no', rows: '1', placeholder: 'e.g. NOT revoked', title: 'Shift+Enter for a new line' });
      const ok = h('button', { type: 'button', class: 'palette-item', on: { click: () => {
        close();
        use(`{{ ${quoteText(yes.value)} if ${stripBraces(f.expression)} else ${quoteText(no.value)} }}`);
      } } }, 'Insert');
      for (const el of [yes, no]) {
        el.addEventListener('keydown', (e) => {
          if (e.key === 'Enter' && !e.shiftKey) {
            e.preventDefault();
            ok.click();
          }
        });
      }
      fill(results, h('li', { class: 'picker-words' }, h('label', { for: 'picker-yes' }, 'When it holds, write '), yes, h('label', { for: 'picker-no' }, ' otherwise '), no, ' ', ok));
      yes.focus();
    };
    // "Some days ago…" and the like: the number (f.ask is the question), then the value.
    const askNumber = (f) => {
      const question = typeof f.ask === 'string' ? f.ask : 'How many?';
      const days = h('input', { type: 'number', id: 'picker-days', min: '0', value: '3', 'aria-label': question.replace(/\?$/, '') });
      const ok = h('button', { type: 'button', class: 'palette-item', on: { click: () => finish(f, String(Math.max(0, Number(days.value) || 0))) } }, 'Insert');
      days.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') {
          e.preventDefault();
          ok.click();
        }
      });
      fill(results, h('li', null, h('label', { for: 'picker-days' }, `${question} `), days, ' ', ok));
      days.focus();
      days.select();
    };
    const draw = (q) => {
      const shown = rankMatches(list, q);
      fill(
        results,
        shown.length
          ? shown.map((f) =>
              h(
                'li',
                null,
                h(
                  'button',
                  { type: 'button', class: 'palette-item', dataset: { expr: f.expression }, on: { click: () => (f.ask === 'words' ? askWords(f) : f.ask ? askNumber(f) : finish(f)) } },
                  h('strong', null, `${f.group} › ${f.label}`),
                  h('code', { class: 'small' }, f.expression),
                  f.description ? h('span', { class: 'muted' }, inline(f.description)) : null,
                ),
              ),
            )
          : h('li', { class: 'muted' }, 'No fields here yet: add the step that reads them first.'),
      );
    };
    const title = field ? `A value for “${field.title}”` : 'Pick a value';
    const close = searchDialog({
      id: 'picker',
      title,
      placeholder: 'Search fields…',
      results,
      draw,
      extra: fallback ? h('div', { class: 'picker-fallback' }, h('label', { for: 'picker-fallback' }, 'If it has no value, write (optional): '), fallback) : null,
    });
  }
}

/// The last step (any depth) that `wanted(step, its YAML path)` accepts
/// before the position `at` (a YAML path) in the order the file reads, or null.
function lastStepBefore(steps, at, wanted) {
  let found = null;
  const visit = (list, path) => {
    (Array.isArray(list) ? list : []).forEach((st, i) => {
      const here = [...path, i];
      if (!isObj(st) || comparePaths(here, at) >= 0) return;
      if (wanted(st, here) && isObj(st.with)) found = st;
      for (const k of ['then', 'else', 'steps', 'default', 'on_error']) visit(st[k], [...here, k]);
      if (isObj(st.cases)) for (const c of Object.keys(st.cases)) visit(st.cases[c], [...here, 'cases', c]);
    });
  };
  visit(steps, ['steps']);
  return found;
}

// Document order of two YAML paths of steps: numbers by value; branch keys
// in the order steps write them.
function comparePaths(a, b) {
  const rank = ['then', 'else', 'cases', 'steps', 'default', 'on_error'];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] === b[i]) continue;
    if (typeof a[i] === 'number' && typeof b[i] === 'number') return a[i] - b[i];
    const ra = rank.indexOf(a[i]);
    const rb = rank.indexOf(b[i]);
    return ra >= 0 && rb >= 0 ? ra - rb : String(a[i]).localeCompare(String(b[i]));
  }
  return a.length - b.length;
}

// ---- helpers ------------------------------------------------------------------

/// A modal with a title, a search box and `results`, which `draw(query)`
/// fills as the admin types; returns the function that closes it.
function searchDialog({ id, title, placeholder, results, draw, extra = null }) {
  const dlg = h('dialog', { class: `palette ${id}`, 'aria-labelledby': `${id}-title` });
  const search = h('input', { type: 'search', id: `${id}-search`, placeholder, 'aria-label': placeholder.replace(/…$/, '') });
  const close = () => {
    dlg.close();
    dlg.remove();
  };
  const redraw = () => draw(search.value.trim().toLowerCase());
  search.addEventListener('input', redraw);
  // Enter takes the first match, so a search and Enter is a choice; so
  // does Enter in the dialog's own fields (the picker's fallback).
  for (const el of [search, ...(extra ? extra.querySelectorAll('input') : [])]) {
    el.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter') return;
      e.preventDefault();
      results.querySelector('button.palette-item')?.click();
    });
  }
  dlg.addEventListener('close', () => dlg.remove());
  dlg.append(
    h('div', { class: 'palette-head' }, h('h2', { id: `${id}-title` }, title), h('button', { type: 'button', class: 'quiet', 'aria-label': 'Close', on: { click: close } }, '✕')),
    ...[search, extra, results].filter(Boolean),
  );
  document.body.append(dlg);
  redraw();
  dlg.showModal();
  search.focus();
  return close;
}

function isObj(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function cut(s, n) {
  s = String(s ?? '');
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/// An input as the diagram shows it: text as it is, a list of text as
/// "A, B", named values by their names ("3 values: login, name, run"),
/// anything else as JSON.
function inputWords(v) {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.length && v.every((x) => typeof x === 'string')) return v.join(', ');
  if (isObj(v) && Object.keys(v).length) {
    const keys = Object.keys(v);
    return `${keys.length} ${keys.length === 1 ? 'value' : 'values'}: ${keys.join(', ')}`;
  }
  return JSON.stringify(v);
}

function retryWords(r) {
  if (typeof r === 'number') return `${r} attempts`;
  if (isObj(r)) return `${r.attempts} attempts${r.backoff ? `, ${r.backoff} backoff` : ''}`;
  return String(r);
}

/// What makes two triggers the same for their words: the daemon's outline
/// trigger and the document's.
function triggerOf(t) {
  const s = t.schedule || t;
  const types = t.event_types && t.event_types.length ? t.event_types : null;
  const inputs = (t.inputs || []).map((i) => [i.name, i.type]);
  return JSON.stringify([t.kind, types, t.kind === 'schedule' ? [s.cron, s.timezone] : null, t.filter || null, inputs]);
}

/// Whether steps read `inputs`: a helper's, or a manual flow's form.
function declaresInputs(t) {
  return t.kind === 'flow' || (t.kind === 'manual' && (t.inputs || []).length > 0);
}

/// A trigger in words before the daemon has said it better.
function triggerWords(t) {
  switch (t.kind) {
    case 'okta':
      return `When Okta reports ${(t.event_types || []).join(' or ')}${t.filter ? ' (with a condition)' : ''}`;
    case 'schedule':
      return `On the schedule ${t.cron} (${t.timezone})`;
    case 'api':
      return 'When its API endpoint is called';
    case 'flow':
      return 'When another flow calls it';
    case 'manual':
      return (t.inputs || []).length ? 'When someone runs it by hand, filling in its form' : 'Only when run by hand';
    default:
      return 'No trigger yet';
  }
}

/// A card step's card name without its version.
/// What an admin typed as a plain value: a number or `[]` as such, else text.
function typedValue(text) {
  const t = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  if (t === '[]') return [];
  return text;
}

/// A wait step in words, as the daemon's outline says it.
function waitWords(w) {
  if (!isObj(w)) return 'Wait';
  if ('signal' in w) {
    const choices = Array.isArray(w.choices) && w.choices.length ? ` (${w.choices.join(' or ')})` : '';
    return `Wait for the “${w.signal}” signal${choices}${w.timeout ? `, at most ${w.timeout}` : ''}`;
  }
  if ('until' in w) return `Wait until ${stripBraces(String(w.until))}`;
  return `Wait ${w.for ?? ''}`.trim();
}

/// Whether a `for_each` walks the pages a card answers (`for_each: { card, with }`).
function pagedSource(step) {
  return isObj(step.for_each) && typeof step.for_each.card === 'string';
}

/// The `org:` a card step, or a loop over a card's pages, names; else null.
function orgOf(step, kind) {
  const holder = kind === 'card' ? step : kind === 'for_each' && pagedSource(step) ? step.for_each : null;
  return holder && holder.org !== undefined && holder.org !== null ? String(holder.org) : null;
}

function cardName(step) {
  return String(step.card || '').split('@')[0];
}

function cardTitle(c) {
  const last = c.name.split('.').pop();
  return words(last.replace(/-/g, '_'));
}


