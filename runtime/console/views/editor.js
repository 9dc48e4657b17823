// The definition editor (#/editor, #/editor/<arn>): the ASL text, the server's diagnostics
// and the graph, both refreshed from one call while typing, and Save.
//
// The textarea is created once and never replaced, so typing never loses focus or scroll;
// only the diagnostics list and the graph are redrawn.

import { aws, layoutDefinition } from '../api.js';
import { report } from '../banner.js';
import { GraphView } from '../graph.js';
import { debounce, h, link, navigate } from '../ui.js';
import { showState, stateDetailPanel } from './state-detail.js';

const ROLE_ARN = 'arn:aws:iam::000000000000:role/sandstep-console';

const TEMPLATE = `{
  "Comment": "A new state machine",
  "StartAt": "Hello",
  "States": {
    "Hello": {
      "Type": "Pass",
      "Result": { "hello": "world" },
      "End": true
    }
  }
}
`;

export function editorView(root, arn, { signal }) {
  const name = h('input', { id: 'machine-name', placeholder: 'Name', required: true, autocomplete: 'off' });
  const type = h('select', { id: 'machine-type' }, h('option', { value: 'STANDARD' }, 'STANDARD'),
    h('option', { value: 'EXPRESS' }, 'EXPRESS'));
  const save = h('button', { id: 'save-machine', type: 'button', class: 'primary' }, arn ? 'Save changes' : 'Create');
  const problem = h('p', { class: 'field-error', hidden: true });
  const editor = h('textarea', { id: 'definition-editor', class: 'code', spellcheck: 'false', value: arn ? '' : TEMPLATE });
  const diagnostics = h('ul', { id: 'diagnostics' });
  const graphBox = h('section', { id: 'editor-graph', class: 'panel fixed' });
  const detail = stateDetailPanel();
  root.append(
    h('div', { class: 'page-head' }, h('h2', {}, arn ? 'Edit state machine' : 'New state machine'),
      h('div', { class: 'actions' }, h('a', { id: 'open-designer', class: 'button', href: link.designer(arn) }, 'Designer'),
        arn ? h('a', { class: 'button', href: link.machine(arn) }, 'Cancel') : null)),
    h('div', { class: 'grid-2 editor-grid' },
      h('section', { class: 'panel editor-panel' },
        h('div', { class: 'row' }, name, type, save), problem, editor, diagnostics),
      h('div', { class: 'stack' }, graphBox, detail)));

  const graph = new GraphView(graphBox, {
    onSelect: (node) => {
      showState(detail, node);
      if (node.state) revealKey(editor, node.name);
    },
  });
  graph.clear('Type a definition to see its graph.');

  // Answers can overtake each other; only the one for the latest text is drawn.
  let latest = 0;
  async function validate() {
    const mine = ++latest;
    try {
      const { diagnostics: found = [], graph: layout, notice } = await layoutDefinition(editor.value, type.value, { signal });
      if (mine !== latest) return;
      showDiagnostics(diagnostics, found, (location) => selectLocation(graph, detail, location));
      // No layout: keep the last drawing, dimmed, while the text is being fixed; but a
      // notice (the server will not draw this one) replaces it.
      graphBox.classList.toggle('stale', !layout && !notice);
      if (notice) graph.notice(notice);
      else if (layout) graph.draw(layout);
      if (layout) graph.flag(found);
    } catch (e) {
      report(e);
    }
  }
  editor.addEventListener('input', debounce(validate, 300));
  type.addEventListener('change', validate); // some rules differ for Express machines
  editor.addEventListener('keydown', (e) => {
    if (e.key !== 'Tab' || e.shiftKey) return; // a tab indents instead of leaving the editor
    e.preventDefault();
    editor.setRangeText('  ', editor.selectionStart, editor.selectionEnd, 'end');
    editor.dispatchEvent(new Event('input'));
  });

  save.addEventListener('click', async () => {
    problem.hidden = Boolean(name.value.trim());
    problem.textContent = 'Give the state machine a name.';
    if (!problem.hidden) return name.focus();
    save.disabled = true;
    try {
      if (arn) {
        await aws('UpdateStateMachine', { stateMachineArn: arn, definition: editor.value }, { signal });
        navigate(link.machine(arn));
      } else {
        const created = await aws('CreateStateMachine',
          { name: name.value.trim(), definition: editor.value, roleArn: ROLE_ARN, type: type.value }, { signal });
        navigate(link.machine(created.stateMachineArn));
      }
    } catch (e) {
      report(e);
    } finally {
      save.disabled = false;
    }
  });

  if (!arn) {
    validate();
    return;
  }
  // Renaming or retyping is not part of UpdateStateMachine, so both are shown, not editable.
  name.disabled = type.disabled = true;
  // Nothing to edit or save until the definition is here: text typed before would be
  // overwritten by it, and saving would replace the machine's definition with a blank.
  editor.disabled = save.disabled = true;
  editor.placeholder = 'Loading the definition…';
  aws('DescribeStateMachine', { stateMachineArn: arn }, { signal }).then((m) => {
    name.value = m.name;
    type.value = m.type;
    editor.value = readable(m.definition);
    editor.placeholder = '';
    editor.disabled = save.disabled = false;
    validate();
  }).catch((e) => {
    if (e?.name === 'AbortError') return;
    editor.placeholder = 'Could not load the definition: reload the page to try again.';
    graph.clear('Could not load this state machine.');
    report(e);
  });
}

/** Stored definitions are often one line; indent them, unless the author laid them out. */
function readable(definition) {
  if (definition.includes('\n')) return definition;
  try {
    return `${JSON.stringify(JSON.parse(definition), null, 2)}\n`;
  } catch {
    return definition;
  }
}

function showDiagnostics(list, found, onPick) {
  if (!found.length) {
    list.replaceChildren(h('li', { class: 'ok' }, 'Valid'));
    return;
  }
  list.replaceChildren(...found.map((d) => h('li', {
    class: `diagnostic ${d.severity === 'warning' ? 'warning' : 'error'}`,
    title: 'Show in the graph',
    onclick: () => onPick(d.location ?? ''),
  }, h('strong', {}, d.code ?? 'ERROR'), ' ', h('code', {}, d.location || '/'), ' ', d.message ?? '')));
}

/** A diagnostic's location is a JSON pointer; the node whose id is its longest prefix is the culprit. */
function selectLocation(graph, detail, location) {
  const nodes = graph.graph?.nodes ?? [];
  const owner = nodes.filter((n) => n.state && (location === n.id || location.startsWith(`${n.id}/`)))
    .sort((a, b) => b.id.length - a.id.length)[0];
  if (!owner) return;
  graph.select(owner.id);
  showState(detail, owner);
}

/** Selects a state's key in the text, so a click on the graph shows where to edit. */
function revealKey(editor, stateName) {
  const key = JSON.stringify(stateName);
  const pattern = new RegExp(`${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*:\\s*\\{`);
  const match = pattern.exec(editor.value);
  if (!match) return;
  editor.focus({ preventScroll: true });
  editor.setSelectionRange(match.index, match.index + key.length);
  // Scroll the selection into view: the line number times the line height.
  const line = editor.value.slice(0, match.index).split('\n').length - 1;
  const lineHeight = parseFloat(getComputedStyle(editor).lineHeight) || 18;
  editor.scrollTop = Math.max(0, line * lineHeight - editor.clientHeight / 3);
}
