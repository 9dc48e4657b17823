// What the trace's visits mean for the picture: one colour per state, and the legend for it.

import { groupBy, h } from '../ui.js';

export const STATUSES = [
  ['succeeded', 'Succeeded'], ['failed', 'Failed'], ['caught', 'Caught'], ['retried', 'Retried'],
  ['running', 'Running'], ['cancelled', 'Cancelled'], ['not-reached', 'Not reached'],
];

/** One status for all the visits of a state: the most telling thing that happened to it. */
function aggregate(visits) {
  const any = (test) => visits.some(test);
  if (any((v) => v.status === 'running')) return 'running';
  if (any((v) => v.status === 'failed')) return 'failed';
  if (any((v) => v.status === 'caught')) return 'caught';
  if (any((v) => v.retries > 0)) return 'retried';
  if (any((v) => v.status === 'succeeded')) return 'succeeded';
  return 'cancelled';
}

/** State name → status, for the states visited at least once. */
export function stateStatuses(visits) {
  const statuses = new Map();
  for (const [name, list] of groupBy(visits, (v) => v.state)) statuses.set(name, aggregate(list));
  return statuses;
}

export function legend() {
  return h('ul', { class: 'legend' }, STATUSES.map(([status, label]) =>
    h('li', {}, h('span', { class: 'swatch', 'data-status': status }), label)));
}
