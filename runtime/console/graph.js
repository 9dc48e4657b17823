// Draws a state machine graph that the server has already laid out (absolute coordinates).
//
// `buildSvg(graph, statuses)` is a pure function of the layout and a status map: it reads
// nothing from the page and wires no listeners. Interaction (selection, zoom, live statuses)
// lives in `GraphView` on top of it. A future drag-and-drop designer edits the layout model
// and redraws, or patches one node's coordinates, without the views knowing.

import { groupBy, h } from './ui.js';

const NS = 'http://www.w3.org/2000/svg';
const CONTAINERS = new Set(['Parallel', 'Map']);
const HEADER = 28; // container header height, fixed by the server's layout

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value != null) el.setAttribute(key, String(value));
  }
  el.append(...children.filter((c) => c != null));
  return el;
}

/** Cuts text that would overflow `width` px; the full text stays in the node's <title>. */
function fit(text, width, charPx) {
  const max = Math.max(3, Math.floor(width / charPx));
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const isMarker = (node) => node.kind === 'start' || node.kind === 'end';

function statusOf(node, statuses, fallback) {
  return isMarker(node) ? '' : statuses.get(node.name) ?? fallback;
}

const failCut = (n) => Math.min(n.height * 0.3, n.width / 4);

function octagon(x, y, w, ht, c) {
  const pts = [[x + c, y], [x + w - c, y], [x + w, y + c], [x + w, y + ht - c],
    [x + w - c, y + ht], [x + c, y + ht], [x, y + ht - c], [x, y + c]];
  return pts.map((p) => p.map((v) => v.toFixed(1)).join(',')).join(' ');
}

// One function per shape; each returns the outline (class "shape") and any decoration.
const SHAPES = {
  start: (n) => [s('circle', { class: 'shape', cx: n.x + n.width / 2, cy: n.y + n.height / 2, r: Math.min(n.width, n.height) / 2 })],
  end: (n) => {
    const cx = n.x + n.width / 2;
    const cy = n.y + n.height / 2;
    const r = Math.min(n.width, n.height) / 2;
    return [s('circle', { class: 'shape', cx, cy, r: r - 1.5 }), s('circle', { class: 'end-dot', cx, cy, r: r / 2.5 })];
  },
  Task: (n) => [s('rect', { class: 'shape', x: n.x, y: n.y, width: n.width, height: n.height, rx: 10 })],
  Pass: (n) => [s('rect', { class: 'shape', x: n.x, y: n.y, width: n.width, height: n.height })],
  Succeed: (n) => [s('rect', { class: 'shape', x: n.x, y: n.y, width: n.width, height: n.height, rx: n.height / 2 })],
  // An octagon, like a stop sign, with a second outline inside.
  Fail: (n) => {
    const c = failCut(n);
    const d = 3.5; // the gap between the two outlines
    return [
      s('polygon', { class: 'shape', points: octagon(n.x, n.y, n.width, n.height, c) }),
      s('polygon', { class: 'shape-inner', points: octagon(n.x + d, n.y + d, n.width - 2 * d, n.height - 2 * d, c - d * (2 - Math.SQRT2)) }),
    ];
  },
  Choice: (n) => {
    const { x, y, width: w, height: ht } = n;
    const d = Math.min(ht / 2, w / 4);
    const pts = [[x + d, y], [x + w - d, y], [x + w, y + ht / 2], [x + w - d, y + ht], [x + d, y + ht], [x, y + ht / 2]];
    return [s('polygon', { class: 'shape', points: pts.map((p) => p.join(',')).join(' ') })];
  },
  Wait: (n) => {
    const cx = n.x + 16;
    const cy = n.y + n.height / 2;
    return [
      s('rect', { class: 'shape', x: n.x, y: n.y, width: n.width, height: n.height, rx: 4 }),
      s('circle', { class: 'glyph', cx, cy, r: 7 }),
      s('path', { class: 'glyph', d: `M${cx} ${cy - 4.5}V${cy}H${cx + 3.5}` }),
    ];
  },
  // The container's node is only its header; its body is drawn by `drawBody`.
  container: (n) => [s('rect', { class: 'header', x: n.x, y: n.y, width: n.width, height: HEADER, rx: 6 })],
};

/**
 * A container's body sits outside its `g.node`, so that the node's box (what a click or a
 * WebDriver test aims at) is the header, which no child state or lane ever covers.
 */
function drawBody(n, statuses, fallback) {
  return s('g', { class: 'container-body', 'data-id': n.id, 'data-name': n.name, 'data-kind': n.kind,
    'data-status': statusOf(n, statuses, fallback) },
  s('rect', { class: 'shape', x: n.x, y: n.y, width: n.width, height: n.height, rx: 6 }));
}

function drawNode(n, statuses, fallback) {
  const container = CONTAINERS.has(n.kind);
  const g = s('g', {
    class: 'node', tabindex: 0,
    'data-id': n.id, 'data-name': n.name, 'data-kind': n.kind, 'data-status': statusOf(n, statuses, fallback),
  }, s('title', {}, isMarker(n) ? n.name : `${n.name} (${n.kind})`));
  const shape = container ? SHAPES.container : SHAPES[n.kind] ?? SHAPES.Pass;
  g.append(...shape(n));
  if (container) {
    g.append(
      s('text', { class: 'node-label', x: n.x + 10, y: n.y + HEADER / 2, 'dominant-baseline': 'central' }, fit(n.name, n.width - 80, 7)),
      s('text', { class: 'kind-label', x: n.x + n.width - 10, y: n.y + HEADER / 2, 'dominant-baseline': 'central', 'text-anchor': 'end' }, n.kind),
    );
  } else if (!isMarker(n)) {
    const inset = n.kind === 'Wait' ? 28 : n.kind === 'Choice' ? n.height : n.kind === 'Fail' ? 2 * failCut(n) + 8 : 12;
    const cx = n.kind === 'Wait' ? n.x + (n.width + inset - 12) / 2 : n.x + n.width / 2;
    g.append(s('text', { class: 'node-label', x: cx, y: n.y + n.height / 2, 'dominant-baseline': 'central', 'text-anchor': 'middle' },
      fit(n.name, n.width - inset, 7)));
  }
  return g;
}

function drawLane(lane) {
  return s('g', { class: 'lane', 'data-parent': lane.parent, 'data-scope': lane.scope },
    s('rect', { class: 'lane-box', x: lane.x, y: lane.y, width: lane.width, height: lane.height, rx: 4 }),
    s('text', { class: 'lane-label', x: lane.x + 6, y: lane.y + 12 }, lane.label ?? ''));
}

/** The middle of the middle segment: where a label is least likely to sit on a node. */
function labelPoint(points) {
  const i = Math.max(0, Math.floor((points.length - 2) / 2));
  const [a, b] = [points[i], points[i + 1] ?? points[i]];
  return [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
}

function arrowHead([ax, ay], [bx, by]) {
  const len = Math.hypot(bx - ax, by - ay) || 1;
  const [dx, dy] = [(bx - ax) / len, (by - ay) / len];
  const [px, py] = [bx - dx * 8, by - dy * 8];
  const pts = [[bx, by], [px - dy * 4, py + dx * 4], [px + dy * 4, py - dx * 4]];
  return s('polygon', { class: 'arrow', points: pts.map((p) => p.map((v) => v.toFixed(1)).join(',')).join(' ') });
}

function drawEdge(e) {
  const points = e.points ?? [];
  const g = s('g', { class: 'edge', 'data-kind': e.kind, 'data-from': e.from, 'data-to': e.to, 'data-index': e.index },
    s('polyline', { class: 'edge-line', points: points.map((p) => p.join(',')).join(' ') }));
  if (points.length >= 2) g.append(arrowHead(points.at(-2), points.at(-1)));
  if (e.label && points.length) {
    // The server staggers labels of edges leaving one state (labelAt) so they do not overlap.
    const [x, y] = e.labelAt ?? labelPoint(points);
    const text = fit(e.label, 240, 6);
    const width = text.length * 6 + 10;
    if (text !== e.label) g.append(s('title', {}, e.label));
    g.append(
      s('rect', { class: 'edge-label-bg', x: x - width / 2, y: y - 8, width, height: 16, rx: 3 }),
      s('text', { class: 'edge-label', x, y, 'text-anchor': 'middle', 'dominant-baseline': 'central' }, text),
    );
  }
  return g;
}

/**
 * The SVG for a laid-out graph. `statuses` maps state names to a status class; states not in
 * it get `fallback`. Containers and their lanes go first, then edges, then the other states,
 * so nothing hides behind a container's box.
 */
export function buildSvg(graph, statuses = new Map(), fallback = '') {
  const lanes = groupBy(graph.lanes ?? [], (l) => l.parent);
  const boxes = s('g', { class: 'layer-containers' });
  const leaves = s('g', { class: 'layer-states' });
  for (const n of graph.nodes ?? []) {
    if (CONTAINERS.has(n.kind)) {
      boxes.append(drawBody(n, statuses, fallback), drawNode(n, statuses, fallback),
        ...(lanes.get(n.id) ?? []).map(drawLane));
      lanes.delete(n.id);
    } else {
      leaves.append(drawNode(n, statuses, fallback));
    }
  }
  for (const orphans of lanes.values()) boxes.append(...orphans.map(drawLane));
  const edges = s('g', { class: 'layer-edges' }, ...(graph.edges ?? []).map(drawEdge));
  return s('svg', { class: 'graph', xmlns: NS, viewBox: `0 0 ${graph.width} ${graph.height}`, role: 'img' },
    boxes, edges, leaves);
}

/** Recolours the states in place: no redraw, so nothing moves while an execution runs. */
export function setStatuses(svg, statuses, fallback = '') {
  for (const g of svg.querySelectorAll('g.node, g.container-body')) {
    const n = { kind: g.dataset.kind, name: g.dataset.name };
    const status = statusOf(n, statuses, fallback);
    if (g.dataset.status !== status) g.dataset.status = status;
  }
}

// What the stylesheet decides about the drawing; copied onto each element of an export.
const EXPORTED_STYLE = ['fill', 'fill-opacity', 'stroke', 'stroke-width', 'stroke-dasharray', 'stroke-linejoin',
  'opacity', 'font-family', 'font-size', 'font-weight', 'text-anchor', 'dominant-baseline'];

/** Downloads the graph as a standalone SVG file, with the page's styles inlined. */
export function exportSvg(svg, filename) {
  // The file shows the machine, not where this page's user last clicked.
  const selected = [...svg.querySelectorAll('.selected')];
  selected.forEach((el) => el.classList.remove('selected'));
  const copy = svg.cloneNode(true);
  const from = [svg, ...svg.querySelectorAll('*')];
  const to = [copy, ...copy.querySelectorAll('*')];
  const computed = new Map(from.map((el) => [el, getComputedStyle(el)]));
  from.forEach((el, i) => {
    const css = computed.get(el);
    const parent = computed.get(el.parentNode);
    // What the parent already says is inherited; writing it again would only bloat the file.
    const style = EXPORTED_STYLE.map((p) => [p, css.getPropertyValue(p)])
      .filter(([p, v]) => !parent || parent.getPropertyValue(p) !== v);
    if (style.length) to[i].setAttribute('style', style.map(([p, v]) => `${p}:${v}`).join(';'));
    to[i].removeAttribute('tabindex');
  });
  selected.forEach((el) => el.classList.add('selected'));
  const [, , width, height] = svg.getAttribute('viewBox').split(' ');
  copy.setAttribute('width', width);
  copy.setAttribute('height', height);
  copy.prepend(s('rect', { width, height, fill: '#ffffff' }));
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(copy)}`;
  const url = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' }));
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * A graph on the page: a zoomable, scrollable viewport that owns one SVG at a time.
 * `onSelect(node)` receives the clicked node of the layout model.
 */
export class GraphView {
  constructor(container, { onSelect } = {}) {
    this.onSelect = onSelect;
    this.graph = null;
    this.svg = null;
    this.zoom = null; // null: fit to width, tracking the panel's size
    this.selectedId = null;
    this.viewport = h('div', { class: 'graph-viewport' });
    const zoomBy = (f) => () => this.setZoom((this.zoom ?? this.fitScale()) * f);
    const toolbar = h('div', { class: 'graph-toolbar' },
      h('button', { type: 'button', title: 'Zoom out', onclick: zoomBy(1 / 1.25) }, '−'),
      h('button', { type: 'button', title: 'Zoom in', onclick: zoomBy(1.25) }, '+'),
      h('button', { type: 'button', title: 'Fit to width', onclick: () => this.setZoom(null) }, 'Fit'));
    container.classList.add('graph-panel');
    container.replaceChildren(toolbar, this.viewport);

    const pick = (e) => {
      const g = e.target.closest?.('g.node, g.container-body');
      if (!g || !this.graph) return;
      this.select(g.dataset.id);
      const node = this.graph.nodes.find((n) => n.id === g.dataset.id);
      if (node) this.onSelect?.(node);
    };
    this.viewport.addEventListener('click', pick);
    this.viewport.addEventListener('keydown', (e) => e.key === 'Enter' && pick(e));
    this.viewport.addEventListener('wheel', (e) => {
      if (!(e.ctrlKey || e.metaKey) || !this.svg) return; // plain wheel keeps scrolling
      e.preventDefault();
      zoomBy(e.deltaY < 0 ? 1.1 : 1 / 1.1)();
    }, { passive: false });
    new ResizeObserver(() => this.zoom === null && this.applyZoom()).observe(this.viewport);
  }

  /** Replaces the drawing; zoom, scroll and selection survive (the editor redraws on each key). */
  draw(graph, statuses, fallback) {
    this.graph = graph;
    this.svg = buildSvg(graph, statuses, fallback);
    this.viewport.replaceChildren(this.svg);
    this.applyZoom();
    if (this.selectedId) this.select(this.selectedId);
  }

  clear(message) {
    this.graph = this.svg = null;
    this.viewport.replaceChildren(h('p', { class: 'muted graph-empty' }, message));
  }

  /** Says why there is no drawing (the server's `notice`, e.g. a definition too big to draw). */
  notice(message) {
    this.graph = this.svg = null;
    this.viewport.replaceChildren(h('p', { class: 'note graph-empty graph-notice' }, message));
  }

  setStatuses(statuses, fallback) {
    if (this.svg) setStatuses(this.svg, statuses, fallback);
  }

  select(id) {
    this.selectedId = id;
    for (const g of this.svg?.querySelectorAll('g.node, g.container-body') ?? []) {
      g.classList.toggle('selected', g.dataset.id === id);
    }
  }

  /**
   * Marks the states the diagnostics point at (`data-flag` "error" or "warning", with the
   * message as the node's tooltip): a diagnostic's location is a JSON pointer, and its
   * state is the node whose id is its longest prefix.
   */
  flag(diagnostics) {
    const nodes = (this.graph?.nodes ?? []).filter((n) => n.state);
    const flags = new Map();
    for (const d of diagnostics) {
      const location = d.location ?? '';
      const owner = nodes.filter((n) => location === n.id || location.startsWith(`${n.id}/`))
        .sort((a, b) => b.id.length - a.id.length)[0];
      if (!owner) continue;
      const kind = d.severity === 'warning' ? 'warning' : 'error';
      const was = flags.get(owner.id);
      flags.set(owner.id, { kind: was?.kind === 'error' ? 'error' : kind, text: [was?.text, d.message].filter(Boolean).join('\n') });
    }
    for (const g of this.svg?.querySelectorAll('g.node') ?? []) {
      const flag = flags.get(g.dataset.id);
      if (flag) g.dataset.flag = flag.kind; else delete g.dataset.flag;
      let title = g.querySelector(':scope > title.flag');
      if (flag && !title) g.prepend(title = s('title', { class: 'flag' }));
      if (title) title.textContent = flag?.text ?? '';
    }
  }

  selectByName(name) {
    const node = this.graph?.nodes.find((n) => n.name === name && !isMarker(n));
    if (node) this.select(node.id);
  }

  fitScale() {
    const room = this.viewport.clientWidth - 16;
    return this.graph && room > 0 ? Math.min(1, room / this.graph.width) : 1;
  }

  setZoom(zoom) {
    this.zoom = zoom === null ? null : Math.min(4, Math.max(0.1, zoom));
    this.applyZoom();
  }

  applyZoom() {
    if (!this.svg) return;
    const z = this.zoom ?? this.fitScale();
    this.svg.setAttribute('width', Math.round(this.graph.width * z));
    this.svg.setAttribute('height', Math.round(this.graph.height * z));
  }

  export(filename) {
    if (this.svg) exportSvg(this.svg, filename);
  }
}
