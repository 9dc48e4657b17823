// The designer's form for one state: every field of its type, in the query language the
// state uses (JSONPath fields, or JSONata's Arguments/Output/Assign), each edited as text
// (numbers and JSON parsed when the field is left). Unknown fields stay in the state and
// are listed, read only, so nothing the designer does not know is lost or hidden.

import { h } from '../ui.js';

// field kinds: text, number, json (any JSON value), bool, state (a state of the scope)
const COMMON_PATH = [['InputPath', 'text'], ['OutputPath', 'text']];
const RESULT_PATH = [['ResultPath', 'text'], ['ResultSelector', 'json']];
const DATA = { JSONPath: [['Parameters', 'json'], ...RESULT_PATH], JSONata: [['Arguments', 'json'], ['Output', 'json']] };
const TASK = [['Resource', 'text'], ['TimeoutSeconds', 'number'], ['TimeoutSecondsPath', 'text'],
  ['HeartbeatSeconds', 'number'], ['HeartbeatSecondsPath', 'text'], ['Credentials', 'json'], ['Retry', 'json']];

/** The fields of a state of `type` in `language`, in the order the form shows them. */
export function fieldsOf(type, language) {
  const jsonata = language === 'JSONata';
  const data = jsonata ? DATA.JSONata : DATA.JSONPath;
  const paths = jsonata ? [] : COMMON_PATH;
  const assign = [['Assign', 'json']];
  const flow = [['Next', 'state'], ['End', 'bool']];
  switch (type) {
    case 'Task': return [...TASK, ...paths, ...data, ...assign, ...flow];
    case 'Pass': return [...paths, ...(jsonata ? [['Output', 'json']] : [['Result', 'json'], ['Parameters', 'json'], ['ResultPath', 'text']]), ...assign, ...flow];
    case 'Wait': return [['Seconds', jsonata ? 'json' : 'number'], ['Timestamp', 'text'], ...(jsonata ? [] : [['SecondsPath', 'text'], ['TimestampPath', 'text']]), ...paths, ...(jsonata ? [['Output', 'json']] : []), ...assign, ...flow];
    case 'Choice': return [['Default', 'state'], ...paths, ...(jsonata ? [['Output', 'json']] : []), ...assign];
    case 'Parallel': return [...paths, ...data, ['Retry', 'json'], ...assign, ...flow];
    case 'Map': return [...(jsonata ? [['Items', 'json']] : [['ItemsPath', 'text']]), ['ItemSelector', 'json'], ['ItemReader', 'json'], ['ItemBatcher', 'json'],
      ['ResultWriter', 'json'], ['MaxConcurrency', 'number'], ['ToleratedFailurePercentage', 'number'], ['ToleratedFailureCount', 'number'],
      ['Label', 'text'], ...paths, ...(jsonata ? [['Output', 'json']] : RESULT_PATH), ['Retry', 'json'], ...assign, ...flow];
    case 'Succeed': return [...paths, ...(jsonata ? [['Output', 'json']] : [])];
    case 'Fail': return jsonata ? [['Error', 'text'], ['Cause', 'text']] : [['Error', 'text'], ['Cause', 'text'], ['ErrorPath', 'text'], ['CausePath', 'text']];
    default: return [];
  }
}

// Shown and edited elsewhere: the name, the type, the lists with their own controls, nested scopes.
const OWN = new Set(['Type', 'Comment', 'QueryLanguage', 'Choices', 'Catch', 'Branches', 'ItemProcessor', 'Iterator']);

const fieldId = (key) => `field-${key}`;

/**
 * What a Task's resource names, and where in its parameters: `[label, list key, field,
 * value of an item]`. The picker sets that parameter to one of the tenant's own.
 */
export function pickerFor(resource) {
  const r = resource ?? '';
  if (r === 'arn:aws:states:::lambda:invoke' || r.startsWith('arn:aws:states:::lambda:invoke.')) return ['Module', 'modules', 'FunctionName', (x) => x.name];
  if (r.startsWith('arn:aws:states:::dynamodb:')) return ['Table', 'tables', 'TableName', (x) => x.name];
  if (r.startsWith('arn:aws:states:::sqs:')) return ['Queue', 'queues', 'QueueUrl', (x) => x.url];
  if (r.startsWith('arn:aws:states:::sns:')) return ['Topic', 'topics', 'TopicArn', (x) => x.arn];
  if (r.startsWith('arn:aws:states:::s3:')) return ['Bucket', 'buckets', 'Bucket', (x) => x.name];
  if (r.startsWith('arn:aws:states:::states:startExecution')) return ['State machine', 'machines', 'StateMachineArn', (x) => x.stateMachineArn];
  return null;
}

/** A select of the tenant's resources that sets one parameter of a Task. */
function picker(state, resources, edit) {
  const found = pickerFor(state.Resource);
  if (!found) return null;
  const [label, list, key, valueOf] = found;
  const params = state.Parameters && typeof state.Parameters === 'object' ? state.Parameters : null;
  const current = params?.[key];
  const options = (resources[list] ?? []).map(valueOf).filter(Boolean);
  const select = h('select', { id: 'resource-picker', 'data-parameter': key },
    h('option', { value: '' }, options.length ? `Pick one of your ${list}` : `No ${list} yet`),
    ...options.map((v) => h('option', { value: v }, v)));
  if (options.includes(current)) select.value = current;
  select.addEventListener('change', () => {
    if (!select.value) return;
    edit('Parameters', { ...(params ?? {}), [key]: select.value });
  });
  return h('label', {}, `${label} (Parameters.${key})`, select);
}

/**
 * The form for `state` named `name`. `others` are the names a transition may take;
 * `flags` maps a field to the diagnostics on it; `change(state)` gets every edit, `rename(to)`
 * the new name, `move(field, from, to)` a reordered rule or catcher. `places` are the edges
 * the state can move onto (`{ label, onto }`), `connect(to, via)` and `moveOnto(onto)` do
 * what the canvas's handles and drags do, so every gesture has a keyboard way too.
 */
export function stateForm({ name, state, language, others, flags, resources = {}, places = [], fresh, change, rename, move, connect, moveOnto }) {
  const form = h('form', { id: 'state-form', class: 'state-form', onsubmit: (e) => e.preventDefault() });
  const nameInput = h('input', { id: 'state-name', value: name, 'aria-label': 'State name', autocomplete: 'off' });
  const commit = () => nameInput.value !== name && rename(nameInput.value);
  nameInput.addEventListener('change', commit);
  nameInput.addEventListener('keydown', (e) => e.key === 'Enter' && (e.preventDefault(), commit()));
  form.append(h('label', {}, 'Name', nameInput), h('p', { class: 'small muted' }, `${state.Type} state`));
  const edit = (key, value) => {
    const next = { ...state };
    if (value === undefined) delete next[key]; else next[key] = value;
    change(next);
  };
  form.append(field('Comment', 'text', state.Comment, edit, others, flags));
  form.append(languageField(state, edit));
  if (state.Type === 'Task') form.append(picker(state, resources, edit) ?? '');
  for (const [key, kind] of fieldsOf(state.Type, language)) form.append(field(key, kind, state[key], edit, others, flags));
  if (state.Type === 'Choice') form.append(listField('Choices', 'rule', state.Choices ?? [], edit, move, flags));
  if (state.Type === 'Parallel') {
    const branches = Array.isArray(state.Branches) ? state.Branches : [];
    form.append(h('p', {}, h('button', {
      type: 'button', id: 'add-branch',
      onclick: () => {
        const start = fresh(`Branch ${branches.length + 1} start`);
        edit('Branches', [...branches, { StartAt: start, States: { [start]: { Type: 'Pass', End: true } } }]);
      },
    }, 'Add branch'), ` ${branches.length} branch${branches.length === 1 ? '' : 'es'}`));
  }
  if (['Task', 'Parallel', 'Map'].includes(state.Type)) form.append(listField('Catch', 'catcher', state.Catch ?? [], edit, move, flags));
  form.append(connections(name, state, others, places, connect, moveOnto));
  const known = new Set([...OWN, ...fieldsOf(state.Type, language).map(([k]) => k)]);
  const unknown = Object.keys(state).filter((k) => !known.has(k));
  if (unknown.length) {
    form.append(h('p', { class: 'small muted', id: 'unknown-fields' },
      `Kept as written (edit them in the JSON): ${unknown.join(', ')}`));
  }
  return form;
}

function languageField(state, edit) {
  const select = h('select', { id: fieldId('QueryLanguage') },
    h('option', { value: '' }, 'As the machine'), h('option', { value: 'JSONPath' }, 'JSONPath'), h('option', { value: 'JSONata' }, 'JSONata'));
  select.value = state.QueryLanguage ?? '';
  select.addEventListener('change', () => edit('QueryLanguage', select.value || undefined));
  return h('label', {}, 'QueryLanguage', select);
}

function flagged(label, key, flags) {
  const found = flags.get(key) ?? [];
  return found.length
    ? [label, h('span', { class: 'field-error', 'data-field-error': key }, found.map((d) => d.message).join(' '))]
    : [label];
}

function field(key, kind, value, edit, others, flags) {
  let input;
  if (kind === 'bool') {
    input = h('input', { type: 'checkbox', id: fieldId(key), checked: value === true });
    input.addEventListener('change', () => edit(key, input.checked ? true : undefined));
  } else if (kind === 'state') {
    input = h('select', { id: fieldId(key) }, h('option', { value: '' }, '—'), ...others.map((n) => h('option', { value: n }, n)));
    input.value = typeof value === 'string' ? value : '';
    input.addEventListener('change', () => edit(key, input.value || undefined));
  } else {
    const text = value === undefined ? '' : kind === 'json' ? JSON.stringify(value, null, 2) : String(value);
    input = kind === 'json'
      ? h('textarea', { id: fieldId(key), class: 'code', rows: Math.min(8, text.split('\n').length + 1), spellcheck: 'false', value: text })
      : h('input', { id: fieldId(key), value: text, autocomplete: 'off', inputmode: kind === 'number' ? 'numeric' : null });
    input.addEventListener('change', () => {
      const raw = input.value;
      if (!raw.trim()) return edit(key, undefined);
      if (kind === 'number' && Number.isFinite(Number(raw))) return edit(key, Number(raw));
      if (kind === 'json') {
        try {
          return edit(key, JSON.parse(raw));
        } catch {
          // A JSONata string or a path typed without quotes: kept as the text it is.
          return edit(key, raw);
        }
      }
      return edit(key, raw);
    });
  }
  const error = (flags.get(key) ?? []).length > 0;
  if (error) input.setAttribute('aria-invalid', 'true');
  return h('label', { class: error ? 'invalid' : null }, ...flagged(key, key, flags), input);
}

/**
 * The handles' and the move gesture's keyboard twins: connect this state to another (Next,
 * a Choice's Default or a new rule, a catcher) and move it onto another place of its scope.
 */
function connections(name, state, others, places, connect, moveOnto) {
  const box = h('fieldset', { id: 'state-connections', class: 'list-field' }, h('legend', {}, 'Connect and move'));
  const terminal = state.Type === 'Succeed' || state.Type === 'Fail';
  if (!terminal) {
    const targets = others.filter((n) => n !== name);
    const to = h('select', { id: 'connect-to', 'aria-label': 'Connect to' },
      h('option', { value: '' }, targets.length ? 'Connect to…' : 'No other state here'), ...targets.map((n) => h('option', { value: n }, n)));
    const via = (kind) => () => to.value && connect(to.value, kind);
    const next = state.Type !== 'Choice' ? 'As Next' : state.Default === undefined ? 'As Default' : 'As a new rule';
    box.append(h('div', { class: 'row' }, to,
      h('button', { type: 'button', id: 'connect-next', onclick: via('next') }, next),
      ['Task', 'Parallel', 'Map'].includes(state.Type) ? h('button', { type: 'button', id: 'connect-catch', onclick: via('catch') }, 'As a catcher') : ''));
  }
  const onto = h('select', { id: 'move-onto', 'aria-label': 'Move onto' },
    h('option', { value: '' }, places.length ? 'Move to…' : 'Nowhere to move'), ...places.map((p, i) => h('option', { value: String(i) }, p.label)));
  box.append(h('div', { class: 'row' }, onto,
    h('button', { type: 'button', id: 'move-state', onclick: () => onto.value !== '' && moveOnto(places[Number(onto.value)].onto) }, 'Move')));
  return box;
}

/**
 * Choice rules or catchers: each as JSON, reordered by dragging its grip onto another item's
 * place (or with its ↑/↓ buttons, from the keyboard).
 */
function listField(key, noun, items, edit, move, flags) {
  const box = h('fieldset', { id: fieldId(key), class: 'list-field' }, h('legend', {}, ...flagged(key, key, flags)));
  if (!items.length) box.append(h('p', { class: 'small muted' }, `No ${noun}s: drag from the state's ${noun === 'rule' ? '' : 'catch '}handle to add one.`));
  items.forEach((item, i) => {
    const text = h('textarea', { class: 'code', rows: 3, spellcheck: 'false', 'data-item': i, value: JSON.stringify(item) });
    text.addEventListener('change', () => {
      try {
        const list = items.slice();
        list[i] = JSON.parse(text.value);
        edit(key, list);
      } catch {
        text.setCustomValidity(`Not JSON: fix the ${noun} or undo.`);
        text.reportValidity();
      }
    });
    const grip = h('span', { class: 'grip', title: `Drag to reorder this ${noun}`, 'data-grip': i }, '⠿');
    grip.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      e.preventDefault();
      e.stopPropagation();
      const drop = (up) => {
        window.removeEventListener('pointerup', drop);
        const over = document.elementFromPoint(up.clientX, up.clientY)?.closest('.list-item');
        if (!over || !box.contains(over)) return;
        const to = Number(over.dataset.item);
        if (to !== i) move(key, i, to);
      };
      window.addEventListener('pointerup', drop);
    });
    box.append(h('div', { class: 'list-item', 'data-item': i }, grip, text,
      h('button', { type: 'button', class: 'move-up', title: `Move this ${noun} up`, disabled: i === 0, onclick: () => move(key, i, i - 1) }, '↑'),
      h('button', { type: 'button', class: 'move-down', title: `Move this ${noun} down`, disabled: i === items.length - 1, onclick: () => move(key, i, i + 1) }, '↓'),
      h('button', { type: 'button', class: 'remove-item', title: `Remove this ${noun}`, onclick: () => { const rest = items.filter((_, j) => j !== i); edit(key, rest.length ? rest : undefined); } }, '×')));
  });
  return box;
}
