// One execution (#/executions/<arn>): its graph coloured by what happened, the data-flow
// inspector, the timeline and the events, polled every 500 ms while it runs (2 s after the
// first 30 s). A poll reads only what is new: the events after the last one it has, and the
// trace summary (no data) when those changed; the inspector fetches one visit's data.
// Failed polls back off (3 s, 6 s, ... at most 60 s); once the execution has stopped they
// give up after a few tries. The poll's errors go to the banner once, not on every try, and
// leave it when a poll goes through again.
//
// Everything is built once; a poll only changes text, classes and attributes in place, so
// the page never jumps under the reader.

import { aws, executionHistory, historyAfter, layoutDefinition, traceSummary, visitStages } from '../api.js';
import { clearTagged, report } from '../banner.js';
import { GraphView } from '../graph.js';
import { fmtDuration, fmtSeconds, groupBy, h, link, prettyText } from '../ui.js';
import { EventTable } from './events.js';
import { Inspector } from './inspector.js';
import { Timeline } from './timeline.js';
import { legend, stateStatuses } from './trace.js';

const POLL_MS = 500;
const FAST_FOR_MS = 30_000; // then a long run is polled more gently
const SLOW_POLL_MS = 2000;
const RETRY_MS = 3000; // after the first failed poll; doubled after each further one
const MAX_RETRY_MS = 60_000;
const TRIES_AFTER_STOP = 5; // failed polls of a stopped execution before giving up

/** Whether a failure may pass (server down, overloaded), so that trying again makes sense. */
const mayPass = (e) => !(e.status >= 400 && e.status < 500) || e.type === 'ThrottlingException';

export function executionView(root, arn, { signal }) {
  // Banner tags: the poll's errors, and those of the inspector's data (refetched per poll).
  const pollTag = Symbol('execution poll');
  const stagesTag = Symbol('visit stages');
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
  }, async (enteredEventId) => {
    const stages = await visitStages(arn, enteredEventId, { signal, tag: stagesTag });
    clearTagged(stagesTag);
    return stages;
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

  // What the page knows: every event so far (ids are dense, 1..N) and the trace summary.
  let history = null; // null until the first full read
  let seen = new Set(); // the ids in `history`
  let reread = false; // the table must be rebuilt from a history read again
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

  /**
   * Brings the history up to date; true if it grew. After the first read only events with
   * unseen ids are read; they must carry on from the last one (a real gap, which should not
   * happen, means reading it all again). That full read goes into a new list, which replaces
   * the history (and the table) only once it has all come: a failure leaves the old one.
   */
  async function readHistory() {
    if (history) {
      const lastId = history.at(-1)?.id ?? 0;
      const fresh = await historyAfter(arn, seen, { signal, tag: pollTag });
      if (fresh.every((e, i) => e.id === lastId + 1 + i)) {
        for (const event of fresh) {
          history.push(event);
          seen.add(event.id);
        }
        return fresh.length > 0;
      }
    }
    const all = await executionHistory(arn, { signal, tag: pollTag });
    reread = history !== null;
    history = all;
    seen = new Set(all.map((e) => e.id));
    return true;
  }

  /**
   * One refresh. Describe comes first: once it says "stopped", the history read after it is
   * complete, and the trace read after that covers it. History and trace fail on their own:
   * the one that works still updates the page. Returns the errors, if any.
   */
  let lastStatus = null;
  let traceFailed = false;
  async function refresh() {
    execution = await aws('DescribeExecution', { executionArn: arn }, { signal, tag: pollTag });
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
        showSummary(await traceSummary(arn, { signal, tag: pollTag }));
        traceFailed = false;
      } catch (e) {
        if (e.name === 'AbortError') throw e;
        errors.push(e);
        traceFailed = true;
      }
    }
    if (reread) {
      reread = false;
      events.reset(); // rebuilt at once below: the table is never seen empty
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
  let failures = 0; // failed refreshes in a row

  /** The wait after a failed refresh, or null to stop trying. `errors` is what went wrong. */
  function retryAfter(errors) {
    failures++;
    // While it runs there is always more to see; once it has stopped (or was never seen),
    // only a failure that may pass is worth a few more tries.
    if (execution?.status !== 'RUNNING' && (failures >= TRIES_AFTER_STOP || !errors.some(mayPass))) return null;
    return Math.min(MAX_RETRY_MS, RETRY_MS * 2 ** Math.min(failures - 1, 10));
  }
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
      for (const e of errors) report(e, { tag: pollTag });
      if (errors.length) {
        next = retryAfter(errors);
      } else {
        failures = 0;
        clearTagged(pollTag); // recovered: what the failed polls said is over
        if (execution.status === 'RUNNING') next = Date.now() - watchedSince < FAST_FOR_MS ? POLL_MS : SLOW_POLL_MS;
      }
    } catch (e) {
      if (e.name === 'AbortError') return;
      report(e, { tag: pollTag });
      next = retryAfter([e]);
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
