// The designer's edits of a definition, as pure functions: each takes a definition (a
// parsed ASL document) and returns a new one, or throws `Refused` with the reason a user
// sees. Nothing here reads the page, so the edits are the same whether they come from a
// drag, a key or a form, and undo/redo is a stack of documents.
//
// A definition keeps what the designer does not know: fields are edited in place, new
// fields go after the existing ones, renamed states keep their position, and unknown
// fields are carried along. (JavaScript objects order integer-like keys first; a
// definition with a state named "1" is the one case where saving reorders: see
// `reordersKeys`.)
//
// Places: a scope is the path to an object holding `StartAt` and `States` ([] for the
// machine, ['States', 'P', 'Branches', 0] for a branch, ['States', 'M', 'ItemProcessor']
// for a Map's processor); a state is a scope and a name. The graph's node ids are JSON
// pointers to states (`/States/P/Branches/0/States/B`): `placeOf` turns one into a place.

/** An edit the definition's rules do not allow; `message` says why, for the user. */
export class Refused extends Error {
  constructor(message) {
    super(message);
    this.name = 'Refused';
  }
}

const TERMINAL = new Set(['Succeed', 'Fail']);
const CATCHES = new Set(['Task', 'Parallel', 'Map']);
const HAS_NEXT = new Set(['Task', 'Pass', 'Wait', 'Parallel', 'Map']);

const clone = (value) => structuredClone(value);

/** The object at `path` in `doc` (undefined when absent). */
export function at(doc, path) {
  return path.reduce((node, key) => (node == null ? undefined : node[key]), doc);
}

/** The state at a JSON pointer, as `{ scope, name }`. */
export function placeOf(pointer) {
  const parts = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  const name = String(parts.at(-1));
  return { scope: parts.slice(0, -2), name };
}

/** The JSON pointer of a state. */
export function pointerOf(scope, name) {
  return `/${[...scope, 'States', name].map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`;
}

function statesOf(doc, scope) {
  const holder = at(doc, scope);
  if (!holder || typeof holder !== 'object') throw new Refused('That place is not in the definition.');
  if (!holder.States || typeof holder.States !== 'object' || Array.isArray(holder.States)) holder.States = {};
  return holder;
}

function stateOf(doc, scope, name) {
  const state = statesOf(doc, scope).States[name];
  if (!state || typeof state !== 'object') throw new Refused(`There is no state named "${name}" here.`);
  return state;
}

/** Every state name in the definition, in every scope (ASL wants them unique). */
export function allNames(doc) {
  const names = new Set();
  const visit = (holder) => {
    for (const [name, state] of Object.entries(holder?.States ?? {})) {
      names.add(name);
      for (const inner of nestedOf(state)) visit(inner);
    }
  };
  visit(doc);
  return names;
}

/** A state's nested scopes (Parallel branches, a Map's processor), as objects. */
function nestedOf(state) {
  if (!state || typeof state !== 'object') return [];
  if (state.Type === 'Parallel') return Array.isArray(state.Branches) ? state.Branches : [];
  if (state.Type === 'Map') return [state.ItemProcessor ?? state.Iterator].filter(Boolean);
  return [];
}

/** A name like `base` that no state has yet: `Task`, `Task 2`, `Task 3`, ... */
export function freshName(doc, base) {
  const taken = allNames(doc);
  if (!taken.has(base)) return base;
  for (let i = 2; ; i += 1) if (!taken.has(`${base} ${i}`)) return `${base} ${i}`;
}

function checkName(doc, name) {
  if (typeof name !== 'string' || !name.trim()) throw new Refused('A state needs a name.');
  if (name.length > 80) throw new Refused('A state name has at most 80 characters.');
  if (allNames(doc).has(name)) throw new Refused(`A state named "${name}" already exists.`);
}

/** Sets `state[key]` keeping the key's place, or appending it. */
function setField(state, key, value) {
  state[key] = value;
}

/** Where a transition goes: `{ kind: 'next' | 'default' | 'choice' | 'catch' | 'start', index }`. */
function targetOf(holder, from, edge) {
  if (edge.kind === 'start') return holder.StartAt;
  const state = holder.States[from];
  if (edge.kind === 'next') return state.Next;
  if (edge.kind === 'default') return state.Default;
  if (edge.kind === 'choice') return state.Choices?.[edge.index]?.Next;
  if (edge.kind === 'catch') return state.Catch?.[edge.index]?.Next;
  throw new Refused(`A ${edge.kind} edge cannot take a state.`);
}

function retarget(holder, from, edge, to) {
  if (edge.kind === 'start') {
    holder.StartAt = to;
    return;
  }
  const state = holder.States[from];
  if (edge.kind === 'next') {
    setField(state, 'Next', to);
    delete state.End;
  } else if (edge.kind === 'default') setField(state, 'Default', to);
  else if (edge.kind === 'choice') state.Choices[edge.index].Next = to;
  else if (edge.kind === 'catch') state.Catch[edge.index].Next = to;
}

/**
 * Adds `state` named `name` to `scope`. With `onto` (an edge `{from, kind, index}`, or
 * `{kind: 'end', from}` for a state's end), the new state goes in between: the edge now
 * leads to it, and it leads where the edge led. The first state of an empty scope starts it.
 */
export function addState(doc, scope, name, state, onto = null) {
  const next = clone(doc);
  checkName(next, name);
  const holder = statesOf(next, scope);
  const added = clone(state);
  holder.States[name] = added;
  if (!holder.StartAt || !(holder.StartAt in holder.States)) {
    if (!onto) holder.StartAt = name;
  }
  if (onto) insertOnEdge(holder, name, added, onto);
  return next;
}

function insertOnEdge(holder, name, added, onto) {
  if (onto.kind === 'end') {
    const before = holder.States[onto.from];
    if (!before || !HAS_NEXT.has(before.Type)) throw new Refused(`"${onto.from}" cannot lead to another state.`);
    if (!TERMINAL.has(added.Type) && added.Type !== 'Choice') {
      delete added.Next;
      added.End = true;
    }
    setField(before, 'Next', name);
    delete before.End;
    return;
  }
  const target = targetOf(holder, onto.from, onto);
  if (target !== undefined) {
    if (TERMINAL.has(added.Type)) {
      throw new Refused(`A ${added.Type} state ends the workflow: it cannot go between "${onto.from ?? 'Start'}" and "${target}".`);
    }
    if (added.Type === 'Choice') setField(added, 'Default', target);
    else {
      delete added.End;
      setField(added, 'Next', target);
    }
  }
  retarget(holder, onto.from, onto, name);
}

/**
 * Connects `from` to `to` in one scope: `kind` 'next' sets Next (a Choice gets its
 * Default, or a new rule when it has one), 'default', 'choice' (a new rule to be filled in
 * the form), or 'catch' (a new catcher of States.ALL).
 */
export function connect(doc, scope, from, to, kind = 'next') {
  const next = clone(doc);
  const holder = statesOf(next, scope);
  const source = holder.States[from];
  if (!source) throw new Refused(`There is no state named "${from}" here.`);
  if (!(to in holder.States)) {
    throw new Refused(`"${to}" is in another part of the workflow: a transition stays inside its branch or processor.`);
  }
  if (TERMINAL.has(source.Type)) throw new Refused(`A ${source.Type} state ends the workflow: it cannot lead to "${to}".`);
  if (kind === 'catch') {
    if (!CATCHES.has(source.Type)) throw new Refused(`A ${source.Type} state cannot catch errors: only Task, Parallel and Map states can.`);
    source.Catch = [...(source.Catch ?? []), { ErrorEquals: ['States.ALL'], Next: to }];
    return next;
  }
  if (source.Type === 'Choice') {
    if (kind === 'next') kind = source.Default === undefined ? 'default' : 'choice';
    if (kind === 'default') setField(source, 'Default', to);
    else {
      const rule = source.QueryLanguage === 'JSONata' || next.QueryLanguage === 'JSONata'
        ? { Condition: '{% true %}', Next: to }
        : { Variable: '$', IsPresent: true, Next: to };
      source.Choices = [...(source.Choices ?? []), rule];
    }
    return next;
  }
  if (kind !== 'next') throw new Refused(`Only a Choice state has ${kind} transitions.`);
  setField(source, 'Next', to);
  delete source.End;
  return next;
}

/**
 * Removes a state. What led to it leads where it led (when it led to one state), else
 * ends: a Next becomes `End: true`, a rule or catcher naming it goes. A removed start is
 * replaced by what it led to.
 */
export function removeState(doc, scope, name) {
  const next = clone(doc);
  const holder = statesOf(next, scope);
  const gone = stateOf(next, scope, name);
  const onward = gone.Type === 'Choice' ? gone.Default : gone.Next;
  delete holder.States[name];
  const heir = onward !== undefined && onward !== name && onward in holder.States ? onward : undefined;
  for (const state of Object.values(holder.States)) {
    if (state.Next === name) {
      if (heir !== undefined) state.Next = heir;
      else {
        delete state.Next;
        state.End = true;
      }
    }
    if (state.Default === name) {
      if (heir !== undefined) state.Default = heir;
      else delete state.Default;
    }
    if (Array.isArray(state.Choices)) state.Choices = state.Choices.filter((r) => r.Next !== name);
    if (Array.isArray(state.Catch)) {
      state.Catch = state.Catch.filter((c) => c.Next !== name);
      if (!state.Catch.length) delete state.Catch;
    }
  }
  if (holder.StartAt === name) {
    holder.StartAt = heir ?? Object.keys(holder.States)[0];
    if (holder.StartAt === undefined) delete holder.StartAt;
  }
  return next;
}

/** Renames a state in place (its key keeps its position) and every reference to it. */
export function renameState(doc, scope, from, to) {
  if (from === to) return doc;
  const next = clone(doc);
  const holder = statesOf(next, scope);
  stateOf(next, scope, from);
  checkName(next, to);
  holder.States = Object.fromEntries(Object.entries(holder.States).map(([k, v]) => [k === from ? to : k, v]));
  if (holder.StartAt === from) holder.StartAt = to;
  for (const state of Object.values(holder.States)) {
    if (state.Next === from) state.Next = to;
    if (state.Default === from) state.Default = to;
    for (const r of state.Choices ?? []) if (r.Next === from) r.Next = to;
    for (const c of state.Catch ?? []) if (c.Next === from) c.Next = to;
  }
  return next;
}

/** Moves the item at `from` of a state's `Choices` or `Catch` to position `to`. */
export function reorder(doc, scope, name, field, from, to) {
  if (field !== 'Choices' && field !== 'Catch') throw new Refused(`${field} cannot be reordered.`);
  const next = clone(doc);
  const list = stateOf(next, scope, name)[field];
  if (!Array.isArray(list) || from < 0 || from >= list.length || to < 0 || to >= list.length) {
    throw new Refused(`There is no such ${field === 'Catch' ? 'catcher' : 'rule'}.`);
  }
  const [item] = list.splice(from, 1);
  list.splice(to, 0, item);
  return next;
}

/** Replaces a state's JSON (the form's edits), keeping its name and place. */
export function replaceState(doc, scope, name, state) {
  const next = clone(doc);
  stateOf(next, scope, name);
  statesOf(next, scope).States[name] = clone(state);
  return next;
}

/**
 * Moves a state onto an edge of its scope: it leaves where it was (as `removeState`
 * leaves the flow) and goes in between the edge's ends (as `addState` with `onto`).
 */
export function moveState(doc, scope, name, onto) {
  if (onto.from === name || (onto.kind !== 'end' && targetOf(statesOf(doc, scope), onto.from, onto) === name)) {
    return doc;
  }
  const state = clone(stateOf(doc, scope, name));
  delete state.Next;
  delete state.End;
  if (state.Type === 'Choice') delete state.Default;
  const without = removeState(doc, scope, name);
  return addState(without, scope, name, state, onto);
}

/**
 * The places `name` can move onto in its scope, as `{ label, onto }`: the start, and the
 * way out of each other state that has one (its Next, or its end). What `moveState` takes,
 * listed for the keyboard (the mouse drops onto the edges themselves).
 */
export function placesFor(doc, scope, name) {
  const holder = at(doc, scope);
  if (!holder?.States?.[name]) return [];
  const places = holder.StartAt === name ? [] : [{ label: 'To the start', onto: { kind: 'start' } }];
  for (const [other, state] of Object.entries(holder.States)) {
    if (other === name || !HAS_NEXT.has(state?.Type)) continue;
    if (typeof state.Next === 'string') {
      if (state.Next !== name) places.push({ label: `Between "${other}" and "${state.Next}"`, onto: { kind: 'next', from: other } });
    } else places.push({ label: `After "${other}"`, onto: { kind: 'end', from: other } });
  }
  return places;
}

/** A copy of a state for the clipboard: its JSON and name. */
export function copyState(doc, scope, name) {
  return { name, state: clone(stateOf(doc, scope, name)) };
}

/**
 * Pastes a copied state into `scope` under a fresh name, unconnected (it ends, unless it
 * is a Choice, Succeed or Fail); its old transitions are dropped, not guessed.
 */
export function pasteState(doc, scope, copied) {
  const name = freshName(doc, copied.name);
  const state = clone(copied.state);
  delete state.Next;
  delete state.Catch;
  if (state.Type === 'Choice') {
    delete state.Default;
    delete state.Choices;
  } else if (!TERMINAL.has(state.Type)) state.End = true;
  return { doc: addState(doc, scope, name, state), name };
}

/** Whether saving `text` through the designer would reorder a key (a state named "1"). */
export function reordersKeys(text) {
  return /"(0|[1-9]\d{0,9})"\s*:/.test(text);
}

/** Undo and redo over documents; `limit` steps back at most. */
export class History {
  constructor(doc, limit = 200) {
    this.past = [];
    this.future = [];
    this.doc = doc;
    this.limit = limit;
  }

  /** Records `doc` as the new present (an edit). */
  push(doc) {
    if (doc === this.doc) return;
    this.past.push(this.doc);
    if (this.past.length > this.limit) this.past.shift();
    this.future = [];
    this.doc = doc;
  }

  undo() {
    if (!this.past.length) return false;
    this.future.push(this.doc);
    this.doc = this.past.pop();
    return true;
  }

  redo() {
    if (!this.future.length) return false;
    this.past.push(this.doc);
    this.doc = this.future.pop();
    return true;
  }
}
