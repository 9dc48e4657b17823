// The data-flow inspector (#inspector): how one visit of a state transformed its data, stage
// by stage. Its sections exist from the start and only their text changes, so live updates
// neither move the page nor lose a text selection. The trace summary the page polls has no
// data; a visit's stages are fetched when it is shown, and kept once the visit is over.

import { report } from '../banner.js';
import { fmtDuration, fmtTime, h, pretty } from '../ui.js';

export const STAGES = [
  ['input', 'Input'], ['afterInputPath', 'After InputPath'], ['afterParameters', 'After Parameters'],
  ['result', 'Result'], ['afterResultSelector', 'After ResultSelector'], ['afterResultPath', 'After ResultPath'],
  ['output', 'Output'], ['error', 'Error'], ['variables', 'Variables assigned'],
];

// A JSONata state's stages under the names its fields and `$states` give them; it has no
// InputPath, ResultSelector or ResultPath.
const JSONATA_LABELS = {
  input: 'Input ($states.input)', afterParameters: 'Arguments', result: 'Result ($states.result)',
  output: 'Output', variables: 'Assign (variables set)',
};

const setText = (el, text) => {
  if (el.textContent !== text) el.textContent = text;
};

const LOADING = Symbol('loading');
const FAILED = Symbol('failed');

export class Inspector {
  /**
   * `onShow(name, visit)` tells the page which visit is on display; `loadStages(enteredEventId)`
   * fetches a visit's data, which the trace summary leaves out.
   */
  constructor(onShow, loadStages) {
    this.onShow = onShow;
    this.loadStages = loadStages;
    this.name = null;
    this.pinned = null; // entered event id the user chose; null follows the latest visit
    this.visit = null; // the visit on display
    this.generation = 0; // counts trace summaries: a running visit's data may change with each
    this.cache = new Map(); // entered event id → {key, stages}
    this.loading = new Map(); // entered event id → key of the request in flight
    this.requests = 0;
    this.title = h('h3', {}, 'Data flow');
    this.select = h('select', { id: 'visit-select', hidden: true });
    this.summary = h('p', { class: 'muted small' }, 'Click a state in the graph or the timeline.');
    this.note = h('p', { class: 'field-error small', hidden: true });
    this.pres = new Map();
    this.labels = new Map();
    const stages = STAGES.map(([key, label]) => {
      const pre = h('pre', {}, '—');
      const heading = h('h4', {}, label);
      this.pres.set(key, pre);
      this.labels.set(key, heading);
      return h('section', { class: 'stage absent', 'data-stage': key }, heading, pre);
    });
    this.el = h('aside', { id: 'inspector', class: 'panel fixed' },
      h('div', { class: 'panel-head' }, this.title, this.select), this.summary, this.note, ...stages);
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

  /** A new trace summary: the visits of every state, by state name. */
  update(visitsByName) {
    this.byName = visitsByName;
    this.generation++;
    if (this.name !== null) this.render();
  }

  render() {
    const visits = this.byName?.get(this.name) ?? [];
    const visit = visits.find((v) => v.enteredEventId === this.pinned) ?? visits.at(-1);
    this.visit = visit ?? null;
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
    const jsonata = visit?.queryLanguage === 'JSONata';
    for (const [key, label] of STAGES) {
      const jsonataLabel = key === 'afterParameters' && visit?.kind === 'Map' ? 'ItemSelector' : JSONATA_LABELS[key];
      setText(this.labels.get(key), (jsonata && jsonataLabel) || label);
    }
    this.renderStages(visit ? this.stagesOf(visit) : undefined);
    this.onShow?.(this.name, visit);
  }

  /** `stages` is the data, LOADING, FAILED, or undefined for no visit. */
  renderStages(stages) {
    const loading = stages === LOADING;
    this.note.hidden = stages !== FAILED;
    setText(this.note, stages === FAILED ? 'Could not load the data of this visit.' : '');
    for (const [key, pre] of this.pres) {
      const value = stages && typeof stages === 'object' ? stages[key] : undefined;
      setText(pre, loading ? 'Loading…' : pretty(value));
      pre.parentElement.classList.toggle('absent', value === undefined);
      pre.parentElement.classList.toggle('loading', loading);
    }
  }

  /**
   * A visit's data: from the cache while it is valid, else fetched (and shown once it comes).
   * A finished visit never changes; a running one may have moved on with each summary.
   */
  stagesOf(visit) {
    const id = visit.enteredEventId;
    const key = visit.exitedAt != null ? `done:${visit.status}:${visit.exitedEventId}` : `running:${this.generation}`;
    const cached = this.cache.get(id);
    if (cached?.key === key) return cached.stages;
    if (this.loading.get(id) !== key) this.fetchStages(id, key);
    // A running visit keeps showing its previous data until the new one comes.
    return cached?.stages ?? LOADING;
  }

  fetchStages(id, key) {
    const seq = ++this.requests;
    this.loading.set(id, key);
    const settle = () => this.loading.get(id) === key && this.loading.delete(id);
    const shown = () => this.visit?.enteredEventId === id;
    this.loadStages(id).then((stages) => {
      settle();
      // Answers may overtake each other: a late one for older data is dropped.
      if ((this.cache.get(id)?.seq ?? -1) > seq) return;
      this.cache.set(id, { key, seq, stages });
      if (shown()) this.renderStages(stages);
    }, (e) => {
      settle();
      report(e);
      if (shown() && !this.cache.has(id)) this.renderStages(FAILED);
    });
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
