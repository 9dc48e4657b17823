// The drag-and-drop designer (#/designer, #/designer/<arn>): a palette, the graph as a
// canvas, and a form for the selected state, over one definition that the JSON editor
// shows too (edit either, the other follows).
//
// Every change is an edit of `designer/model.js` on the definition; the canvas is redrawn
// from the server's layout of the result (the same endpoint the editor uses, so layout and
// diagnostics are the server's), and the edit goes on the undo stack. Pointer gestures:
// a palette item dropped on the canvas adds a state (on an edge: inserted there; in a
// branch or processor: added to it); a state's handle dragged to another state connects
// them (the round handle: Next, a Choice's Default or a new rule; the square one: a
// catcher); a state dragged onto an edge moves there. Each gesture has a keyboard way:
// Tab to a state and Enter selects it, Enter on a palette item adds it after the selected
// state (Escape first to add it on its own), and the form's "Connect and move" controls do
// what the handles and moves do. A draft is kept in local storage, so a reload loses nothing.

import { aws, layoutDefinition, rest } from '../api.js';
import { report } from '../banner.js';
import { stateForm } from '../designer/form.js';
import * as m from '../designer/model.js';
import { FLOW, items as paletteItems, tasks } from '../designer/palette.js';
import { GraphView } from '../graph.js';
import { h, link, navigate } from '../ui.js';

const ROLE_ARN = 'arn:aws:iam::000000000000:role/sandstep-console';
const DRAFT = 'sandstep.designer.draft:';
const EMPTY = { Comment: 'A new state machine', StartAt: '', States: {} };
const SVG = 'http://www.w3.org/2000/svg';

export function designerView(root, arn, { signal }) {
  const draftKey = DRAFT + (arn ?? 'new');
  const name = h('input', { id: 'designer-name', placeholder: 'Name', autocomplete: 'off', 'aria-label': 'Name' });
  const type = h('select', { id: 'designer-type', 'aria-label': 'Type' },
    h('option', { value: 'STANDARD' }, 'STANDARD'), h('option', { value: 'EXPRESS' }, 'EXPRESS'));
  const message = h('p', { id: 'designer-message', class: 'note', role: 'status', hidden: true });
  const button = (id, label, title, action) => h('button', { id, type: 'button', title, onclick: action }, label);
  const save = h('button', { id: 'designer-save', type: 'button', class: 'primary' }, arn ? 'Save changes' : 'Create');
  const json = h('textarea', { id: 'designer-json', class: 'code', spellcheck: 'false', rows: 16, 'aria-label': 'Definition JSON' });
  const diagnostics = h('ul', { id: 'designer-diagnostics' });
  const formBox = h('section', { id: 'designer-form', class: 'panel' }, h('p', { class: 'muted' }, 'Select a state to edit it.'));
  const canvasBox = h('section', { id: 'designer-canvas', class: 'panel fixed', tabindex: 0 });
  const palette = h('aside', { id: 'designer-palette', class: 'panel', 'aria-label': 'States' });

  let region = 'us-east-1';
  let account = '000000000000';
  let history = new m.History(structuredClone(EMPTY));
  let selected = null; // { scope, name }
  let clipboard = null;
  let original = null; // the text as loaded: saved back unchanged when nothing was edited
  let found = [];
  let resources = {}; // the tenant's modules, tables, queues, topics, buckets and machines

  const toolbar = h('div', { class: 'row designer-toolbar' },
    button('designer-undo', 'Undo', 'Undo (Ctrl+Z)', () => undo()),
    button('designer-redo', 'Redo', 'Redo (Ctrl+Y)', () => redo()),
    button('designer-delete', 'Delete', 'Delete the selected state (Delete)', () => removeSelected()),
    button('designer-copy', 'Copy', 'Copy the selected state (Ctrl+C)', () => copySelected()),
    button('designer-paste', 'Paste', 'Paste (Ctrl+V)', () => paste()),
    button('designer-layout', 'Auto-layout', 'Lay the graph out again and fit it (L)', () => graph.setZoom(null)),
    save);
  root.append(
    h('div', { class: 'page-head' }, h('h2', {}, arn ? 'Design state machine' : 'Design a new state machine'),
      h('div', { class: 'actions' }, name, type,
        h('a', { class: 'button', href: arn ? link.editor(arn) : link.editor() }, 'JSON editor'))),
    toolbar, message,
    h('div', { class: 'designer-grid' }, palette, canvasBox,
      h('div', { class: 'stack' }, formBox, h('section', { class: 'panel' }, h('h3', {}, 'Diagnostics'), diagnostics),
        h('details', { class: 'panel', id: 'designer-json-panel' }, h('summary', {}, 'Definition (JSON)'), json))));

  const graph = new GraphView(canvasBox, {
    onSelect: (node) => {
      if (!node.state) return;
      selected = m.placeOf(node.id);
      showForm();
    },
  });

  // --- the palette ------------------------------------------------------------------
  function fillPalette() {
    const item = (i) => h('button', { type: 'button', class: 'palette-item', 'data-palette': i.id, title: `Drag onto the canvas: ${i.label}` }, i.label);
    palette.replaceChildren(h('h3', {}, 'Flow'), ...FLOW.map(item), h('h3', {}, 'Tasks'), ...tasks(region, account).map(item));
  }
  fillPalette();

  // --- show -------------------------------------------------------------------------
  const doc = () => history.doc;
  const text = () => (history.past.length === 0 && original !== null ? original : `${JSON.stringify(doc(), null, 2)}\n`);

  function say(textOrNull, kind = 'note') {
    message.hidden = !textOrNull;
    message.className = kind;
    message.textContent = textOrNull ?? '';
  }

  let drawn = 0;
  let editAt = null; // when the edit being drawn began (performance.now())
  async function redraw({ keepJson = false } = {}) {
    const mine = ++drawn;
    canvasBox.dataset.pending = 'true'; // until this edit is drawn and its form shown
    const body = text();
    if (!keepJson) json.value = body;
    localStorage.setItem(draftKey, JSON.stringify({ name: name.value, type: type.value, text: body }));
    const began = performance.now();
    try {
      const { diagnostics: d = [], graph: layout, notice } = await layoutDefinition(body, type.value, { signal });
      if (mine !== drawn) return;
      found = d;
      if (notice) graph.notice(notice);
      else if (layout) {
        graph.draw(layout);
        graph.flag(found);
        decorate();
      } else if (!Object.keys(doc().States ?? {}).length) {
        graph.clear('Drag a state from the palette onto the canvas.');
      }
      canvasBox.dataset.drawMs = (performance.now() - began).toFixed(1);
      // From the drop (or key) that made this edit to the canvas redrawn: what a user waits.
      if (editAt !== null) canvasBox.dataset.editToDrawMs = (performance.now() - editAt).toFixed(1);
      editAt = null;
      canvasBox.dataset.revision = String(mine);
      showDiagnostics();
      showForm();
    } catch (e) {
      report(e);
    } finally {
      if (mine === drawn) delete canvasBox.dataset.pending;
    }
  }

  function showDiagnostics() {
    diagnostics.replaceChildren(...(found.length ? found.map((d) => h('li', { class: `diagnostic ${d.severity === 'warning' ? 'warning' : 'error'}` },
      h('strong', {}, d.code ?? 'ERROR'), ' ', h('code', {}, d.location || '/'), ' ', d.message ?? '')) : [h('li', { class: 'ok' }, 'Valid')]));
  }

  function showForm() {
    const place = selected;
    const holder = place && m.at(doc(), place.scope);
    const state = holder?.States?.[place.name];
    if (!state) {
      selected = null;
      graph.select(null);
      formBox.replaceChildren(h('p', { class: 'muted' }, 'Select a state to edit it.'));
      return;
    }
    graph.select(m.pointerOf(place.scope, place.name));
    const pointer = m.pointerOf(place.scope, place.name);
    const flags = new Map();
    for (const d of found) {
      if (!d.location?.startsWith(`${pointer}/`)) continue;
      const key = d.location.slice(pointer.length + 1).split('/')[0];
      flags.set(key, [...(flags.get(key) ?? []), d]);
    }
    const language = state.QueryLanguage ?? doc().QueryLanguage ?? 'JSONPath';
    formBox.replaceChildren(stateForm({
      name: place.name,
      state,
      language,
      others: Object.keys(holder.States),
      flags,
      resources,
      fresh: (base) => m.freshName(doc(), base),
      change: (next) => apply(() => m.replaceState(doc(), place.scope, place.name, next)),
      rename: (to) => {
        if (apply(() => m.renameState(doc(), place.scope, place.name, to))) selected = { scope: place.scope, name: to };
      },
      move: (field, from, to) => apply(() => m.reorder(doc(), place.scope, place.name, field, from, to)),
      places: m.placesFor(doc(), place.scope, place.name),
      connect: (to, via) => apply(() => m.connect(doc(), place.scope, place.name, to, via)),
      moveOnto: (onto) => apply(() => m.moveState(doc(), place.scope, place.name, onto)),
    }));
  }

  /** Applies an edit; a refusal is shown, not thrown. Answers whether it applied. */
  function apply(edit, { quiet = false } = {}) {
    try {
      const next = edit();
      history.push(next);
      say(null);
      if (!quiet) redraw();
      return true;
    } catch (e) {
      if (!(e instanceof m.Refused)) throw e;
      say(e.message, 'field-error');
      return false;
    }
  }

  const undo = () => history.undo() && redraw();
  const redo = () => history.redo() && redraw();
  function removeSelected() {
    if (!selected) return;
    const { scope, name: gone } = selected;
    if (apply(() => m.removeState(doc(), scope, gone))) selected = null;
  }
  function copySelected() {
    if (!selected) return;
    clipboard = m.copyState(doc(), selected.scope, selected.name);
    say(`Copied "${selected.name}".`);
  }
  function paste() {
    if (!clipboard) return;
    const scope = selected?.scope ?? [];
    let pasted;
    if (apply(() => {
      pasted = m.pasteState(doc(), scope, clipboard);
      return pasted.doc;
    })) selected = { scope, name: pasted.name };
  }

  // --- the canvas's handles and drop targets ------------------------------------------
  function decorate() {
    const svg = graph.svg;
    if (!svg) return;
    // Edges are thin: a wide, invisible copy of each line is what a drop aims at.
    for (const line of svg.querySelectorAll('g.edge > polyline.edge-line')) {
      const hit = line.cloneNode();
      hit.setAttribute('class', 'edge-hit');
      line.after(hit);
    }
    for (const g of svg.querySelectorAll('g.node')) {
      const kind = g.dataset.kind;
      if (kind === 'start' || kind === 'end' || kind === 'Succeed' || kind === 'Fail') continue;
      const box = g.getBBox();
      const container = kind === 'Parallel' || kind === 'Map';
      const y = container ? box.y + box.height / 2 : box.y + box.height;
      g.append(handle(g.dataset.id, 'next', box.x + box.width / 2, y, container));
      if (['Task', 'Parallel', 'Map'].includes(kind)) g.append(handle(g.dataset.id, 'catch', box.x + box.width, box.y + box.height / 2, container));
    }
  }

  function handle(id, kind, x, y, container) {
    const title = document.createElementNS(SVG, 'title');
    title.textContent = kind === 'catch' ? 'Drag to a state to catch errors there' : 'Drag to the state that comes next';
    const shape = document.createElementNS(SVG, kind === 'catch' ? 'rect' : 'circle');
    const attrs = kind === 'catch' ? { x: x - 5, y: y - 5, width: 10, height: 10 } : { cx: container ? x + 40 : x, cy: y, r: 6 };
    for (const [k, v] of Object.entries({ ...attrs, class: `designer-handle handle-${kind}`, 'data-handle': kind, 'data-for': id })) shape.setAttribute(k, v);
    shape.append(title);
    return shape;
  }

  /** What is under the pointer: a state node, an edge, a lane, or the canvas. */
  function dropTarget(x, y) {
    const el = document.elementFromPoint(x, y);
    if (!el || !canvasBox.contains(el)) return null;
    const node = el.closest('g.node');
    if (node && node.dataset.kind !== 'start' && node.dataset.kind !== 'end') return { node: node.dataset.id };
    const edge = el.closest('g.edge');
    if (edge) return { edge: edge.dataset };
    const lane = el.closest('g.lane, g.container-body');
    if (lane?.dataset.scope) return { scope: scopeOf(lane.dataset.scope) };
    return { canvas: true };
  }

  const scopeOf = (pointer) => (pointer ? m.placeOf(`${pointer}/States/x`).scope : []);

  /** An edge's data as the model's `onto`, and the scope it is in. */
  function ontoOf(edge) {
    if (edge.kind === 'start') return { scope: scopeOf(edge.from.replace(/\/start$/, '')), onto: { kind: 'start' } };
    const from = m.placeOf(edge.from);
    const onto = edge.kind === 'end' ? { kind: 'end', from: from.name } : { kind: edge.kind, from: from.name, index: Number(edge.index) };
    return { scope: from.scope, onto };
  }

  // --- pointer gestures ---------------------------------------------------------------
  let drag = null;
  const ghost = h('div', { id: 'designer-ghost', class: 'designer-ghost', hidden: true });
  document.body.append(ghost);
  const line = () => {
    let l = graph.svg?.querySelector('line.designer-rubber');
    if (!l && graph.svg) {
      l = document.createElementNS(SVG, 'line');
      l.setAttribute('class', 'designer-rubber');
      graph.svg.append(l);
    }
    return l;
  };
  const svgPoint = (x, y) => {
    const p = graph.svg.createSVGPoint();
    p.x = x;
    p.y = y;
    return p.matrixTransform(graph.svg.getScreenCTM().inverse());
  };

  root.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    const item = e.target.closest('[data-palette]');
    const grip = e.target.closest('[data-handle]');
    const node = e.target.closest('g.node');
    if (item) drag = { kind: 'palette', item: item.dataset.palette, x: e.clientX, y: e.clientY, moved: false };
    else if (grip) {
      const start = svgPoint(e.clientX, e.clientY);
      drag = { kind: 'connect', from: grip.dataset.for, via: grip.dataset.handle, start, moved: false };
    } else if (node && node.dataset.kind !== 'start' && node.dataset.kind !== 'end') {
      drag = { kind: 'move', id: node.dataset.id, x: e.clientX, y: e.clientY, moved: false };
    } else return;
    e.preventDefault();
  });

  const onMove = (e) => {
    if (!drag) return;
    drag.moved = drag.moved || Math.hypot(e.clientX - (drag.x ?? e.clientX), e.clientY - (drag.y ?? e.clientY)) > 4 || drag.kind === 'connect';
    if (drag.kind === 'connect' && graph.svg) {
      const l = line();
      const p = svgPoint(e.clientX, e.clientY);
      for (const [k, v] of Object.entries({ x1: drag.start.x, y1: drag.start.y, x2: p.x, y2: p.y })) l.setAttribute(k, v);
    } else if (drag.moved) {
      ghost.hidden = false;
      ghost.textContent = drag.kind === 'palette' ? drag.item : m.placeOf(drag.id).name;
      ghost.style.left = `${e.clientX + 8}px`;
      ghost.style.top = `${e.clientY + 8}px`;
    }
    for (const el of canvasBox.querySelectorAll('.drop-here')) el.classList.remove('drop-here');
    const target = dropTarget(e.clientX, e.clientY);
    const el = document.elementFromPoint(e.clientX, e.clientY)?.closest('g.edge, g.node, g.lane');
    if (target && el) el.classList.add('drop-here');
  };
  const onUp = (e) => {
    editAt = performance.now();
    const was = drag;
    drag = null;
    ghost.hidden = true;
    graph.svg?.querySelector('line.designer-rubber')?.remove();
    for (const el of canvasBox.querySelectorAll('.drop-here')) el.classList.remove('drop-here');
    if (!was || !was.moved) return;
    const target = dropTarget(e.clientX, e.clientY);
    if (was.kind === 'palette') dropItem(was.item, target);
    else if (was.kind === 'connect') connectTo(was, target);
    else if (was.kind === 'move') moveTo(was.id, target);
  };
  window.addEventListener('pointermove', onMove);
  window.addEventListener('pointerup', onUp);
  signal.addEventListener('abort', () => {
    window.removeEventListener('pointermove', onMove);
    window.removeEventListener('pointerup', onUp);
    window.removeEventListener('keydown', onKey);
    ghost.remove();
  });

  function dropItem(id, target) {
    if (!target) return say('Drop the state on the canvas: on an edge to insert it there.', 'field-error');
    const item = paletteItems(region, account).get(id);
    const fresh = m.freshName(doc(), item.name);
    let scope = [];
    let onto = null;
    if (target.edge) ({ scope, onto } = ontoOf(target.edge));
    else if (target.scope) scope = target.scope;
    else if (target.node) {
      // On a state: it goes after it.
      const place = m.placeOf(target.node);
      scope = place.scope;
      const state = m.at(doc(), place.scope)?.States?.[place.name];
      onto = state?.Next !== undefined ? { kind: 'next', from: place.name } : { kind: 'end', from: place.name };
    }
    const state = structuredClone(item.state);
    if (!onto && !['Succeed', 'Fail', 'Choice'].includes(state.Type)) state.End = true;
    if (apply(() => m.addState(doc(), scope, fresh, state, onto))) selected = { scope, name: fresh };
  }

  function connectTo(was, target) {
    if (!target?.node) return say('Drop the connection on a state.', 'field-error');
    const from = m.placeOf(was.from);
    const to = m.placeOf(target.node);
    if (JSON.stringify(from.scope) !== JSON.stringify(to.scope)) {
      return say(`"${to.name}" is in another part of the workflow: a transition stays inside its branch or processor.`, 'field-error');
    }
    apply(() => m.connect(doc(), from.scope, from.name, to.name, was.via));
  }

  function moveTo(id, target) {
    const place = m.placeOf(id);
    if (!target?.edge) return;
    const { scope, onto } = ontoOf(target.edge);
    if (JSON.stringify(scope) !== JSON.stringify(place.scope)) {
      return say(`"${place.name}" can only move within its own branch or processor.`, 'field-error');
    }
    apply(() => m.moveState(doc(), scope, place.name, onto));
  }

  // --- keyboard -------------------------------------------------------------------------
  function onKey(e) {
    const typing = e.target.closest?.('input, textarea, select');
    const mod = e.ctrlKey || e.metaKey;
    if (mod && e.key.toLowerCase() === 'z' && !typing) (e.shiftKey ? redo : undo)();
    else if (mod && e.key.toLowerCase() === 'y' && !typing) redo();
    else if (mod && e.key.toLowerCase() === 'c' && !typing) copySelected();
    else if (mod && e.key.toLowerCase() === 'v' && !typing) paste();
    else if ((e.key === 'Delete' || e.key === 'Backspace') && !typing && selected) removeSelected();
    else if (e.key === 'F2' && selected) document.getElementById('state-name')?.focus();
    else if (e.key === 'Escape' && !typing && selected) {
      selected = null;
      showForm();
    } else if ((e.key === '+' || e.key === '=') && !typing && !mod) graph.setZoom((graph.zoom ?? graph.fitScale()) * 1.25);
    else if (e.key === '-' && !typing && !mod) graph.setZoom((graph.zoom ?? graph.fitScale()) / 1.25);
    else if (e.key === '0' && !typing && !mod) graph.setZoom(null);
    else return;
    e.preventDefault();
  }
  window.addEventListener('keydown', onKey);

  // Keyboard access to the palette: Enter on an item adds it after the selected state.
  palette.addEventListener('keydown', (e) => {
    const item = e.target.closest('[data-palette]');
    if (!item || e.key !== 'Enter') return;
    e.preventDefault();
    const target = selected ? { node: m.pointerOf(selected.scope, selected.name) } : { canvas: true };
    dropItem(item.dataset.palette, target);
  });

  // --- the JSON, two-way ------------------------------------------------------------------
  let typing = 0;
  json.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      let parsed;
      try {
        parsed = JSON.parse(json.value);
      } catch (e) {
        return say(`The JSON does not parse: ${e.message}`, 'field-error');
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return say('A definition is a JSON object.', 'field-error');
      history.push(parsed);
      say(null);
      redraw({ keepJson: true });
    }, 300);
  });
  type.addEventListener('change', () => redraw());
  name.addEventListener('input', () => localStorage.setItem(draftKey, JSON.stringify({ name: name.value, type: type.value, text: text() })));

  // --- save -----------------------------------------------------------------------------
  save.addEventListener('click', async () => {
    if (!name.value.trim()) return say('Give the state machine a name.', 'field-error');
    save.disabled = true;
    try {
      const definition = text();
      if (arn) {
        const versions = await aws('ListStateMachineVersions', { stateMachineArn: arn }, { signal });
        await aws('UpdateStateMachine', { stateMachineArn: arn, definition, publish: (versions.stateMachineVersions ?? []).length > 0 }, { signal });
        localStorage.removeItem(draftKey);
        navigate(link.machine(arn));
      } else {
        const created = await aws('CreateStateMachine', { name: name.value.trim(), definition, roleArn: ROLE_ARN.replace('000000000000', account), type: type.value }, { signal });
        localStorage.removeItem(draftKey);
        navigate(link.machine(created.stateMachineArn));
      }
    } catch (e) {
      report(e);
    } finally {
      save.disabled = false;
    }
  });

  /** The pickers' lists; each is best effort (an empty list only means no picker items). */
  async function loadResources() {
    const get = (path, key) => rest('GET', path, { signal }).then((r) => r[key] ?? []).catch(() => []);
    const [modules, tables, queues, topics, buckets, machines] = await Promise.all([
      get('/v1/modules', 'modules'), get('/v1/tables', 'tables'), get('/v1/queues', 'queues'),
      get('/v1/topics', 'topics'), get('/v1/buckets', 'buckets'),
      aws('ListStateMachines', {}, { signal }).then((r) => r.stateMachines ?? []).catch(() => []),
    ]);
    resources = { modules, tables, queues, topics, buckets, machines };
    showForm();
  }

  // --- load -----------------------------------------------------------------------------
  function start(textToLoad, { fromDraft = false } = {}) {
    let parsed = structuredClone(EMPTY);
    try {
      parsed = JSON.parse(textToLoad);
    } catch {
      say('The saved definition does not parse: edit it in the JSON editor first.', 'field-error');
    }
    original = fromDraft ? null : textToLoad;
    history = new m.History(parsed);
    if (m.reordersKeys(textToLoad)) say('A state or field named like a number is reordered when saved from the designer.', 'note');
    redraw();
  }

  const draft = JSON.parse(localStorage.getItem(draftKey) ?? 'null');
  (async () => {
    try {
      const listed = await rest('GET', '/v1/console/whoami', { signal }).catch(() => null);
      if (listed?.account) ({ account, region } = listed);
      fillPalette();
      loadResources();
      if (arn) {
        const machine = await aws('DescribeStateMachine', { stateMachineArn: arn }, { signal });
        name.value = machine.name;
        type.value = machine.type;
        name.disabled = type.disabled = true;
        if (draft?.text && draft.text !== machine.definition) {
          start(draft.text, { fromDraft: true });
          say('Your unsaved draft was restored.', 'note');
        } else start(machine.definition);
      } else if (draft) {
        name.value = draft.name ?? '';
        type.value = draft.type ?? 'STANDARD';
        start(draft.text, { fromDraft: true });
        if (draft.text !== `${JSON.stringify(EMPTY, null, 2)}\n`) say('Your unsaved draft was restored.', 'note');
      } else start(`${JSON.stringify(EMPTY, null, 2)}\n`, { fromDraft: true });
    } catch (e) {
      if (e?.name !== 'AbortError') report(e);
    }
  })();
}
