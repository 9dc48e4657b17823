// The tenant's data (#/data): its DynamoDB tables, S3 buckets, SQS queues and SNS topics, a
// panel each, and a page per resource to look inside and change it: a table's items
// (#/data/table/{name}: page through, edit as JSON, delete), a bucket's objects
// (#/data/bucket/{name}: filter, download, upload, delete), a queue's messages
// (#/data/queue/{name}: peek, send, purge) and a topic (#/data/topic/{name}: its
// subscriptions, publish).

import { ApiError, rest } from '../api.js';
import { currentKey } from '../auth.js';
import { report } from '../banner.js';
import { debounce, fmtBytes, fmtSeconds, h, parseJsonInput, pretty, prettyText } from '../ui.js';

const ITEMS_PAGE = 50; // items per "More"
const PEEK = 10; // messages a peek shows
const CELL = 120; // characters of an attribute shown in its cell; the title has them all

// A Map, not an object: `#/data/constructor/x` must not find Object's own properties.
const PAGES = new Map([
  ['table', tablePage],
  ['bucket', bucketPage],
  ['queue', queuePage],
  ['topic', topicPage],
]);

export function dataView(root, param, options) {
  // The router hands over everything after `#/data/`, decoded: `queue/orders`. Names have
  // no '/', object keys never reach the hash, so the first '/' splits kind from name.
  const slash = param ? param.indexOf('/') : -1;
  const page = slash > 0 ? PAGES.get(param.slice(0, slash)) : undefined;
  const name = slash > 0 ? param.slice(slash + 1) : '';
  // A kind this view does not know shows the overview, as an unknown section shows the machines.
  return page && name ? page(root, name, options) : overview(root, options);
}

const pageLink = (kind, name) => `#/data/${kind}/${encodeURIComponent(name)}`;
const back = () => h('p', {}, h('a', { href: '#/data' }, '← Data'));

function say(el, text, isError) {
  el.textContent = text;
  el.hidden = !text;
  el.className = isError ? 'field-error' : 'field-ok';
}

/** `sku (partition), at (sort)`. */
const keyText = (keySchema) => (keySchema ?? [])
  .map((k) => `${k.attributeName} (${k.keyType === 'RANGE' ? 'sort' : 'partition'})`).join(', ');

const nameCell = (kind, name) => h('td', {}, h('a', { href: pageLink(kind, name) }, name));

/** A table of headings and rows; `id` is what tests and the page's own code find it by. */
const dataTable = (id, columns, tbody) => h('div', { class: 'table-wrap' }, h('table', { id, class: 'table' },
  h('thead', {}, h('tr', {}, columns.map((c) => h('th', {}, c)))), tbody));

const PANELS = [
  {
    title: 'Tables', id: 'data-tables', path: '/v1/tables', field: 'tables', columns: ['Name', 'Key', 'Items'],
    empty: 'No tables yet: aws dynamodb create-table makes one.',
    row: (t) => h('tr', { 'data-name': t.name }, nameCell('table', t.name),
      h('td', {}, keyText(t.keySchema)), h('td', { class: 'num' }, String(t.itemCount ?? '—'))),
  },
  {
    title: 'Buckets', id: 'data-buckets', path: '/v1/buckets', field: 'buckets', columns: ['Name', 'Created'],
    empty: 'No buckets yet: aws s3 mb makes one.',
    row: (b) => h('tr', { 'data-name': b.name }, nameCell('bucket', b.name),
      h('td', { class: 'nowrap' }, fmtSeconds(b.created))),
  },
  {
    title: 'Queues', id: 'data-queues', path: '/v1/queues', field: 'queues',
    columns: ['Name', 'Type', 'Visible', 'In flight', 'Delayed'],
    empty: 'No queues yet: aws sqs create-queue makes one.',
    row: (q) => h('tr', { 'data-name': q.name }, nameCell('queue', q.name),
      h('td', {}, q.fifo ? 'FIFO' : 'Standard'), h('td', { class: 'num' }, String(q.visible)),
      h('td', { class: 'num' }, String(q.inFlight)), h('td', { class: 'num' }, String(q.delayed))),
  },
  {
    title: 'Topics', id: 'data-topics', path: '/v1/topics', field: 'topics', columns: ['Name', 'Subscriptions', 'ARN'],
    empty: 'No topics yet: aws sns create-topic makes one.',
    row: (t) => h('tr', { 'data-name': t.name }, nameCell('topic', t.name),
      h('td', { class: 'num' }, String(t.subscriptions)), h('td', { class: 'mono small' }, t.arn)),
  },
];

function overview(root, { signal }) {
  root.append(h('div', { class: 'data-grid' }, PANELS.map((p) => resourcePanel(p, signal))), rolesPanel(signal));
}

/**
 * The tenant's roles: what a state machine whose `roleArn` names one may touch through its
 * DynamoDB, S3, SQS and SNS tasks. Saving a name that exists replaces its grants.
 */
function rolesPanel(signal) {
  const tbody = h('tbody');
  const note = h('p', { class: 'muted' }, 'Loading…');
  const name = h('input', { id: 'role-name', placeholder: 'OrderProcessing', autocomplete: 'off' });
  const grants = h('input', { id: 'role-grants', placeholder: 'kv:inventory,queue:shipments:write,topic:*', autocomplete: 'off' });
  const save = h('button', { id: 'role-save', type: 'button', class: 'primary' }, 'Save role');
  const message = h('p', { class: 'field-error', hidden: true });

  async function load() {
    try {
      const { roles = [] } = await rest('GET', '/v1/roles', { signal });
      tbody.replaceChildren(...roles.map((r) => {
        const remove = h('button', { type: 'button', class: 'role-delete' }, 'Delete');
        remove.addEventListener('click', async () => {
          if (!window.confirm(`Delete role ${r.name}?`)) return;
          try {
            await rest('DELETE', `/v1/roles/${encodeURIComponent(r.name)}`, { signal });
            await load();
          } catch (e) {
            report(e);
          }
        });
        return h('tr', { 'data-name': r.name }, h('td', {}, r.name),
          h('td', {}, r.grants.length ? r.grants.join(', ') : 'nothing'),
          h('td', { class: 'mono small' }, r.roleArn), h('td', {}, remove));
      }));
      note.textContent = roles.length ? ''
        : 'No roles: state machines may touch the whole tenant. A role named "default" limits those whose role is not defined.';
    } catch (e) {
      note.textContent = 'Could not load the roles.';
      report(e);
    }
  }

  save.addEventListener('click', async () => {
    const problem = name.value.trim() ? '' : 'Give the role a name.';
    say(message, problem, true);
    if (problem) return;
    save.disabled = true;
    try {
      const role = await rest('PUT', `/v1/roles/${encodeURIComponent(name.value.trim())}`, {
        body: JSON.stringify({ grants: grants.value.split(',').map((g) => g.trim()).filter(Boolean) }),
        signal,
      });
      say(message, `Saved ${role.roleArn}.`, false);
      await load();
    } catch (e) {
      report(e);
    } finally {
      save.disabled = false;
    }
  });

  load();
  return h('section', { class: 'panel' }, h('h2', {}, 'Roles'),
    h('p', { class: 'muted small' }, 'Grants use the grammar of module grants: kind:name[:read|:write], * for every one of a kind.'),
    dataTable('data-roles', ['Name', 'Grants', 'Role ARN', ''], tbody), note,
    h('div', { class: 'form-grid' }, h('label', {}, 'Name', name), h('label', {}, 'Grants', grants)),
    h('div', { class: 'row' }, save), message);
}

/** One panel of the overview. Each loads on its own, so one service failing leaves the rest readable. */
function resourcePanel({ title, id, path, field, columns, empty, row }, signal) {
  const tbody = h('tbody');
  const note = h('p', { class: 'muted' }, 'Loading…');
  rest('GET', path, { signal }).then((answer) => {
    const list = answer[field] ?? [];
    tbody.replaceChildren(...list.map(row));
    note.textContent = list.length ? '' : empty;
  }).catch((e) => {
    note.textContent = `Could not load the ${title.toLowerCase()}.`;
    report(e);
  });
  return h('section', { class: 'panel' }, h('h2', {}, title), dataTable(id, columns, tbody), note);
}

// ---- A table's items -------------------------------------------------------------------

function tablePage(root, table, { signal }) {
  const path = `/v1/tables/${encodeURIComponent(table)}/items`;
  const summary = h('p', { class: 'muted' }, 'Loading…');
  const head = h('tr');
  const tbody = h('tbody');
  const note = h('p', { class: 'muted' });
  const more = h('button', { id: 'items-more', type: 'button', hidden: true }, 'More');
  const editor = h('textarea', { id: 'item-json', class: 'code', rows: 10, spellcheck: 'false' });
  const save = h('button', { id: 'item-save', type: 'button', class: 'primary' }, 'Save item');
  const message = h('p', { id: 'item-message', class: 'field-ok', hidden: true });
  root.append(
    h('section', { class: 'panel' }, back(), h('h2', {}, table), summary,
      h('div', { class: 'table-wrap' }, h('table', { id: 'table-items', class: 'table' }, h('thead', {}, head), tbody)),
      note, h('div', { class: 'row' }, more)),
    h('section', { class: 'panel' }, h('h3', {}, 'Item'),
      h('p', { class: 'muted small' }, 'The whole item as plain JSON, its key attributes included: saving ',
        'writes it over the item with the same key, or adds it. Strings, numbers, booleans, null, lists and ',
        'maps keep their types; sets are shown as lists and binary values as base64 text, and are saved so.'),
      editor, h('div', { class: 'row' }, save), message));

  let keys = []; // the key attribute names, in the table's key schema order
  let items = []; // every page loaded so far
  let next = null;

  const keyOf = (item) => Object.fromEntries(keys.map((k) => [k, item[k]]));
  const sameKey = (a, b) => JSON.stringify(keyOf(a)) === JSON.stringify(keyOf(b));

  async function describe() {
    const { tables = [] } = await rest('GET', '/v1/tables', { signal });
    const found = tables.find((t) => t.name === table);
    if (!found) throw new ApiError('ResourceNotFoundException', `There is no table named ${table}.`, 400);
    keys = (found.keySchema ?? []).map((k) => k.attributeName);
    summary.textContent = `${found.itemCount ?? '—'} items · key: ${keyText(found.keySchema)}`;
    editor.placeholder = pretty(Object.fromEntries(keys.map((k) => [k, '…'])));
  }

  async function loadPage(token) {
    const query = `?limit=${ITEMS_PAGE}${token ? `&next=${encodeURIComponent(token)}` : ''}`;
    const page = await rest('GET', `${path}${query}`, { signal });
    items = token ? [...items, ...(page.items ?? [])] : (page.items ?? []);
    next = page.next ?? null;
    draw();
  }

  function draw() {
    const columns = columnsOf(items, keys);
    head.replaceChildren(...columns.map((c) => h('th', {}, c)), h('th', {}));
    tbody.replaceChildren(...items.map((item) => h('tr', { 'data-key': JSON.stringify(keyOf(item)) },
      columns.map((c) => valueCell(item, c)),
      h('td', { class: 'nowrap' },
        h('button', { type: 'button', class: 'item-edit', onclick: () => edit(item) }, 'Edit'), ' ',
        h('button', { type: 'button', class: 'item-delete danger', onclick: (e) => remove(item, e.currentTarget) },
          'Delete')))));
    note.textContent = items.length ? '' : 'No items yet: write one below.';
    more.hidden = !next;
  }

  function edit(item) {
    editor.value = pretty(item);
    say(message, '', false);
    editor.scrollIntoView({ block: 'center' });
    editor.focus();
  }

  async function remove(item, button) {
    const key = keyOf(item);
    if (!confirm(`Delete the item ${JSON.stringify(key)} from ${table}?`)) return;
    button.disabled = true;
    try {
      // `deleted: false` means someone else deleted it first: either way the row goes.
      await rest('DELETE', `${path}?key=${encodeURIComponent(JSON.stringify(key))}`, { signal });
      items = items.filter((i) => !sameKey(i, item));
      draw();
      await describe();
    } catch (e) {
      button.disabled = false;
      report(e);
    }
  }

  save.addEventListener('click', async () => {
    const { value, error } = parseJsonInput(editor.value);
    const isObject = value !== null && typeof value === 'object' && !Array.isArray(value);
    const missing = isObject ? keys.filter((k) => !Object.hasOwn(value, k)) : [];
    const problem = error ?? (!isObject ? 'An item is a JSON object of attributes.'
      : missing.length ? `The item needs its key attributes: ${missing.join(', ')}.` : '');
    say(message, problem, true);
    if (problem) return;
    save.disabled = true;
    try {
      const { item = value } = await rest('PUT', path, { body: JSON.stringify(value), signal });
      // The saved item replaces its row in place, or leads the list when it is new, so the
      // pages loaded so far (and the user's place in them) stay.
      const at = items.findIndex((i) => sameKey(i, item));
      if (at >= 0) items[at] = item;
      else items.unshift(item);
      draw();
      say(message, `Saved the item ${JSON.stringify(keyOf(item))}.`, false);
      await describe();
    } catch (e) {
      report(e);
    } finally {
      save.disabled = false;
    }
  });

  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      await loadPage(next);
    } catch (e) {
      report(e);
    } finally {
      more.disabled = false;
    }
  });

  (async () => {
    await describe();
    await loadPage(null);
  })().catch((e) => {
    summary.textContent = 'Could not load this table.';
    report(e);
  });
}

/** The key attributes first, then every other attribute in the order the items show them. */
function columnsOf(items, keys) {
  const columns = new Set(keys);
  for (const item of items) for (const name of Object.keys(item)) columns.add(name);
  return [...columns];
}

function valueCell(item, name) {
  if (!Object.hasOwn(item, name)) return h('td', {});
  const value = item[name];
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const long = text.length > CELL;
  return h('td', { title: long ? text : null }, long ? `${text.slice(0, CELL)}…` : text);
}

// ---- A bucket's objects ----------------------------------------------------------------

/** The object's URL: each segment of the key encoded, its '/'s kept. */
const objectPath = (bucket, key) =>
  `/v1/buckets/${encodeURIComponent(bucket)}/objects/${key.split('/').map(encodeURIComponent).join('/')}`;

const baseName = (key) => key.split('/').pop() || key;

function bucketPage(root, bucket, { signal }) {
  const prefix = h('input', { id: 'object-prefix', placeholder: 'reports/2024/', autocomplete: 'off' });
  const tbody = h('tbody');
  const note = h('p', { class: 'muted' }, 'Loading…');
  const file = h('input', { id: 'object-file', type: 'file' });
  const key = h('input', { id: 'object-key', placeholder: 'reports/daily.txt', autocomplete: 'off' });
  const upload = h('button', { id: 'object-upload', type: 'button', class: 'primary' }, 'Upload');
  const message = h('p', { id: 'object-message', class: 'field-error', hidden: true });
  root.append(
    h('section', { class: 'panel' }, back(), h('h2', {}, bucket),
      h('div', { class: 'form-grid' }, h('label', {}, 'Key prefix', prefix)),
      dataTable('bucket-objects', ['Key', 'Size', 'Modified', 'Content type', ''], tbody), note,
      h('p', { class: 'muted small' }, 'A key is a plain link, which carries no API key; ',
        'on a server that asks for one, use Download.')),
    h('section', { class: 'panel' }, h('h3', {}, 'Upload an object'),
      h('div', { class: 'form-grid' }, h('label', {}, 'File', file), h('label', {}, 'Key', key)),
      h('div', { class: 'row' }, upload), message));

  let asked = 0; // the latest listing asked for: typing fast, an older answer may come last

  async function load() {
    const mine = ++asked;
    try {
      const query = `?prefix=${encodeURIComponent(prefix.value)}`;
      const listing = await rest('GET', `/v1/buckets/${encodeURIComponent(bucket)}/objects${query}`, { signal });
      if (mine !== asked) return;
      const objects = listing.objects ?? [];
      tbody.replaceChildren(...objects.map(objectRow));
      note.textContent = objects.length
        ? (listing.truncated ? `The first ${objects.length} objects: a longer prefix narrows the list.` : '')
        : prefix.value ? 'No objects under this prefix.' : 'No objects yet.';
    } catch (e) {
      if (mine !== asked) return;
      note.textContent = 'Could not load the objects.';
      report(e);
    }
  }

  function objectRow(o) {
    const path = objectPath(bucket, o.key);
    const fetchIt = h('button', { type: 'button', class: 'object-download' }, 'Download');
    const drop = h('button', { type: 'button', class: 'object-delete danger' }, 'Delete');
    fetchIt.addEventListener('click', async () => {
      fetchIt.disabled = true;
      try {
        await download(path, baseName(o.key), signal);
      } catch (e) {
        report(e);
      } finally {
        fetchIt.disabled = false;
      }
    });
    drop.addEventListener('click', async () => {
      if (!confirm(`Delete ${o.key} from ${bucket}?`)) return;
      drop.disabled = true;
      try {
        await rest('DELETE', path, { signal });
        await load();
      } catch (e) {
        drop.disabled = false;
        report(e);
      }
    });
    return h('tr', { 'data-key': o.key },
      h('td', { class: 'mono' }, h('a', { href: path, download: baseName(o.key) }, o.key)),
      h('td', { class: 'num', title: `${o.size} bytes` }, fmtBytes(o.size)),
      h('td', { class: 'nowrap' }, fmtSeconds(o.modified)),
      h('td', {}, o.contentType ?? '—'),
      h('td', { class: 'nowrap' }, fetchIt, ' ', drop));
  }

  prefix.addEventListener('input', debounce(load, 250));

  file.addEventListener('change', () => {
    const chosen = file.files?.[0];
    if (chosen && !key.value) key.value = `${prefix.value}${chosen.name}`;
  });

  upload.addEventListener('click', async () => {
    const chosen = file.files?.[0];
    // Keys are taken as typed: S3 allows spaces at either end.
    const problem = !chosen ? 'Choose a file.' : !key.value ? 'Give the object a key.' : '';
    say(message, problem, true);
    if (problem) return;
    upload.disabled = true;
    try {
      // The File itself is the body: the browser streams it instead of reading it all first.
      const put = await rest('PUT', objectPath(bucket, key.value),
        { body: chosen, type: chosen.type || 'application/octet-stream', signal });
      say(message, `Uploaded ${put.key} (${fmtBytes(put.size)}).`, false);
      file.value = '';
      key.value = '';
      await load();
    } catch (e) {
      report(e);
    } finally {
      upload.disabled = false;
    }
  });

  load();
}

/**
 * Saves the object at `path` with the API key in its header, which a plain link cannot
 * carry. The bytes are held in memory until saved; the plain link streams them to disk.
 */
async function download(path, filename, signal) {
  const key = currentKey();
  let res;
  try {
    res = await fetch(path, { headers: key ? { Authorization: `Bearer ${key}` } : {}, signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError('NetworkError', `cannot reach the server (${e.message})`, 0);
  }
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    const type = String(body.__type ?? `HTTP${res.status}`).split('#').pop();
    throw new ApiError(type, body.message ?? res.statusText, res.status);
  }
  const url = URL.createObjectURL(await res.blob());
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ---- A queue's messages ----------------------------------------------------------------

function queuePage(root, queue, { signal }) {
  const path = `/v1/queues/${encodeURIComponent(queue)}/messages`;
  const title = h('h2', {}, queue);
  const counts = h('p', { id: 'queue-counts', class: 'muted' }, 'Loading…');
  const peek = h('button', { id: 'queue-peek', type: 'button' }, 'Peek');
  const purge = h('button', { id: 'queue-purge', type: 'button', class: 'danger' }, 'Purge');
  const tbody = h('tbody');
  const note = h('p', { class: 'muted' });
  const body = h('textarea', { id: 'queue-body', class: 'code', rows: 5, spellcheck: 'false' });
  const send = h('button', { id: 'queue-send', type: 'button', class: 'primary' }, 'Send');
  const message = h('p', { id: 'queue-sent', class: 'field-ok', hidden: true });
  root.append(
    h('section', { class: 'panel' }, back(),
      h('div', { class: 'panel-head' }, title, h('div', { class: 'actions' }, peek, purge)), counts,
      h('p', { class: 'muted small' }, `The next ${PEEK} messages. Peeking receives nothing: `,
        'no receive count goes up, no message is hidden from consumers.'),
      dataTable('queue-messages', ['Id', 'Body', 'Receives', 'Sent', 'Visible from', 'Attributes'], tbody), note),
    h('section', { class: 'panel' }, h('h3', {}, 'Send a message'), body,
      h('div', { class: 'row' }, send), message));

  async function load() {
    try {
      const [{ queues = [] }, { messages = [] }] = await Promise.all([
        rest('GET', '/v1/queues', { signal }),
        rest('GET', `${path}?limit=${PEEK}`, { signal }),
      ]);
      const q = queues.find((x) => x.name === queue);
      title.replaceChildren(queue, ' ', h('span', { class: 'kind' }, q?.fifo ? 'FIFO' : 'Standard'));
      counts.textContent = q ? `${q.visible} visible · ${q.inFlight} in flight · ${q.delayed} delayed` : '';
      tbody.replaceChildren(...messages.map(messageRow));
      note.textContent = messages.length ? '' : 'No messages waiting.';
    } catch (e) {
      counts.textContent = 'Could not load this queue.';
      report(e);
    }
  }

  /** Runs `work` (when given) with `button` disabled, then shows the queue as it is now. */
  async function act(button, work) {
    button.disabled = true;
    try {
      await work?.();
    } catch (e) {
      report(e);
    }
    await load();
    button.disabled = false;
  }

  peek.addEventListener('click', () => act(peek));

  send.addEventListener('click', () => {
    say(message, body.value ? '' : 'Write the message to send.', true);
    if (!body.value) return;
    act(send, async () => {
      const { messageId } = await rest('POST', path, { body: body.value, type: 'text/plain; charset=utf-8', signal });
      say(message, `Sent message ${messageId}.`, false);
      body.value = '';
    });
  });

  purge.addEventListener('click', () => {
    if (!confirm(`Delete every message in ${queue}? This cannot be undone.`)) return;
    act(purge, () => rest('DELETE', path, { signal }));
  });

  load();
}

function messageRow(m) {
  const attributes = Object.entries(m.attributes ?? {}).map(([k, v]) => `${k}=${v}`).join(', ');
  return h('tr', { 'data-id': m.id },
    h('td', { class: 'mono small' }, m.id),
    h('td', {}, h('pre', {}, m.body)),
    h('td', { class: 'num' }, String(m.receiveCount)),
    h('td', { class: 'nowrap' }, fmtSeconds(m.sent)),
    h('td', { class: 'nowrap' }, fmtSeconds(m.visibleAt)),
    h('td', { class: 'small' }, attributes || '—'));
}

// ---- A topic ---------------------------------------------------------------------------

function topicPage(root, topic, { signal }) {
  const base = `/v1/topics/${encodeURIComponent(topic)}`;
  const arn = h('p', { class: 'muted small mono' });
  const tbody = h('tbody');
  const note = h('p', { class: 'muted' }, 'Loading…');
  const subject = h('input', { id: 'topic-subject', placeholder: 'optional', autocomplete: 'off' });
  const text = h('textarea', { id: 'topic-message', class: 'code', rows: 5, spellcheck: 'false' });
  const publish = h('button', { id: 'topic-publish', type: 'button', class: 'primary' }, 'Publish');
  const published = h('p', { id: 'topic-published', class: 'field-ok', hidden: true });
  root.append(
    h('section', { class: 'panel' }, back(), h('h2', {}, topic), arn, h('h3', {}, 'Subscriptions'),
      dataTable('topic-subscriptions', ['Protocol', 'Endpoint', 'Raw', 'Filter policy', 'ARN'], tbody), note),
    h('section', { class: 'panel' }, h('h3', {}, 'Publish a message'),
      h('div', { class: 'form-grid' }, h('label', {}, 'Subject', subject)),
      h('label', { class: 'stack' }, 'Message', text),
      h('div', { class: 'row' }, publish), published));

  async function load() {
    try {
      const [{ topics = [] }, { subscriptions = [] }] = await Promise.all([
        rest('GET', '/v1/topics', { signal }),
        rest('GET', `${base}/subscriptions`, { signal }),
      ]);
      arn.textContent = topics.find((t) => t.name === topic)?.arn ?? '';
      tbody.replaceChildren(...subscriptions.map(subscriptionRow));
      note.textContent = subscriptions.length ? '' : 'No subscriptions: what is published here reaches no one.';
    } catch (e) {
      note.textContent = 'Could not load this topic.';
      report(e);
    }
  }

  publish.addEventListener('click', async () => {
    delete published.dataset.messageId;
    say(published, text.value ? '' : 'Write the message to publish.', true);
    if (!text.value) return;
    publish.disabled = true;
    try {
      const request = subject.value ? { message: text.value, subject: subject.value } : { message: text.value };
      const { messageId } = await rest('POST', `${base}/messages`, { body: JSON.stringify(request), signal });
      say(published, `Published message ${messageId}.`, false);
      published.dataset.messageId = messageId;
    } catch (e) {
      report(e);
    } finally {
      publish.disabled = false;
    }
  });

  load();
}

function subscriptionRow(s) {
  // GetSubscriptionAttributes gives the policy as the JSON text it was set with.
  const policy = s.filterPolicy == null ? null
    : h('pre', {}, typeof s.filterPolicy === 'string' ? prettyText(s.filterPolicy) : pretty(s.filterPolicy));
  return h('tr', { 'data-arn': s.arn },
    h('td', {}, s.protocol),
    h('td', { class: 'mono small' }, s.endpoint),
    h('td', {}, s.raw ? 'yes' : 'no'),
    h('td', {}, policy ?? '—'),
    h('td', { class: 'mono small' }, s.arn));
}
