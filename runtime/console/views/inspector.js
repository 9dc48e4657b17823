// The data-flow inspector (#inspector): how one visit of a state transformed its data, stage
// by stage. Its sections exist from the start and only their text changes, so live updates
// neither move the page nor lose a text selection.

import { fmtDuration, fmtTime, h, pretty } from '../ui.js';

export const STAGES = [
  ['input', 'Input'], ['afterInputPath', 'After InputPath'], ['afterParameters', 'After Parameters'],
  ['result', 'Result'], ['afterResultSelector', 'After ResultSelector'], ['afterResultPath', 'After ResultPath'],
  ['output', 'Output'], ['error', 'Error'], ['variables', 'Variables assigned'],
];

const setText = (el, text) => {
  if (el.textContent !== text) el.textContent = text;
};

export class Inspector {
  /** `onShow(name, visit)` tells the page which visit is on display. */
  constructor(onShow) {
    this.onShow = onShow;
    this.name = null;
    this.pinned = null; // entered event id the user chose; null follows the latest visit
    this.visits = [];
    this.title = h('h3', {}, 'Data flow');
    this.select = h('select', { id: 'visit-select', hidden: true });
    this.summary = h('p', { class: 'muted small' }, 'Click a state in the graph or the timeline.');
    this.pres = new Map();
    const stages = STAGES.map(([key, label]) => {
      const pre = h('pre', {}, '—');
      this.pres.set(key, pre);
      return h('section', { class: 'stage absent', 'data-stage': key }, h('h4', {}, label), pre);
    });
    this.el = h('aside', { id: 'inspector', class: 'panel fixed' },
      h('div', { class: 'panel-head' }, this.title, this.select), this.summary, ...stages);
    this.select.addEventListener('change', () => {
      this.pinned = Number(this.select.value);
      this.render();
    });
  }

  /** Shows a state; `enteredEventId` picks one visit, otherwise its latest. */
  show(name, enteredEventId = null) {
    this.name = name;
    this.pinned = enteredEventId;
    this.optionsKey = null;
    this.render();
  }

  /** New trace data: the visits of every state, by state name. */
  update(visitsByName) {
    this.byName = visitsByName;
    if (this.name !== null) this.render();
  }

  render() {
    const visits = this.byName?.get(this.name) ?? [];
    const visit = visits.find((v) => v.enteredEventId === this.pinned) ?? visits.at(-1);
    setText(this.title, this.name);
    this.renderOptions(visits, visit);
    if (!visit) {
      setText(this.summary, 'Not reached in this execution.');
    } else {
      const ms = visit.exitedAt == null ? null : visit.exitedAt - visit.enteredAt;
      setText(this.summary, [visit.scope ? `Scope ${visit.scope}` : 'Top level', visit.status,
        `entered ${fmtTime(visit.enteredAt)}`, ms == null ? 'still running' : `took ${fmtDuration(ms)}`,
        visit.retries ? `${visit.retries} retries` : null].filter(Boolean).join(' · '));
    }
    for (const [key, pre] of this.pres) {
      const value = visit?.stages?.[key];
      setText(pre, pretty(value));
      pre.parentElement.classList.toggle('absent', value === undefined);
    }
    this.onShow?.(this.name, visit);
  }

  renderOptions(visits, visit) {
    this.select.hidden = visits.length < 2;
    // Rebuilding the options of an open select would close it: only when the visits change.
    const key = visits.map((v) => `${v.enteredEventId}:${v.status}`).join(',');
    if (key !== this.optionsKey) {
      this.optionsKey = key;
      this.select.replaceChildren(...visits.map((v, i) => h('option', { value: v.enteredEventId },
        `Visit ${i + 1}${v.scope ? ` · ${v.scope}` : ''} · ${v.status}`)));
    }
    if (visit) this.select.value = String(visit.enteredEventId);
  }
}
