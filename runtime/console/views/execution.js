// One execution (#/executions/<arn>): its graph coloured by what happened, the data-flow
// inspector, the timeline and the events, polled every 500 ms while it runs (2 s after the
// first 30 s). A poll reads only what is new: the events after the last one it has, and the
// trace summary (no data) when those changed; the inspector fetches one visit's data.
//
// Everything is built once; a poll only changes text, classes and attributes in place, so
// the page never jumps under the reader.

import { aws, executionHistory, historyAfter, layoutDefinition, traceSummary, visitStages } from '../api.js';
import { report } from '../banner.js';
import { GraphView } from '../graph.js';
import { fmtDuration, fmtSeconds, groupBy, h, link, prettyText } from '../ui.js';
import { EventTable } from './events.js';
import { Inspector } from './inspector.js';
import { Timeline } from './timeline.js';
import { legend, stateStatuses } from './trace.js';

const POLL_MS = 500;
const FAST_FOR_MS = 30_000; // then a long run is polled more gently
const SLOW_POLL_MS = 2000;
const RETRY_MS = 3000; // after a failed poll: keep trying, without flooding the banner

/** Whether a failure may pass (server down, overloaded), so that trying again makes sense. */
const mayPass = (e) => !(e.status >= 400 && e.status < 500) || e.type === 'ThrottlingException';

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
  }, (enteredEventId) => visitStages(arn, enteredEventId, { signal }));
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

  // What the page knows: every event so far (ids are dense, 1..N) and the trace summary.
  let history = null; // null until the first full read
  let visits = [];
  let enteredByExit = new Map();
  let execution = null;

  function showSummary(trace) {
    visits = trace.visits ?? [];
    statuses = stateStatuses(visits);
    traced = true;
    graph.setStatuses(statuses, 'not-reached');
    inspector.update(groupBy(visits, (v) => v.state));
    enteredByExit = new Map(visits.filter((v) => v.exitedEventId != null).map((v) => [v.exitedEventId, v.enteredEventId]));
  }

  /** The timeline runs to now while the execution does, so it moves even without news. */
  function showTimeline() {
    if (!execution || !traced) return;
    const start = execution.startDate * 1000;
    let last = start;
    for (const v of visits) last = Math.max(last, v.exitedAt ?? v.enteredAt);
    const end = execution.stopDate ? execution.stopDate * 1000 : Math.max(Date.now(), last);
    timeline.update(visits, start, Math.max(end, last));
  }

  /** Brings the history up to date; true if it grew. After the first read only new events are read. */
  async function readHistory() {
    const lastId = history?.at(-1)?.id ?? 0;
    const fresh = history ? await historyAfter(arn, lastId, { signal }) : null;
    const dense = fresh?.every((e, i) => e.id === lastId + 1 + i);
    if (fresh && !dense) {
      // Not what the ids promise: start over rather than show a history with holes.
      history = null;
      events.update([], enteredByExit);
    }
    if (!history) {
      history = await executionHistory(arn, { signal });
      return true;
    }
    for (const event of fresh) history.push(event);
    return fresh.length > 0;
  }

  /**
   * One refresh. Describe comes first: once it says "stopped", the history read after it is
   * complete, and the trace read after that covers it. History and trace fail on their own:
   * the one that works still updates the page. Returns the errors, if any.
   */
  let lastStatus = null;
  let traceFailed = false;
  async function refresh() {
    execution = await aws('DescribeExecution', { executionArn: arn }, { signal });
    showExecution(execution);
    const errors = [];
    let changed = execution.status !== lastStatus || traceFailed;
    lastStatus = execution.status;
    try {
      if (await readHistory()) changed = true;
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      errors.push(e);
      changed = true; // the history cannot tell; ask the trace
    }
    if (changed) {
      try {
        showSummary(await traceSummary(arn, { signal }));
        traceFailed = false;
      } catch (e) {
        if (e.name === 'AbortError') throw e;
        errors.push(e);
        traceFailed = true;
      }
    }
    if (history) events.update(history, enteredByExit);
    showTimeline();
    return errors;
  }

  // Polling: one request chain at a time; `poll()` asks for an immediate refresh. It pauses
  // while the page is hidden, slows down once the page has watched for a while, and stops
  // once the execution has stopped and a last refresh has gone through.
  const watchedSince = Date.now();
  let timer = null;
  let busy = false;
  let again = false;
  let paused = false;
  async function poll() {
    clearTimeout(timer);
    timer = null;
    if (busy) {
      again = true;
      return;
    }
    if (document.hidden) {
      paused = true;
      return;
    }
    busy = true;
    let next = null;
    try {
      const errors = await refresh();
      errors.forEach(report);
      const running = execution.status === 'RUNNING';
      if (errors.length) {
        // While it runs, keep trying; once it has stopped, only what may pass is worth it.
        if (running || errors.some(mayPass)) next = RETRY_MS;
      } else if (running) {
        next = Date.now() - watchedSince < FAST_FOR_MS ? POLL_MS : SLOW_POLL_MS;
      }
    } catch (e) {
      if (e.name === 'AbortError') return;
      report(e);
      if (mayPass(e)) next = RETRY_MS;
    } finally {
      busy = false;
    }
    if (signal.aborted) return;
    if (again) {
      again = false;
      next = 0;
    }
    if (next !== null) timer = setTimeout(poll, next);
  }
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && paused) {
      paused = false;
      poll();
    }
  }, { signal });

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
    .then(({ graph: layout, notice }) => {
      if (notice) return graph.notice(notice);
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
