// The event table (#events). History only grows, so each poll appends the new rows and
// leaves the others (and whatever the user expanded) alone.

import { fmtSeconds, h, pretty } from '../ui.js';

const detailsOf = (event) => {
  const key = Object.keys(event).find((k) => k.endsWith('EventDetails'));
  return key ? event[key] : undefined;
};

/** The *StateEntered event an *StateExited event closes: walk back along previousEventId (`byId(id)` → event). */
function enteredBefore(exited, byId) {
  const type = exited.type.replace(/Exited$/, 'Entered');
  const name = detailsOf(exited)?.name;
  for (let e = byId(exited.previousEventId), n = 0; e && n < 100_000; e = byId(e.previousEventId), n++) {
    if (e.type === type && detailsOf(e)?.name === name) return e;
  }
  return undefined;
}

export class EventTable {
  constructor() {
    this.tbody = h('tbody');
    this.count = 0;
    this.el = h('table', { id: 'events', class: 'table' },
      h('thead', {}, h('tr', {}, ['ID', 'Type', 'Step', 'Timestamp', 'Elapsed (ms)', 'Duration (ms)', 'Details']
        .map((c) => h('th', {}, c)))), this.tbody);
  }

  /** Empties the table, for a history read again from the start. */
  reset() {
    this.tbody.replaceChildren();
    this.count = 0;
  }

  /** `enteredByExit` maps an exit event id to its entry's, from the trace (the exact answer). */
  update(events, enteredByExit) {
    if (events.length < this.count) this.reset();
    if (events.length === this.count) return;
    // Ids are dense (1..N), so an id finds its event by index; the map is for anything else.
    let byId = null;
    const lookup = (id) => {
      if (id == null) return undefined;
      if (events[id - 1]?.id === id) return events[id - 1];
      byId ??= new Map(events.map((e) => [e.id, e]));
      return byId.get(id);
    };
    const start = events[0].timestamp;
    for (let i = this.count; i < events.length; i++) {
      const event = events[i];
      let duration = '';
      if (event.type.endsWith('StateExited')) {
        const entered = lookup(enteredByExit.get(event.id)) ?? enteredBefore(event, lookup);
        if (entered) duration = String(Math.round((event.timestamp - entered.timestamp) * 1000));
      }
      const details = detailsOf(event);
      this.tbody.append(h('tr', { 'data-id': event.id, 'data-type': event.type },
        h('td', {}, String(event.id)),
        h('td', {}, event.type),
        h('td', {}, details?.name ?? ''),
        h('td', { class: 'nowrap' }, fmtSeconds(event.timestamp)),
        h('td', { class: 'num' }, String(Math.round((event.timestamp - start) * 1000))),
        h('td', { class: 'num' }, duration),
        h('td', {}, details ? h('details', {}, h('summary', {}, 'show'), h('pre', {}, pretty(details))) : '')));
    }
    this.count = events.length;
  }
}
