// Triggers (#/triggers, #/triggers/{bus}): what starts the tenant's workflows besides the
// API. The HTTP routes, with their URLs and a form that sends a test request; the chosen
// event bus's rules, with their patterns (or schedules) and targets, its dead letters and a
// live tail of the events put on it; and the schedules, with their next five fire times.

import { events, eventsAll, rest } from '../api.js';
import { clearTagged, report } from '../banner.js';
import { fmtSeconds, h, link, pretty, prettyText } from '../ui.js';

const REFRESH_MS = 3000; // routes, rules, schedules and dead letters
const TAIL_MS = 1000; // the live tail
const TAIL_SHOWN = 50; // events the tail shows, newest first

export function triggersView(root, param, { signal }) {
  const bus = param || 'default';
  const routes = routesPanel(signal);
  const rules = rulesPanel(bus, signal);
  const letters = deadLettersPanel(bus, signal);
  const tail = tailPanel(bus, signal);
  const schedules = schedulesPanel(signal);
  root.append(routes.el, busPicker(bus, signal), rules.el, tail.el, letters.el, schedules.el);

  const refresh = () => Promise.all([routes.load(), rules.load(), letters.load(), schedules.load()]);
  refresh();
  tail.load();
  const timers = [setInterval(refresh, REFRESH_MS), setInterval(tail.load, TAIL_MS)];
  return () => timers.forEach(clearInterval);
}

/** A table of headings and rows; `id` is what tests and the page's own code find it by. */
const table = (id, columns, tbody) => h('div', { class: 'table-wrap' }, h('table', { id, class: 'table' },
  h('thead', {}, h('tr', {}, columns.map((c) => h('th', {}, c)))), tbody));

/**
 * Loads a list into `tbody`, or says why not in `note`; polling errors are tagged, not
 * repeated. An unchanged list is not redrawn, so a row's opened details stay open.
 */
function lister({ tag, fetch, row, empty, tbody, note }) {
  let drawn = null;
  return async () => {
    try {
      const items = await fetch();
      const text = JSON.stringify(items);
      if (text !== drawn) tbody.replaceChildren(...items.map(row));
      drawn = text;
      note.textContent = items.length ? '' : empty;
      clearTagged(tag);
    } catch (e) {
      note.textContent = 'Could not load this list.';
      report(e, { tag });
    }
  };
}

// ---- Routes ----------------------------------------------------------------------------

const authText = (auth) => ({
  none: 'none (public)',
  apiKey: `API key in ${auth.header}`,
  sigv4: 'SigV4',
  hmac: `HMAC (${auth.style}) in ${auth.header}`,
}[auth.type] ?? auth.type);

function routesPanel(signal) {
  const tbody = h('tbody');
  const note = h('p', { class: 'muted' }, 'Loading…');
  const tester = routeTester(signal);
  const load = lister({
    tag: 'routes',
    fetch: async () => (await rest('GET', '/v1/routes', { signal, tag: 'routes' })).routes ?? [],
    empty: 'No routes yet: sandstep route put, or PUT /v1/routes/{name}, makes one.',
    tbody,
    note,
    row: (r) => {
      const url = `${location.origin}${r.url}`;
      const test = h('button', { type: 'button', class: 'route-test' }, 'Send test request');
      test.addEventListener('click', () => tester.open(r));
      return h('tr', { 'data-name': r.name }, h('td', {}, r.name), h('td', {}, r.method),
        h('td', { class: 'mono small route-url' }, url), h('td', {}, r.mode), h('td', {}, authText(r.auth)),
        h('td', {}, h('a', { href: link.machine(r.stateMachineArn), class: 'mono small' }, r.stateMachineArn)),
        h('td', {}, test));
    },
  });
  const el = h('section', { class: 'panel' }, h('h2', {}, 'HTTP routes'),
    table('routes', ['Name', 'Method', 'URL', 'Mode', 'Auth', 'State machine', ''], tbody), note, tester.el);
  return { el, load };
}

/**
 * The "send test request" form. The server sends it to the route as its owner, skipping
 * the route's own authentication and rate limit (as API Gateway's test invoke does), and
 * answers what the route answered.
 */
function routeTester(signal) {
  const title = h('h3', {}, 'Test request');
  const method = h('input', { id: 'route-test-method', autocomplete: 'off' });
  const path = h('input', { id: 'route-test-path', autocomplete: 'off' });
  const query = h('input', { id: 'route-test-query', autocomplete: 'off', placeholder: 'a=1&b=2' });
  const headers = h('textarea', { id: 'route-test-headers', class: 'code', rows: 3, spellcheck: 'false' });
  const body = h('textarea', { id: 'route-test-body', class: 'code', rows: 6, spellcheck: 'false' });
  const send = h('button', { id: 'route-test-send', type: 'button', class: 'primary' }, 'Send');
  const problem = h('p', { class: 'field-error', hidden: true });
  const result = h('pre', { id: 'route-test-result', class: 'json', hidden: true });
  const el = h('div', { id: 'route-tester', hidden: true }, title,
    h('p', { class: 'muted small' }, 'Sent as you, without the route\'s own authentication or rate limit. ',
      'Fill in the path\'s {parameters}.'),
    h('div', { class: 'form-grid' }, h('label', {}, 'Method', method), h('label', {}, 'Path', path),
      h('label', {}, 'Query', query)),
    h('label', {}, 'Headers (a JSON object)', headers), h('label', {}, 'Body', body),
    h('div', { class: 'row' }, send), problem, result);
  let route = null;

  function open(r) {
    route = r;
    title.textContent = `Test request to ${r.name}`;
    method.value = r.method === 'ANY' ? 'POST' : r.method;
    path.value = r.path;
    query.value = '';
    headers.value = '{"content-type": "application/json"}';
    body.value = '{}';
    result.hidden = true;
    problem.hidden = true;
    el.hidden = false;
    el.scrollIntoView({ block: 'nearest' });
  }

  send.addEventListener('click', async () => {
    let given = {};
    try {
      given = headers.value.trim() ? JSON.parse(headers.value) : {};
      if (given === null || typeof given !== 'object' || Array.isArray(given)) throw new Error('not an object');
    } catch (e) {
      problem.textContent = `Headers must be a JSON object of strings: ${e.message}`;
      problem.hidden = false;
      return;
    }
    problem.hidden = true;
    send.disabled = true;
    try {
      const answer = await rest('POST', `/v1/routes/${encodeURIComponent(route.name)}/test`, {
        body: JSON.stringify({
          method: method.value.trim(), path: path.value.trim(), query: query.value.replace(/^\?/, ''),
          headers: Object.fromEntries(Object.entries(given).map(([k, v]) => [k, String(v)])), body: body.value,
        }),
        signal,
      });
      const lines = Object.entries(answer.headers ?? {}).map(([k, v]) => `${k}: ${v}`);
      result.textContent = [`HTTP ${answer.status}`, ...lines, '', prettyText(answer.body)].join('\n');
      result.dataset.status = answer.status;
      result.hidden = false;
    } catch (e) {
      report(e);
    } finally {
      send.disabled = false;
    }
  });

  return { el, open };
}

// ---- Event buses -----------------------------------------------------------------------

function busPicker(bus, signal) {
  const select = h('select', { id: 'bus-select' }, h('option', { value: bus }, bus));
  select.value = bus;
  eventsAll('ListEventBuses', {}, 'EventBuses', { signal }).then((buses) => {
    const names = [...new Set([bus, ...buses.map((b) => b.Name)])].sort();
    select.replaceChildren(...names.map((n) => h('option', { value: n }, n)));
    select.value = bus;
  }).catch(report);
  select.addEventListener('change', () => {
    location.hash = `#/triggers/${encodeURIComponent(select.value)}`;
  });
  return h('section', { class: 'panel' }, h('div', { class: 'row' }, h('h2', {}, 'Event bus'), select),
    h('p', { class: 'muted small' }, 'Its rules, what was put on it lately, and the deliveries it gave up. ',
      'Sandstep puts a "Step Functions Execution Status Change" event on the default bus whenever an ',
      'execution changes status.'));
}

/** What a rule matches: its pattern, pretty, or its schedule expression. */
const ruleMatch = (rule) => (rule.EventPattern ? prettyText(rule.EventPattern) : rule.ScheduleExpression ?? '—');

/** A target: its id and ARN, and how its input is made when not the whole event. */
function targetText(t) {
  const how = t.Input != null ? `Input: ${t.Input}`
    : t.InputPath != null ? `InputPath: ${t.InputPath}`
      : t.InputTransformer ? `InputTransformer: ${pretty(t.InputTransformer)}` : 'the whole event';
  return `${t.Id} → ${t.Arn}\n  ${how}`;
}

function rulesPanel(bus, signal) {
  const tbody = h('tbody');
  const note = h('p', { class: 'muted' }, 'Loading…');
  const load = lister({
    tag: 'rules',
    fetch: async () => {
      const options = { signal, tag: 'rules' };
      const rules = await eventsAll('ListRules', { EventBusName: bus }, 'Rules', options);
      return Promise.all(rules.map(async (rule) => ({
        rule,
        targets: await eventsAll('ListTargetsByRule', { Rule: rule.Name, EventBusName: bus }, 'Targets', options),
      })));
    },
    empty: 'No rules on this bus: aws events put-rule makes one.',
    tbody,
    note,
    row: ({ rule, targets }) => h('tr', { 'data-name': rule.Name },
      h('td', {}, rule.Name, rule.Description ? h('div', { class: 'muted small' }, rule.Description) : null),
      h('td', {}, rule.State), h('td', {}, h('pre', { class: 'json rule-pattern' }, ruleMatch(rule))),
      h('td', {}, h('pre', { class: 'json rule-targets' },
        targets.length ? targets.map(targetText).join('\n') : 'no targets'))),
  });
  const el = h('section', { class: 'panel' }, h('h2', {}, `Rules on ${bus}`),
    table('rules', ['Name', 'State', 'Pattern or schedule', 'Targets'], tbody), note);
  return { el, load };
}

function deadLettersPanel(bus, signal) {
  const tbody = h('tbody');
  const note = h('p', { class: 'muted' }, 'Loading…');
  const load = lister({
    tag: 'dead-letters',
    fetch: async () => (await rest('GET', `/v1/buses/${encodeURIComponent(bus)}/dead-letters`,
      { signal, tag: 'dead-letters' })).deadLetters ?? [],
    empty: 'No dead letters: every delivery went through (or is still being retried).',
    tbody,
    note,
    row: (l) => h('tr', { 'data-id': l.id }, h('td', {}, l.rule), h('td', {}, l.targetId),
      h('td', { class: 'mono small' }, l.targetArn), h('td', { class: 'num' }, String(l.attempts)),
      h('td', { class: 'dead-letter-error' }, l.error ?? '—'), h('td', { class: 'nowrap' }, fmtSeconds(l.failed)),
      h('td', {}, h('details', {}, h('summary', {}, 'Event'), h('pre', { class: 'json' }, pretty(l.event))))),
  });
  const el = h('section', { class: 'panel' }, h('h2', {}, 'Dead letters'),
    table('dead-letters', ['Rule', 'Target', 'Target ARN', 'Attempts', 'Error', 'Given up', ''], tbody), note);
  return { el, load };
}

/**
 * The events lately put on the bus, newest first, polled each second. New events are added
 * on top and the oldest drop off, so an event's opened detail stays open; "Pause" holds
 * the list still.
 */
function tailPanel(bus, signal) {
  const list = h('ol', { id: 'tail', class: 'tail' });
  const note = h('p', { class: 'muted' }, 'Waiting for events…');
  const pause = h('button', { id: 'tail-pause', type: 'button' }, 'Pause');
  const shown = new Set(); // ids of the events in the list
  let paused = false;
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.textContent = paused ? 'Resume' : 'Pause';
  });

  const item = (e) => h('li', { 'data-id': e.id },
    h('div', {}, h('span', { class: 'nowrap muted' }, e.time), ' ', h('strong', {}, e.source), ' ',
      h('span', { class: 'tail-type' }, e['detail-type'])),
    h('details', {}, h('summary', {}, 'Detail'), h('pre', { class: 'json' }, pretty(e.detail))));

  async function load() {
    if (paused) return;
    try {
      const { events: put = [] } = await rest('GET', `/v1/buses/${encodeURIComponent(bus)}/tail`,
        { signal, tag: 'tail' });
      clearTagged('tail');
      const fresh = put.filter((e) => !shown.has(e.id)); // oldest first
      for (const e of fresh) {
        shown.add(e.id);
        list.prepend(item(e));
      }
      while (list.children.length > TAIL_SHOWN) {
        shown.delete(list.lastElementChild.dataset.id);
        list.lastElementChild.remove();
      }
      note.textContent = shown.size ? '' : 'Nothing put on this bus since the server started.';
    } catch (e) {
      report(e, { tag: 'tail' });
    }
  }

  const el = h('section', { class: 'panel' }, h('div', { class: 'row' }, h('h2', {}, 'Live tail'), pause),
    note, list);
  return { el, load };
}

// ---- Schedules -------------------------------------------------------------------------

/** A fire time (ISO 8601, UTC) in the schedule's own zone, as its owner reads it. */
function inZone(iso, timezone) {
  try {
    return new Date(iso).toLocaleString('sv-SE', {
      timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit',
      minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZoneName: 'short',
    });
  } catch {
    return iso; // a zone this browser does not know
  }
}

function schedulesPanel(signal) {
  const tbody = h('tbody');
  const note = h('p', { class: 'muted' }, 'Loading…');
  const load = lister({
    tag: 'schedules',
    fetch: async () => (await rest('GET', '/v1/schedules', { signal, tag: 'schedules' })).schedules ?? [],
    empty: 'No schedules yet: sandstep schedule put, or PUT /v1/schedules/{name}, makes one.',
    tbody,
    note,
    row: (s) => h('tr', { 'data-name': s.name }, h('td', {}, s.name), h('td', { class: 'mono small' }, s.expression),
      h('td', {}, s.timezone), h('td', {}, s.state),
      h('td', { class: 'mono small' }, s.target?.arn ?? `${s.target?.bus}/${s.target?.rule}`),
      h('td', {}, h('ol', { class: 'next-fires' }, (s.nextFires ?? []).map((t) =>
        h('li', { class: 'nowrap', title: t, 'data-utc': t }, inZone(t, s.timezone))))),
      h('td', { class: 'nowrap' }, s.lastFire ?? '—')),
  });
  const el = h('section', { class: 'panel' }, h('h2', {}, 'Schedules'),
    table('schedules', ['Name', 'Expression', 'Time zone', 'State', 'Target', 'Next five fires', 'Last fire'], tbody),
    note);
  return { el, load };
}
