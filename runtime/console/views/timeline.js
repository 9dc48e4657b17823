// The timeline (#timeline): one row per scope (top level, each Parallel branch, each Map
// iteration), one bar per visit. Rows and bars are created once and then only moved, so a
// live execution slides smoothly instead of redrawing. Rows stay in the natural order of
// their scopes (M[2] before M[10]) however late they appear; the rows scroll inside a box
// of fixed height, so new ones never push the page down.

import { fmtDuration, h } from '../ui.js';

const pct = (x) => `${(Math.min(1, Math.max(0, x)) * 100).toFixed(3)}%`;

/** A scope as a sort key: text and numbers alternating, `P[0]/M[10]` → ['P[', 0, ']/M[', 10, ']']. */
const sortKey = (scope) => scope.split(/(\d+)/).map((part, i) => (i % 2 ? Number(part) : part));

/** Natural order of two sort keys; the top level ('') comes first, a scope before those inside it. */
function compareKeys(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] === b[i]) continue;
    if (i % 2) return a[i] - b[i];
    // Text: a prefix first (`]` before `]/M[`), otherwise by code point.
    return a[i] < b[i] ? -1 : 1;
  }
  return a.length - b.length;
}

/** What a bar shows: a visit that succeeded after retries is `retried`, as in the graph. */
const barStatus = (visit) => (visit.status === 'succeeded' && visit.retries > 0 ? 'retried' : visit.status);

export class Timeline {
  /** `onPick(visit)` runs when a bar is clicked. */
  constructor(onPick) {
    this.rows = new Map(); // scope → track element
    this.order = []; // {key, row} of every row, in display order
    this.bars = new Map(); // entered event id → {bar, visit}
    this.highlighted = { name: null, enteredEventId: null }; // kept for bars yet to come
    this.total = h('span', {}, '');
    this.body = h('div', { class: 'timeline-rows' });
    this.el = h('div', { id: 'timeline' },
      h('div', { class: 'timeline-axis' }, h('span', { class: 'timeline-label' }, 'Scope'),
        h('div', { class: 'timeline-scale' }, h('span', {}, '0 ms'), this.total)),
      this.body);
    this.body.addEventListener('click', (e) => {
      const bar = e.target.closest('.timeline-bar');
      const entry = bar && this.bars.get(Number(bar.dataset.entered));
      if (entry) onPick(entry.visit);
    });
  }

  track(scope) {
    let track = this.rows.get(scope);
    if (!track) {
      track = h('div', { class: 'timeline-track' });
      const text = scope || 'Top level';
      // A long scope is cut at its start: its end says which branch or iteration it is.
      const row = h('div', { class: 'timeline-row', 'data-scope': scope },
        h('span', { class: 'timeline-label timeline-scope', title: text }, h('span', {}, text)), track);
      const key = sortKey(scope);
      // Binary search for the first row that sorts after this one.
      let lo = 0;
      let hi = this.order.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (compareKeys(this.order[mid].key, key) <= 0) lo = mid + 1;
        else hi = mid;
      }
      this.body.insertBefore(row, this.order[lo]?.row ?? null);
      this.order.splice(lo, 0, { key, row });
      this.rows.set(scope, track);
    }
    return track;
  }

  /** Places every visit on a scale from `start` to `end` (epoch ms). */
  update(visits, start, end) {
    const span = Math.max(1, end - start);
    this.total.textContent = fmtDuration(span);
    for (const visit of visits) {
      let entry = this.bars.get(visit.enteredEventId);
      if (!entry) {
        const bar = h('div', { class: 'timeline-bar', 'data-name': visit.state, 'data-entered': visit.enteredEventId },
          h('span', {}, visit.state));
        this.track(visit.scope ?? '').append(bar);
        entry = { bar };
        this.bars.set(visit.enteredEventId, entry);
        this.mark(bar, visit);
      }
      entry.visit = visit;
      const stop = visit.exitedAt ?? end;
      const { bar } = entry;
      const left = Math.min(1, Math.max(0, (visit.enteredAt - start) / span));
      // An instant visit at the very end still shows: its minimum width stays inside the row.
      bar.style.left = `min(${pct(left)}, calc(100% - 3px))`;
      bar.style.width = pct(Math.min(1 - left, (stop - visit.enteredAt) / span));
      const status = barStatus(visit);
      if (bar.dataset.status !== status) bar.dataset.status = status;
      bar.title = `${visit.state} · ${visit.status} · ${fmtDuration(stop - visit.enteredAt)}` +
        (visit.retries ? ` · ${visit.retries} ${visit.retries === 1 ? 'retry' : 'retries'}` : '');
    }
  }

  /** Highlights the bars of a state, and the one visit shown in the inspector, now and later. */
  highlight(name, enteredEventId) {
    this.highlighted = { name, enteredEventId };
    for (const { bar, visit } of this.bars.values()) this.mark(bar, visit);
  }

  mark(bar, visit) {
    const { name, enteredEventId } = this.highlighted;
    bar.classList.toggle('selected', name != null && visit.state === name);
    bar.classList.toggle('current', enteredEventId != null && visit.enteredEventId === enteredEventId);
  }
}
