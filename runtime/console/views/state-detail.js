// The panel (#state-detail) that explains one state of a definition: the fields that decide
// what it does, then its whole JSON.

import { h, pretty } from '../ui.js';

const FIELDS = ['Type', 'Resource', 'Next', 'End', 'Default', 'TimeoutSeconds', 'HeartbeatSeconds',
  'Retry', 'Catch', 'InputPath', 'Parameters', 'ResultSelector', 'ResultPath', 'OutputPath'];

const HINT = 'Click a state in the graph to see its definition.';

export function stateDetailPanel() {
  return h('aside', { id: 'state-detail', class: 'panel fixed' }, h('p', { class: 'muted' }, HINT));
}

/** Shows `node` (a node of the graph layout) in the panel; null shows the hint. */
export function showState(panel, node) {
  if (!node) {
    panel.replaceChildren(h('p', { class: 'muted' }, HINT));
    return;
  }
  if (!node.state) {
    const what = node.kind === 'start' ? 'Where the flow begins.' : 'Where the flow ends.';
    panel.replaceChildren(h('h3', {}, node.name), h('p', { class: 'muted' }, what));
    return;
  }
  const rows = FIELDS.filter((f) => node.state[f] !== undefined).map((f) => {
    const v = node.state[f];
    return [h('dt', {}, f), h('dd', {}, h('code', { class: 'json' }, typeof v === 'string' ? v : pretty(v)))];
  });
  panel.replaceChildren(
    h('h3', {}, node.name, ' ', h('span', { class: 'kind' }, node.kind)),
    h('p', { class: 'muted small' }, node.id),
    h('dl', { class: 'fields' }, rows),
    h('h4', {}, 'Definition'),
    h('pre', {}, pretty(node.state)),
  );
}
