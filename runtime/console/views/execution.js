// One execution (#/executions/<arn>): its graph coloured by what happened, the data-flow
// inspector, the timeline and the events, polled every 500 ms while it runs.
//
// Everything is built once; a poll only changes text, classes and attributes in place, so
// the page never jumps under the reader.

import { aws, executionHistory, executionTrace, layoutDefinition } from '../api.js';
import { report } from '../banner.js';
import { GraphView } from '../graph.js';
import { fmtDuration, fmtSeconds, groupBy, h, link, prettyText } from '../ui.js';
import { EventTable } from './events.js';
import { Inspector } from './inspector.js';
import { Timeline } from './timeline.js';
import { legend, stateStatuses } from './trace.js';

const POLL_MS = 500;
const RETRY_MS = 3000; // after a failed poll: keep trying, without flooding the banner

export function executionView(root, arn, { signal }) {
  const status = h('span', { id: 'execution-status', class: 'badge' }, '…');
  const stop = h('button', { id: 'stop-execution', type: 'button', class: 'danger', hidden: true, disabled: true }, 'Stop');
  const name = h('span', { class: 'mono' }, '');
  const title = h('h2', {}, 'Execution ', name);
  const machineLink = h('a', {}, '');
  const times = h('span', {}, '');
  const input = h('pre', { id: 'execution-input' }, '…');
  const output = h('div', { id: 'execution-output' }, h('pre', {}, '…'));
  const graphBox = h('section', { id: 'execution-graph', class: 'panel fixed' });
  const events = new EventTable();
  const inspector = new Inspector((name, visit) => {
    graph.selectByName(name);
    timeline.highlight(name, visit?.enteredEventId);
  });
  const timeline = new Timeline((visit) => inspector.show(visit.state, visit.enteredEventId));
  root.append(
    h('div', { class: 'page-head' },
      h('div', {}, h('div', { class: 'row' }, title, status, stop),
        h('p', { class: 'muted small' }, 'State machine: ', machineLink, ' · ', times),
        h('p', { class: 'muted small mono' }, arn))),
    h('div', { class: 'grid-2' }, h('div', { class: 'stack' }, graphBox, legend()), inspector.el),
    h('div', { class: 'grid-2' },
      h('section', { class: 'panel io' }, h('h3', {}, 'Input'), input),
      h('section', { class: 'panel io' }, h('h3', {}, 'Output'), output)),
    h('section', { class: 'panel timeline-panel' }, h('h3', {}, 'Timeline'), timeline.el),
    h('section', { class: 'panel events-panel' }, h('h3', {}, 'Events'),
      h('div', { class: 'table-wrap' }, events.el)));

  const graph = new GraphView(graphBox, { onSelect: (node) => node.state && inspector.show(node.name) });
  graph.clear('Loading…');
  let statuses = new Map();
  let traced = false; // before the first trace, "not reached" would be a guess

  function showExecution(e) {
    setText(name, e.name);
    setText(status, e.status);
    status.className = `badge status-${e.status.toLowerCase()}`;
    const running = e.status === 'RUNNING';
    stop.hidden = !running;
    stop.disabled = !running;
    machineLink.href = link.machine(e.stateMachineArn);
    machineLink.textContent = e.stateMachineArn.split(':').pop();
    const ms = ((e.stopDate ?? Date.now() / 1000) - e.startDate) * 1000;
    setText(times, `started ${fmtSeconds(e.startDate)}` +
      (e.stopDate ? ` · stopped ${fmtSeconds(e.stopDate)} · ${fmtDuration(ms)}` : ''));
    setText(input, prettyText(e.input));
    if (running) {
      showOutput([h('p', { class: 'muted' }, 'Running…')], 'running');
    } else if (e.output !== undefined && e.output !== null) {
      showOutput([h('pre', {}, prettyText(e.output))], 'output');
    } else {
      showOutput([h('p', {}, h('strong', {}, 'Error: '), e.error ?? '—'),
        h('p', {}, h('strong', {}, 'Cause:')), h('pre', { class: 'error-text' }, prettyText(e.cause ?? ''))],
      `error:${e.error}:${e.cause}`);
    }
  }

  // The output panel changes only when what it says changes.
  let outputKey = null;
  function showOutput(children, key) {
    if (key === outputKey) return;
    outputKey = key;
    output.replaceChildren(...children);
  }

  function showTrace(execution, history, trace) {
    const visits = trace.visits ?? [];
    statuses = stateStatuses(visits);
    traced = true;
    graph.setStatuses(statuses, 'not-reached');
    const start = execution.startDate * 1000;
    const seen = visits.map((v) => v.exitedAt ?? v.enteredAt);
    const end = execution.stopDate ? execution.stopDate * 1000 : Math.max(Date.now(), ...seen);
    timeline.update(visits, start, Math.max(end, ...seen));
    inspector.update(groupBy(visits, (v) => v.state));
    events.update(history, new Map(visits.filter((v) => v.exitedEventId != null)
      .map((v) => [v.exitedEventId, v.enteredEventId])));
  }

  // Polling: one request chain at a time; `poke` asks for an immediate refresh.
  let timer = null;
  let busy = false;
  let again = false;
  async function poll() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    clearTimeout(timer);
    let next = null;
    try {
      // Describe first: once it says "stopped", the history read after it is complete.
      const execution = await aws('DescribeExecution', { executionArn: arn }, { signal });
      showExecution(execution);
      const [history, trace] = await Promise.all([executionHistory(arn, { signal }), executionTrace(arn, { signal })]);
      showTrace(execution, history, trace);
      if (execution.status === 'RUNNING') next = POLL_MS;
    } catch (e) {
      if (e.name === 'AbortError') return;
      report(e);
      // Only a failure that may pass (server down, overloaded) is worth another try.
      if (!(e.status >= 400 && e.status < 500) || e.type === 'ThrottlingException') next = RETRY_MS;
    } finally {
      busy = false;
    }
    if (again) {
      again = false;
      next = 0;
    }
    if (next !== null && !signal.aborted) timer = setTimeout(poll, next);
  }

  stop.addEventListener('click', async () => {
    stop.disabled = true;
    try {
      await aws('StopExecution', { executionArn: arn, cause: 'Stopped from the Sandstep console' }, { signal });
    } catch (e) {
      report(e);
    }
    poll();
  });

  // The graph is of the definition this execution runs, which may predate an update.
  aws('DescribeStateMachineForExecution', { executionArn: arn }, { signal })
    .then((m) => layoutDefinition(m.definition, null, { signal }))
    .then(({ graph: layout }) => {
      if (!layout) return graph.clear('This definition cannot be drawn.');
      graph.draw(layout, statuses, traced ? 'not-reached' : '');
      if (inspector.name) graph.selectByName(inspector.name);
    })
    .catch((e) => {
      graph.clear('Could not draw the graph.');
      report(e);
    });
  poll();

  return () => clearTimeout(timer);
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}
