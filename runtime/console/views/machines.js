// The state machine list (#/machines) and one machine's page (#/machines/<arn>): its graph,
// the clicked state, its executions and the form that starts one.

import { aws, awsAll, layoutDefinition } from '../api.js';
import { report } from '../banner.js';
import { GraphView } from '../graph.js';
import { badge, fmtDuration, fmtSeconds, h, link, navigate, parseJsonInput, prettyText } from '../ui.js';
import { exampleInputs } from './samples.js';
import { showState, stateDetailPanel } from './state-detail.js';

export function machineList(root, _param, { signal }) {
  const tbody = h('tbody');
  const note = h('p', { class: 'muted' }, 'Loading…');
  root.append(h('section', { class: 'panel' },
    h('div', { class: 'panel-head' }, h('h2', {}, 'State machines'),
      h('div', { class: 'actions' }, h('a', { id: 'new-from-sample', class: 'button', href: '#/samples' }, 'New from sample'),
        h('a', { class: 'button primary', href: link.editor() }, 'New state machine'))),
    h('div', { class: 'table-wrap' }, h('table', { id: 'machines', class: 'table' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Type'), h('th', {}, 'Created'))), tbody)),
    note));

  awsAll('ListStateMachines', {}, 'stateMachines', { signal }).then((machines) => {
    note.textContent = machines.length ? '' : 'No state machines yet.';
    tbody.replaceChildren(...machines.map((m) => h('tr', {},
      h('td', {}, h('a', { href: link.machine(m.stateMachineArn), 'data-arn': m.stateMachineArn }, m.name)),
      h('td', {}, m.type), h('td', {}, fmtSeconds(m.creationDate)))));
  }).catch((e) => {
    note.textContent = 'Could not load the state machines.';
    report(e);
  });
}

const FILTERS = ['ALL', 'RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];

export function machinePage(root, arn, { signal }) {
  const title = h('h2', {}, 'State machine');
  const meta = h('p', { class: 'muted small mono' }, arn);
  const exportButton = h('button', { id: 'export-svg', type: 'button', disabled: true }, 'Export SVG');
  const detail = stateDetailPanel();
  const graphBox = h('section', { id: 'machine-graph', class: 'panel fixed' });
  const executions = h('section', { class: 'panel' }, h('p', { class: 'muted' }, 'Loading…'));
  root.append(
    h('div', { class: 'page-head' }, h('div', {}, title, meta), h('div', { class: 'actions' },
      h('a', { id: 'edit-machine', class: 'button', href: link.editor(arn) }, 'Edit definition'),
      h('a', { id: 'design-machine', class: 'button', href: link.designer(arn) }, 'Open in designer'), exportButton)),
    h('div', { class: 'grid-2' }, graphBox, detail),
    executions);

  const graph = new GraphView(graphBox, { onSelect: (node) => showState(detail, node) });
  graph.clear('Loading…');
  let name = 'state-machine';
  exportButton.addEventListener('click', () => graph.export(`${name}.svg`));

  (async () => {
    const machine = await aws('DescribeStateMachine', { stateMachineArn: arn }, { signal });
    name = machine.name;
    title.replaceChildren(machine.name, ' ', h('span', { class: 'kind' }, machine.type));
    const express = machine.type === 'EXPRESS';
    executions.replaceChildren(...(express ? expressSection(arn, signal) : standardSection(arn, signal)));
    const { graph: layout, notice } = await layoutDefinition(machine.definition, machine.type, { signal });
    if (notice) {
      graph.notice(notice);
    } else if (layout) {
      graph.draw(layout);
      exportButton.disabled = false;
    } else {
      graph.clear('This definition cannot be drawn.');
    }
  })().catch((e) => {
    graph.clear('Could not load this state machine.');
    report(e);
  });
}

/** The start form; `start(inputText)` does the starting. A machine a sample just
 * installed offers the sample's example inputs, one button each. */
function startForm(label, start, arn) {
  const name = h('input', { id: 'start-name', placeholder: 'Execution name (optional)' });
  const input = h('textarea', { id: 'start-input', class: 'code', rows: 6, spellcheck: 'false', value: '{}' });
  const problem = h('p', { id: 'start-input-error', class: 'field-error', hidden: true });
  const check = () => {
    const { error } = parseJsonInput(input.value);
    problem.textContent = error ?? '';
    problem.hidden = !error;
    return !error;
  };
  input.addEventListener('input', check);
  const button = h('button', { id: 'start-execution', type: 'button', class: 'primary' }, label);
  button.addEventListener('click', async () => {
    if (!check()) return;
    button.disabled = true;
    try {
      await start(input.value, name.value.trim());
    } catch (e) {
      report(e);
    } finally {
      button.disabled = false;
    }
  });
  const examples = Object.entries(exampleInputs(arn) ?? {}).map(([title, text]) => h('button', {
    type: 'button', class: 'example-input', onclick: () => { input.value = text; check(); },
  }, title));
  if (examples.length) input.value = Object.values(exampleInputs(arn))[0];
  return h('div', { class: 'start-form' }, h('h3', {}, 'Start an execution'),
    examples.length ? h('div', { class: 'row small' }, 'Sample inputs:', ...examples) : null,
    h('label', {}, 'Input (JSON)', input), problem, h('div', { class: 'row' }, name, button));
}

function standardSection(arn, signal) {
  const filter = h('select', { id: 'status-filter' }, FILTERS.map((f) => h('option', { value: f }, f)));
  const tbody = h('tbody');
  const note = h('p', { class: 'muted' });
  const more = h('button', { type: 'button', hidden: true }, 'Load more');
  let nextToken = null; // of the current generation's last page
  let generation = 0; // a filter change or refresh makes pages of the one before stale
  let loading = 0; // loads in flight: "Load more" waits for all of them

  /** A first page (a new generation), or with `append` the next page of the current one. */
  async function load(append) {
    if (append && (loading || !nextToken)) return; // a double click, or a list being replaced
    const mine = append ? generation : ++generation;
    const body = { stateMachineArn: arn, maxResults: 100 };
    if (filter.value !== 'ALL') body.statusFilter = filter.value;
    if (append) body.nextToken = nextToken;
    else nextToken = null; // the old list's token means nothing to the new one
    loading++;
    more.disabled = true;
    try {
      const page = await aws('ListExecutions', body, { signal });
      if (mine !== generation) return; // an older filter's page, or one already replaced
      const rows = (page.executions ?? []).map(executionRow);
      if (append) tbody.append(...rows);
      else tbody.replaceChildren(...rows);
      nextToken = page.nextToken ?? null;
      note.textContent = tbody.rows.length ? '' : 'No executions.';
    } catch (e) {
      report(e);
    } finally {
      loading--;
      if (!loading) {
        more.disabled = false;
        more.hidden = !nextToken;
      }
    }
  }
  filter.addEventListener('change', () => load(false));
  more.addEventListener('click', () => load(true));
  load(false);

  return [
    h('div', { class: 'panel-head' }, h('h3', {}, 'Executions'), h('div', { class: 'row' },
      h('label', {}, 'Status ', filter), h('button', { type: 'button', onclick: () => load(false) }, 'Refresh'))),
    h('div', { class: 'table-wrap executions-wrap' }, h('table', { id: 'executions', class: 'table' },
      h('thead', {}, h('tr', {}, ['Name', 'Status', 'Started', 'Stopped', 'Duration'].map((c) => h('th', {}, c)))),
      tbody)),
    note, more,
    startForm('Start execution', async (input, name) => {
      const body = { stateMachineArn: arn, input };
      if (name) body.name = name;
      const started = await aws('StartExecution', body, { signal });
      navigate(link.execution(started.executionArn));
    }, arn),
  ];
}

function executionRow(e) {
  const ms = e.stopDate ? (e.stopDate - e.startDate) * 1000 : null;
  return h('tr', { 'data-arn': e.executionArn },
    h('td', {}, h('a', { href: link.execution(e.executionArn), 'data-arn': e.executionArn }, e.name)),
    h('td', {}, badge(e.status)), h('td', {}, fmtSeconds(e.startDate)),
    h('td', {}, fmtSeconds(e.stopDate)), h('td', {}, fmtDuration(ms)));
}

// Express executions leave no history to list; running one synchronously shows its result.
function expressSection(arn, signal) {
  const result = h('div', { id: 'sync-result' });
  return [
    h('h3', {}, 'Executions'),
    h('p', { class: 'note' }, 'Express executions are not recorded, so they are not listed. ' +
      'Start one synchronously to see its result.'),
    startForm('Start (sync)', async (input, name) => {
      const body = { stateMachineArn: arn, input };
      if (name) body.name = name;
      result.replaceChildren(h('p', { class: 'muted' }, 'Running…'));
      const r = await aws('StartSyncExecution', body, { signal });
      const ms = (r.stopDate - r.startDate) * 1000;
      const failed = r.error != null || r.cause != null;
      result.replaceChildren(
        h('p', {}, badge(r.status, { id: 'sync-status' }), ' ', fmtDuration(ms)),
        h('pre', { id: 'sync-output' }, failed ? `${r.error ?? ''}\n${prettyText(r.cause ?? '')}` : prettyText(r.output)));
    }, arn),
    result,
  ];
}
