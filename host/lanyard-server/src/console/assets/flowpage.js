// One flow: its diagram (the compiled flow, from the daemon's outline), what
// starts it in words, its description, the file as YAML with the current
// diagnostics, its recent runs, the on/off switch, Test (a dry run by default,
// painted on the diagram), Replay (its last real events against the flow as
// it is now or as edited), its versions with a diff and a one-click revert,
// and the audit of every write.
//
// The builder's edit mode (builder.js) works on the same page: it hands a
// draft's text and outline to `show()`, and Test and Replay then run the
// draft without saving it.

import { call, get } from './api.js';
import { h, fill, callout, jsonBlock, toast } from './dom.js';
import { statusBadge, timeEl, duration, runTrigger, number, paragraphs } from './format.js';
import { renderDiagram, paintFromSteps, problemsByStep, readable, walk } from './diagram.js';
import { diffLines } from './vendor/diff.js';
import { edit } from './builder.js';
import { FlowDoc } from './flowdoc.js';
import { eventFields, inputsForm, words } from './schemaform.js';

// What was done to a flow file, as the versions and the audit say it.
const ACTION_WORDS = {
  found: 'as it was on disk',
  create: 'created',
  save: 'saved',
  enable: 'turned on',
  disable: 'turned off',
  revert: 'reverted',
};

const TABS = [
  { id: 'test', label: 'Test' },
  { id: 'yaml', label: 'YAML' },
  { id: 'runs', label: 'Recent runs' },
  { id: 'history', label: 'Versions' },
  { id: 'audit', label: 'Audit' },
];

export function render(ctx, name) {
  ctx.title(name);
  const page = h('div', { class: 'flow-page' }, h('h1', null, name), h('p', { class: 'muted' }, 'Loading…'));
  fill(ctx.main, page);
  const view = new FlowView(ctx, name, page);
  view.load();
  return view;
}

export class FlowView {
  constructor(ctx, name, root) {
    this.ctx = ctx;
    this.name = name;
    this.root = root;
    this.detail = null; // the `flow` endpoint's answer
    this.draft = null; // { source, outline, diagnostics } while editing
    this.paint = null; // a test run's records, by node path
    this.selected = null; // the selected node's path
    this.tab = ctx.route.query.get('tab') || 'test';
    this.testResult = null;
    this.replayResult = null;
    this.eventText = '';
    this.editor = null; // set by builder.js
  }

  /// The text Test and Replay run: the draft's, else the saved file's.
  source() {
    return this.draft ? this.draft.source : this.detail.source;
  }

  outline() {
    return (this.draft && this.draft.outline) || this.detail.outline;
  }

  diagnostics() {
    return (this.draft ? this.draft.diagnostics : this.detail.diagnostics) || [];
  }

  async load() {
    try {
      this.detail = await get('flow', { params: { flow: this.name }, signal: this.ctx.signal });
    } catch (e) {
      if (e.name === 'AbortError') return;
      fill(
        this.root,
        h('h1', null, this.name),
        callout(
          'error',
          e.status === 404 ? 'No such flow' : 'Cannot load the flow',
          h('p', null, e.message),
          h('p', null, h('a', { href: '#/flows' }, 'Back to the flows')),
        ),
      );
      return;
    }
    this.readOnly = readOnlyReason(this.detail.source);
    if (!this.eventText) this.prefillEvent();
    this.draw();
    if (this.ctx.route.query.get('edit') === '1' && !this.editor) this.startEdit();
  }

  async prefillEvent() {
    const t = (this.outline() || {}).trigger || {};
    const types = t.event_types || [];
    if (t.kind === 'okta' && types.length) {
      try {
        const s = await get('eventSample', { params: { type: types[0] }, signal: this.ctx.signal });
        this.eventText = JSON.stringify(s.event, null, 2);
        this.eventSource = s.source === 'org' ? `the org's latest ${types[0]} event` : `a generated ${types[0]} event about a real user`;
        this.draw();
      } catch {
        // The form stays empty; the admin can paste an event.
      }
    } else if (t.kind === 'flow' && Array.isArray(t.inputs)) {
      const ex = {};
      for (const i of t.inputs) ex[i.name] = i.default ?? (i.type === 'number' || i.type === 'integer' ? 0 : i.type === 'boolean' ? false : '');
      this.eventText = JSON.stringify(ex, null, 2);
      this.draw();
    } else if (!this.eventText) {
      this.eventText = '{}';
    }
  }

  /// Draw the whole page.
  draw() {
    const outline = this.outline();
    if (!outline) {
      this.parts = null;
      fill(this.root, h('h1', null, this.name), callout('error', 'The daemon sent no outline for this flow', h('p', null, 'Upgrade the daemon and reload.')));
      return;
    }
    this.ctx.title(outline.name);
    this.parts = {
      head: h('div'),
      toolbar: h('div'),
      summary: h('div'),
      diagnostics: h('div'),
      diagram: h('div', { class: 'flow-diagram' }),
      side: h('aside', { class: 'flow-side', 'aria-label': 'Selected step' }, this.sidePanel(outline)),
      tabs: this.tabs(),
    };
    fill(
      this.root,
      this.parts.head,
      this.parts.toolbar,
      this.parts.summary,
      this.parts.diagnostics,
      h('div', { class: 'flow-layout' }, this.parts.diagram, this.parts.side),
      this.parts.tabs,
    );
    this.drawLive();
  }

  /// Redraw what an edit or a check changes — the diagram, the problems, the
  /// bar, the YAML — and leave the side panel (the admin may be typing in
  /// it) and the test form alone.
  drawLive() {
    const outline = this.outline();
    if (!this.parts || !outline) return this.draw();
    const p = this.parts;
    fill(p.head, this.head(outline));
    fill(p.toolbar, this.editor ? this.editor.toolbar() : null);
    fill(p.summary, this.summary(outline));
    fill(p.diagnostics, this.diagnosticsBox());
    const problems = problemsByStep(outline, this.diagnostics());
    const focused = document.activeElement && p.diagram.contains(document.activeElement) ? document.activeElement.dataset.yaml : null;
    fill(
      p.diagram,
      renderDiagram(outline, {
        paint: this.paint,
        problems,
        selected: this.selected,
        onSelect: (n) => this.select(n),
        onInsert: this.editor ? (list, i) => this.editor.insertAt(list, i) : null,
      }),
    );
    if (focused) p.diagram.querySelector(`.dg-box[data-yaml="${CSS.escape(focused)}"]`)?.focus({ preventScroll: true });
    if (this.tab === 'yaml') {
      const panel = p.tabs.querySelector('.tab-panel');
      if (panel) fill(panel, yamlView(this.source(), this.diagnostics()));
    }
  }

  head(outline) {
    const on = outline.enabled !== false;
    const toggle = h(
      'button',
      {
        type: 'button',
        role: 'switch',
        class: `switch ${on ? 'on' : 'off'}`,
        'aria-checked': on ? 'true' : 'false',
        disabled: this.editor && this.editor.history.dirty ? true : null,
        title: this.editor && this.editor.history.dirty ? 'Save or discard your edit first' : null,
        on: { click: () => this.setEnabled(!on) },
      },
      h('span', { class: 'switch-knob', 'aria-hidden': 'true' }),
      on ? 'On' : 'Off',
    );
    return h(
      'div',
      { class: 'page-head' },
      h('h1', null, outline.name),
      h(
        'div',
        { class: 'actions' },
        h('span', { class: 'switch-label', id: 'flow-on-label' }, 'Flow is'),
        toggle,
        this.editor ? null : h('button', { type: 'button', class: 'primary', id: 'flow-edit', disabled: this.readOnly ? true : null, on: { click: () => this.startEdit() } }, 'Edit'),
        h('a', { class: 'button', href: this.ctx.routeHref(['runs'], { flow: outline.name }) }, 'All runs'),
      ),
    );
  }

  summary(outline) {
    const t = outline.trigger || {};
    return h(
      'div',
      { class: 'flow-summary' },
      h('p', { class: 'trigger-words' }, h('span', { class: `trigger trigger-${t.kind}` }, t.words || t.kind)),
      outline.enabled === false ? h('p', { class: 'off-note' }, 'Off: no trigger starts this flow. Test and Run now still work; turn it on when it is ready.') : null,
      this.readOnly && !this.editor ? callout('info', 'Read-only in the builder', h('p', null, `The builder cannot edit this file: ${this.readOnly}. Edit it as YAML; everything else on this page works.`)) : null,
      h('div', { class: 'desc full' }, paragraphs(outline.description)),
      h('p', { class: 'file muted' }, this.detail.file),
    );
  }

  diagnosticsBox() {
    const diags = this.diagnostics();
    if (!diags.length) return null;
    const errors = diags.filter((x) => x.severity === 'error');
    return callout(
      errors.length ? 'error' : 'warn',
      errors.length ? `${errors.length} problem${errors.length > 1 ? 's' : ''} to fix before this can be saved` : 'Warnings',
      h('ul', { class: 'diag-list' }, diags.map((x) => h('li', null, h('span', { class: 'muted' }, `line ${x.span?.start?.line ?? '?'}: `), x.message, x.help ? h('span', { class: 'muted' }, ` — ${x.help}`) : null))),
    );
  }

  select(n) {
    // Reading, a second click closes the step; editing, it stays open.
    this.selected = this.selected === n.path && !this.editor ? null : n.path;
    if (this.editor) this.editor.selected(n);
    this.draw();
    const box = this.root.querySelector(`.dg-box[data-path="${CSS.escape(n.path)}"]`);
    if (box) box.focus({ preventScroll: true });
  }

  sidePanel(outline) {
    const node = this.selected ? walk(outline).find((n) => n.path === this.selected) || null : null;
    if (this.editor) return this.editor.panel(node);
    if (!node) {
      return h(
        'div',
        { class: 'side-empty muted' },
        h('p', null, this.paint ? 'Click a step to see what it did in the test.' : 'Click a step to see its details.'),
      );
    }
    const painted = this.paint ? this.paint.get(node.path) : null;
    const rec = painted ? painted.record : null;
    return h(
      'div',
      { class: 'side-step' },
      h('h2', null, node.description || node.summary || node.id),
      h('p', { class: 'muted' }, 'Step ', h('code', null, node.id)),
      node.card ? h('p', null, 'Card ', h('code', null, node.card)) : null,
      (node.inputs || []).length
        ? h('dl', { class: 'kv' }, node.inputs.map((i) => [h('dt', null, i.key), h('dd', null, readable(i.text))]))
        : null,
      this.paint && !rec ? h('p', { class: 'muted' }, 'Not run in this test.') : null,
      rec ? recordView(rec) : null,
      node.kind === 'card' ? this.cardTest(node, rec) : null,
    );
  }

  cardTest(node, rec) {
    const area = h('textarea', { id: 'card-test-input', rows: '6', class: 'code', spellcheck: 'false' });
    area.value = JSON.stringify(rec && rec.input ? rec.input : {}, null, 2);
    const dry = h('input', { type: 'checkbox', id: 'card-test-dry', checked: true });
    const out = h('div', { class: 'card-test-out', 'aria-live': 'polite' });
    const go = h('button', { type: 'button' }, 'Test this card');
    go.addEventListener('click', async () => {
      let input;
      try {
        input = JSON.parse(area.value || '{}');
      } catch (e) {
        fill(out, callout('error', 'The input is not JSON', h('p', null, e.message)));
        return;
      }
      go.disabled = true;
      try {
        const r = await call('testCard', { params: { card: node.card }, body: { input, dry_run: dry.checked }, signal: this.ctx.signal });
        const b = r.body;
        fill(
          out,
          h('p', null, b.ok ? statusBadge('succeeded') : statusBadge('failed'), ` ${b.card} in ${duration(b.duration_ms)}, ${number(b.fuel_used)} fuel`),
          b.ok ? jsonBlock(b.output, { label: 'Output' }) : callout('error', b.error?.kind, h('p', null, b.error?.message)),
          (b.effects || []).length ? h('div', null, h('h3', null, 'Would write'), jsonBlock(b.effects, { label: 'Effects' })) : null,
        );
      } catch (e) {
        if (e.name !== 'AbortError') fill(out, callout('error', 'The card test failed', h('p', null, e.message)));
      } finally {
        go.disabled = false;
      }
    });
    return h(
      'details',
      { class: 'card-test', dataset: { key: `cardtest:${node.path}` } },
      h('summary', null, 'Test this card alone'),
      h('label', { for: 'card-test-input' }, 'Input (JSON)'),
      area,
      h('p', null, dry, h('label', { for: 'card-test-dry' }, ' Dry run (writes are listed, not done)')),
      go,
      out,
    );
  }

  tabs() {
    const list = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Flow details' });
    const panel = h('div', { class: 'tab-panel', role: 'tabpanel', id: 'flow-tab-panel', tabindex: '0' });
    for (const t of TABS) {
      const b = h(
        'button',
        {
          type: 'button',
          role: 'tab',
          id: `flow-tab-${t.id}`,
          'aria-selected': this.tab === t.id ? 'true' : 'false',
          'aria-controls': 'flow-tab-panel',
          tabindex: this.tab === t.id ? '0' : '-1',
          on: {
            click: () => this.showTab(t.id),
            keydown: (e) => {
              const i = TABS.findIndex((x) => x.id === t.id);
              const next = e.key === 'ArrowRight' ? TABS[(i + 1) % TABS.length] : e.key === 'ArrowLeft' ? TABS[(i + TABS.length - 1) % TABS.length] : null;
              if (next) {
                e.preventDefault();
                this.showTab(next.id);
                this.root.querySelector(`#flow-tab-${next.id}`)?.focus();
              }
            },
          },
        },
        t.label,
      );
      list.append(b);
    }
    panel.setAttribute('aria-labelledby', `flow-tab-${this.tab}`);
    this.fillTab(panel);
    return h('section', { class: 'flow-tabs' }, list, panel);
  }

  showTab(id) {
    this.tab = id;
    this.ctx.replaceQuery({ tab: id });
    this.draw();
  }

  fillTab(panel) {
    if (this.tab === 'yaml') fill(panel, yamlView(this.source(), this.diagnostics()));
    else if (this.tab === 'runs') this.runsTab(panel);
    else if (this.tab === 'history') this.historyTab(panel);
    else if (this.tab === 'audit') this.auditTab(panel);
    else fill(panel, this.testTab());
  }

  testTab() {
    const area = h('textarea', { id: 'test-event', rows: '10', class: 'code', spellcheck: 'false', 'aria-describedby': 'test-event-help' });
    area.value = this.eventText;
    area.addEventListener('input', () => (this.eventText = area.value));
    // A manual flow with typed inputs is tested through its form.
    const trig = (this.outline() || {}).trigger || {};
    const form = trig.kind === 'manual' && (trig.inputs || []).length ? inputsForm(trig.inputs, { id: 'test-in' }) : null;
    const dry = h('input', { type: 'checkbox', id: 'test-dry', checked: this.dryRun !== false });
    dry.addEventListener('change', () => (this.dryRun = dry.checked));
    const run = h('button', { type: 'button', class: 'primary', id: 'test-run' }, 'Run test');
    run.addEventListener('click', () => {
      if (!form) return this.runTest(area.value, dry.checked, run);
      const v = form.value();
      if (v.problems) return toast(v.problems.join('; '), 'error');
      return this.runTest(JSON.stringify(v), dry.checked, run);
    });
    // Any other event as its fields (who, when, from where…), each a box
    // to change; every field, as JSON, a click away.
    const fields = h('div', { class: 'event-fields' });
    const drawFields = () => fill(fields, eventFields(this.eventText, (text) => {
      this.eventText = text;
      area.value = text;
    }));
    area.addEventListener('change', drawFields);
    drawFields();
    const input = form
      ? [h('p', { class: 'muted small' }, 'What the form asks for, as an admin fills it in:'), form.el]
      : [
          h('h3', null, 'The event the flow sees'),
          h('p', { id: 'test-event-help', class: 'muted small' }, this.eventSource ? `Prefilled with ${this.eventSource}. ` : '', 'Or pick a run on the Recent runs tab: “Test with this run’s input”.'),
          fields,
          h('details', { class: 'event-json' }, h('summary', null, 'Every field, as JSON'), h('label', { for: 'test-event', class: 'visually-hidden' }, 'The event, as JSON'), area),
        ];
    const count = h('input', { type: 'number', id: 'replay-count', min: '1', max: '50', value: '10', class: 'narrow' });
    const replay = h('button', { type: 'button', id: 'replay-run' }, 'Replay');
    replay.addEventListener('click', () => this.runReplay(Number(count.value) || 10, replay));
    return h(
      'div',
      { class: 'test-tab' },
      h(
        'div',
        { class: 'test-form' },
        h('h2', null, this.editor && this.editor.history.dirty ? 'Test your edit (not saved)' : 'Test the flow'),
        ...input,
        h('p', null, dry, h('label', { for: 'test-dry' }, ' Dry run: read for real, list the writes instead of doing them')),
        run,
        this.testResult ? this.testResultView() : null,
      ),
      h(
        'div',
        { class: 'replay-form' },
        h('h2', null, 'Replay real events'),
        h('p', { class: 'muted' }, this.draft ? 'Runs your edit, as a dry run, on the events of the last real runs of this flow, and shows where it would act differently from what happened.' : 'Runs the flow as it is now, as a dry run, on the events of its last real runs; edit the flow to compare a change.'),
        h('p', null, h('label', { for: 'replay-count' }, 'Last '), count, ' real runs ', replay),
        this.replayResult ? this.replayView() : null,
      ),
    );
  }

  async runTest(text, dryRun, button) {
    let event;
    try {
      event = JSON.parse(text || '{}');
    } catch (e) {
      toast(`The event is not JSON: ${e.message}`, 'error');
      return;
    }
    await this.busy(
      button,
      'Running…',
      () => call('testFlow', { body: { source: this.source(), file: this.detail.file, event, dry_run: dryRun }, signal: this.ctx.signal }),
      (r) => {
        this.testResult = r.body;
        this.paint = paintFromSteps(r.body.steps || []);
      },
      (e) => {
        this.testResult = { failed: e };
        this.paint = null;
      },
    );
  }

  /// `request()` with `button` disabled and saying `label`; its answer to
  /// `ok`, its error to `failed`, then the page redrawn (unless it was left).
  async busy(button, label, request, ok, failed) {
    const was = button.textContent;
    button.disabled = true;
    button.textContent = label;
    try {
      ok(await request());
    } catch (e) {
      if (e.name === 'AbortError') return;
      failed(e);
    } finally {
      button.disabled = false;
      button.textContent = was;
    }
    this.draw();
  }

  testResultView() {
    const r = this.testResult;
    if (r.failed) {
      const e = r.failed;
      const diags = e.body && Array.isArray(e.body.diagnostics) ? e.body.diagnostics : [];
      return callout('error', 'The test did not run', h('p', null, e.message), diags.length ? h('ul', null, diags.map((x) => h('li', null, `line ${x.span?.start?.line}: ${x.message}`))) : null);
    }
    const effects = (r.steps || []).flatMap((s) => (s.effects || []).map((e) => ({ step: s.path, ...e })));
    return h(
      'div',
      { class: 'test-result', 'aria-live': 'polite' },
      h(
        'p',
        { class: 'test-status' },
        statusBadge(r.run.status),
        r.run.dry_run ? ' Dry run' : ' Real run',
        ` · ${(r.steps || []).length} steps · ${duration(Date.parse(r.run.ended) - Date.parse(r.run.started))}`,
        r.recorded ? [' · ', h('a', { href: this.ctx.routeHref(['runs', r.run.id]) }, 'in the history')] : ' · not kept in the history',
      ),
      r.run.error ? callout('error', `${r.run.error.kind} at ${r.run.error.step || 'the flow'}`, h('p', null, r.run.error.message)) : null,
      effects.length
        ? h('div', null, h('h3', null, 'What would have been written'), h('ul', { class: 'effects' }, effects.map((e) => h('li', null, h('span', { class: 'muted' }, `Step ${e.step.split('/').pop()}: `), effectText(e)))))
        : r.run.dry_run
          ? h('p', { class: 'muted' }, 'Nothing would have been written.')
          : null,
      h('details', { class: 'trace' }, h('summary', null, 'The trace, step by step'), h('pre', { class: 'trace-text' }, r.trace || '')),
    );
  }

  async runReplay(count, button) {
    await this.busy(
      button,
      'Replaying…',
      () => call('replay', { params: { flow: this.detail.name }, body: { source: this.source(), count }, signal: this.ctx.signal }),
      (r) => (this.replayResult = r.body),
      (e) => (this.replayResult = { failed: e }),
    );
  }

  replayView() {
    const r = this.replayResult;
    if (r.failed) return callout('error', 'The replay did not run', h('p', null, r.failed.message));
    const runs = r.runs || [];
    if (!runs.length) return h('p', { class: 'muted' }, 'This flow has no real runs to replay yet.');
    const differ = runs.filter((x) => x.differs).length;
    return h(
      'div',
      { class: 'replay-result', 'aria-live': 'polite' },
      h('p', null, differ ? `${differ} of ${runs.length} runs would go differently.` : `All ${runs.length} runs would go the same way.`),
      h(
        'ol',
        { class: 'replay-list' },
        runs.map((x) =>
          h(
            'li',
            { class: x.differs ? 'differs' : 'same' },
            h('p', null, h('a', { href: this.ctx.routeHref(['runs', x.run_id]) }, x.event_summary), ' ', timeEl(x.created), ' ', statusBadge(x.before.status), x.after ? [' → ', statusBadge(x.after.status)] : null),
            x.differences.length ? h('ul', null, x.differences.map((d) => h('li', null, d))) : h('p', { class: 'muted small' }, 'Same outcome.'),
          ),
        ),
      ),
    );
  }

  async runsTab(panel) {
    fill(panel, h('p', { class: 'muted' }, 'Loading runs…'));
    let page;
    try {
      page = await get('runs', { query: { flow: this.detail.name, limit: 15 }, signal: this.ctx.signal });
    } catch (e) {
      if (e.name !== 'AbortError') fill(panel, callout('error', 'Cannot read the runs', h('p', null, e.message)));
      return;
    }
    const runs = page.runs || [];
    if (!runs.length) {
      fill(panel, h('p', { class: 'muted' }, 'No runs yet.'));
      return;
    }
    fill(
      panel,
      h(
        'table',
        { class: 'data' },
        h('thead', null, h('tr', null, h('th', null, 'Status'), h('th', null, 'Started'), h('th', null, 'Trigger'), h('th', null, h('span', { class: 'visually-hidden' }, 'Actions')))),
        h(
          'tbody',
          null,
          runs.map((r) =>
            h(
              'tr',
              null,
              h('td', { 'data-label': 'Status' }, h('a', { href: this.ctx.routeHref(['runs', r.id]) }, statusBadge(r.status)), r.dry_run ? h('span', { class: 'muted small' }, ' dry run') : null),
              h('td', { 'data-label': 'Started' }, timeEl(r.created)),
              h('td', { 'data-label': 'Trigger' }, runTrigger(r.trigger)),
              h('td', { class: 'row-actions' }, h('button', { type: 'button', on: { click: () => this.useRunInput(r.id) } }, 'Test with this run’s input')),
            ),
          ),
        ),
      ),
    );
  }

  async useRunInput(id) {
    try {
      const d = await get('run', { params: { run: id }, signal: this.ctx.signal });
      this.eventText = JSON.stringify(d.run.input ?? {}, null, 2);
      this.eventSource = `the input of run ${id}`;
      this.showTab('test');
    } catch (e) {
      if (e.name !== 'AbortError') toast(`Cannot read the run: ${e.message}`, 'error');
    }
  }

  async historyTab(panel) {
    fill(panel, h('p', { class: 'muted' }, 'Loading versions…'));
    let versions;
    try {
      versions = (await get('versions', { params: { flow: this.detail.name }, signal: this.ctx.signal })).versions || [];
    } catch (e) {
      if (e.name !== 'AbortError') fill(panel, callout('error', 'Cannot read the versions', h('p', null, e.message)));
      return;
    }
    if (!versions.length) {
      fill(panel, h('p', { class: 'muted' }, 'No versions yet: the first save in the console keeps the file as it was.'));
      return;
    }
    const shown = h('div', { class: 'version-view' });
    fill(
      panel,
      h(
        'ol',
        { class: 'versions' },
        versions.map((v) =>
          h(
            'li',
            null,
            h('span', { class: 'version-no' }, `v${v.version}`),
            ' ',
            timeEl(v.at),
            ' ',
            h('span', { class: 'muted' }, ACTION_WORDS[v.action] || v.action || ''),
            v.note ? h('span', null, ` — ${v.note}`) : null,
            ' ',
            h('button', { type: 'button', class: 'link', on: { click: () => this.showVersion(v, shown) } }, 'Compare with now'),
            ' ',
            v.etag === this.detail.etag
              ? h('span', { class: 'muted small' }, '(current)')
              : h('button', { type: 'button', on: { click: () => this.revert(v) } }, `Revert to v${v.version}`),
          ),
        ),
      ),
      shown,
    );
  }

  async showVersion(v, box) {
    try {
      const full = await get('version', { params: { flow: this.detail.name, version: v.version }, signal: this.ctx.signal });
      fill(box, h('h3', null, `v${v.version} → now`), diffView(full.source, this.detail.source));
    } catch (e) {
      if (e.name !== 'AbortError') toast(`Cannot read v${v.version}: ${e.message}`, 'error');
    }
  }

  async revert(v) {
    if (!confirm(`Revert “${this.detail.name}” to version ${v.version}? The current text is kept as a version too.`)) return;
    try {
      await call('revert', { params: { flow: this.detail.name }, body: { version: v.version }, headers: { 'If-Match': this.detail.etag }, signal: this.ctx.signal });
      toast(`Reverted to v${v.version}.`);
      await this.reloadAfterWrite();
    } catch (e) {
      if (e.name !== 'AbortError') toast(`Not reverted: ${e.message}`, 'error');
    }
  }

  async auditTab(panel) {
    fill(panel, h('p', { class: 'muted' }, 'Loading the audit…'));
    let entries;
    try {
      entries = (await get('flowAudit', { params: { flow: this.detail.name }, signal: this.ctx.signal })).entries || [];
    } catch (e) {
      if (e.name !== 'AbortError') fill(panel, callout('error', 'Cannot read the audit', h('p', null, e.message)));
      return;
    }
    fill(
      panel,
      entries.length
        ? h(
            'ol',
            { class: 'audit' },
            entries.map((a) => h('li', null, timeEl(a.at), ' ', h('strong', null, ACTION_WORDS[a.action] || a.action), a.version ? ` v${a.version}` : '', a.summary ? ` — ${a.summary}` : '', a.note ? h('span', { class: 'muted' }, ` (${a.note})`) : null)),
          )
        : h('p', { class: 'muted' }, 'Nothing has been changed from the console yet.'),
    );
  }

  async setEnabled(on) {
    try {
      await call('setEnabled', { params: { flow: this.detail.name }, body: { enabled: on }, headers: { 'If-Match': this.detail.etag }, signal: this.ctx.signal });
      toast(on ? 'The flow is on.' : 'The flow is off: no trigger starts it.');
      await this.reloadAfterWrite();
    } catch (e) {
      if (e.name !== 'AbortError') toast(`Not changed: ${e.message}`, 'error');
    }
  }

  async reloadAfterWrite() {
    this.detail = await get('flow', { params: { flow: this.detail.name }, signal: this.ctx.signal });
    // An unchanged edit goes on from the file as it is now.
    if (this.editor) this.editor.resetTo(this.detail);
    this.draw();
  }

  startEdit() {
    if (this.readOnly) {
      toast(`This file opens read-only: ${this.readOnly}`, 'error');
      return;
    }
    edit(this);
  }
}

/// Why the builder cannot edit `source`, or null.
function readOnlyReason(source) {
  try {
    return FlowDoc.parse(source).readOnlyReason();
  } catch (e) {
    return e.message;
  }
}

function problemsByLine(diags) {
  const m = new Map();
  for (const d of diags) {
    const line = d.span?.start?.line;
    if (!line) continue;
    if (!m.has(line)) m.set(line, []);
    m.get(line).push(d);
  }
  return m;
}

/// The file with line numbers, each diagnostic under its line.
export function yamlView(text, diags) {
  const byLine = problemsByLine(diags || []);
  const lines = String(text || '').split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return h(
    'div',
    { class: 'yaml-view', role: 'region', 'aria-label': 'The flow file (read-only)', tabindex: '0' },
    h(
      'ol',
      { class: 'yaml-lines' },
      lines.map((l, i) => {
        const ds = byLine.get(i + 1) || [];
        return h(
          'li',
          { class: ds.length ? 'has-diag' : null },
          h('code', null, l || ' '),
          ds.map((d) => h('p', { class: `yaml-diag ${d.severity === 'warning' ? 'warn' : 'error'}` }, d.message)),
        );
      }),
    ),
  );
}

/// A line diff of two texts.
export function diffView(before, after) {
  const parts = diffLines(before || '', after || '');
  const rows = [];
  for (const p of parts) {
    const lines = p.value.replace(/\n$/, '').split('\n');
    const cls = p.added ? 'add' : p.removed ? 'del' : 'same';
    const mark = p.added ? '+' : p.removed ? '−' : ' ';
    if (cls === 'same' && lines.length > 6) {
      for (const l of lines.slice(0, 2)) rows.push(h('li', { class: cls }, h('span', { class: 'mark', 'aria-hidden': 'true' }, mark), h('code', null, l || ' ')));
      rows.push(h('li', { class: 'gap muted' }, `… ${lines.length - 4} unchanged lines …`));
      for (const l of lines.slice(-2)) rows.push(h('li', { class: cls }, h('span', { class: 'mark', 'aria-hidden': 'true' }, mark), h('code', null, l || ' ')));
    } else {
      for (const l of lines)
        rows.push(
          h(
            'li',
            { class: cls },
            h('span', { class: 'mark', 'aria-hidden': 'true' }, mark),
            cls === 'same' ? null : h('span', { class: 'visually-hidden' }, cls === 'add' ? 'added: ' : 'removed: '),
            h('code', null, l || ' '),
          ),
        );
    }
  }
  return h('ol', { class: 'diff' }, rows);
}

function recordView(rec) {
  return h(
    'div',
    { class: 'record' },
    h('p', null, rec.error ? statusBadge('failed') : statusBadge('succeeded'), ` ${duration(rec.duration_ms)}`, rec.fuel_used ? ` · ${number(rec.fuel_used)} fuel` : '', rec.attempts > 1 ? ` · ${rec.attempts} attempts` : ''),
    rec.error ? callout('error', rec.error.kind, h('p', null, rec.error.message)) : null,
    rec.input !== undefined && rec.input !== null ? h('div', null, h('h3', null, 'Input'), jsonBlock(rec.input, { label: 'Input' })) : null,
    rec.output !== undefined && rec.output !== null ? h('div', null, h('h3', null, 'Output'), jsonBlock(rec.output, { label: 'Output' })) : null,
    (rec.effects || []).length ? h('div', null, h('h3', null, 'Would write'), h('ul', { class: 'effects' }, rec.effects.map((e) => h('li', null, effectText(e))))) : null,
    (rec.logs || []).length ? h('div', null, h('h3', null, 'Logs'), h('ol', { class: 'logs' }, rec.logs.map((l) => h('li', null, h('span', { class: `level ${l.level}` }, l.level), ' ', l.message)))) : null,
  );
}

/// What a dry run would have done, in words: the operation, then each of
/// its arguments on a line (long values cut).
function effectText(e) {
  const empty = (v) => v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0);
  const args = e.args && typeof e.args === 'object' && !Array.isArray(e.args) ? Object.entries(e.args).filter(([, v]) => !empty(v)) : [];
  const shown = (v) => {
    const t = typeof v === 'string' ? v : JSON.stringify(v);
    return t && t.length > 200 ? `${t.slice(0, 200)}…` : t;
  };
  return [
    // `remove-from-group` reads as words; a method and URL stay as they are.
    h('strong', null, `${words(e.capability)}: ${/[\s/]/.test(String(e.operation)) ? e.operation : words(e.operation)}`),
    args.length ? h('dl', { class: 'kv effect-args' }, args.map(([k, v]) => [h('dt', null, words(k)), h('dd', null, shown(v))])) : null,
  ];
}
