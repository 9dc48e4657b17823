// The timeline (#timeline): one row per scope (top level, each Parallel branch, each Map
// iteration), one bar per visit. Rows and bars are created once and then only moved, so a
// live execution slides smoothly instead of redrawing.

import { fmtDuration, h } from '../ui.js';

const pct = (x) => `${(Math.min(1, Math.max(0, x)) * 100).toFixed(3)}%`;

export class Timeline {
  /** `onPick(visit)` runs when a bar is clicked. */
  constructor(onPick) {
    this.rows = new Map(); // scope → track element
    this.bars = new Map(); // entered event id → {bar, visit}
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
      this.body.append(h('div', { class: 'timeline-row', 'data-scope': scope },
        h('span', { class: 'timeline-label', title: scope || 'Top level' }, scope || 'Top level'), track));
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
        this.track(visit.scope).append(bar);
        entry = { bar };
        this.bars.set(visit.enteredEventId, entry);
      }
      entry.visit = visit;
      const stop = visit.exitedAt ?? end;
      const { bar } = entry;
      const left = Math.min(1, Math.max(0, (visit.enteredAt - start) / span));
      bar.style.left = pct(left);
      bar.style.width = pct(Math.min(1 - left, (stop - visit.enteredAt) / span));
      bar.dataset.status = visit.status;
      bar.title = `${visit.state} · ${visit.status} · ${fmtDuration(stop - visit.enteredAt)}` +
        (visit.retries ? ` · ${visit.retries} retries` : '');
    }
  }

  /** Highlights the bars of a state, and the one visit shown in the inspector. */
  highlight(name, enteredEventId) {
    for (const { bar, visit } of this.bars.values()) {
      bar.classList.toggle('selected', visit.state === name);
      bar.classList.toggle('current', visit.enteredEventId === enteredEventId);
    }
  }
}
