// The module registry (#/modules): the latest version of each module, every version on
// demand, the upload form (PUT /v1/modules/{name} with the raw .wasm bytes), and the
// resource bindings (/v1/bindings): which module plays a Task resource Sandstep does not run.

import { rest } from '../api.js';
import { report } from '../banner.js';
import { fmtBytes, fmtSeconds, h } from '../ui.js';

export function modulesView(root, _param, { signal }) {
  const tbody = h('tbody');
  const note = h('p', { class: 'muted' }, 'Loading…');
  const name = h('input', { id: 'module-name', placeholder: 'orders-validate', autocomplete: 'off' });
  const grants = h('input', { id: 'module-grants', placeholder: 'kv:orders,blob:images (optional)', autocomplete: 'off' });
  const file = h('input', { id: 'module-file', type: 'file', accept: '.wasm,application/wasm' });
  const upload = h('button', { id: 'module-upload', type: 'button', class: 'primary' }, 'Upload');
  const message = h('p', { class: 'field-error', hidden: true });
  root.append(
    h('section', { class: 'panel' }, h('h2', {}, 'Modules'),
      h('div', { class: 'table-wrap' }, h('table', { id: 'modules', class: 'table' },
        h('thead', {}, h('tr', {}, ['Name', 'Version', 'SHA-256', 'Size', 'Kind', 'Grants', 'Uploaded']
          .map((c) => h('th', {}, c)))), tbody)),
      note),
    h('section', { class: 'panel' }, h('h3', {}, 'Upload a module'),
      h('div', { class: 'form-grid' },
        h('label', {}, 'Name', name), h('label', {}, 'Grants', grants), h('label', {}, 'WebAssembly file', file)),
      h('div', { class: 'row' }, upload), message));
  const bindings = bindingsPanel(signal);
  root.append(bindings.panel);

  async function load() {
    try {
      const { modules = [] } = await rest('GET', '/v1/modules', { signal });
      tbody.replaceChildren(...modules.map((m) => moduleRow(m, signal)));
      bindings.offer(modules.map((m) => m.name));
      note.textContent = modules.length ? '' : 'No modules yet.';
    } catch (e) {
      note.textContent = 'Could not load the modules.';
      report(e);
    }
  }

  file.addEventListener('change', () => {
    const chosen = file.files?.[0];
    if (chosen && !name.value.trim()) name.value = chosen.name.replace(/\.wasm$/i, '');
  });

  upload.addEventListener('click', async () => {
    const chosen = file.files?.[0];
    const problem = !name.value.trim() ? 'Give the module a name.' : !chosen ? 'Choose a .wasm file.' : '';
    say(message, problem, true);
    if (problem) return;
    const query = grants.value.trim() ? `?grants=${encodeURIComponent(grants.value.trim())}` : '';
    upload.disabled = true;
    try {
      const version = await rest('PUT', `/v1/modules/${encodeURIComponent(name.value.trim())}${query}`,
        { body: await chosen.arrayBuffer(), type: 'application/wasm', signal });
      say(message, `Uploaded ${version.name} version ${version.version}.`, false);
      file.value = '';
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
 * The tenant's resource bindings: a Task resource (exact, or a prefix ending in `*`) and the
 * module that plays it. Each execution pins what they say at its start.
 */
function bindingsPanel(signal) {
  const tbody = h('tbody');
  const note = h('p', { class: 'muted' }, 'Loading…');
  const resource = h('input', { id: 'binding-resource', placeholder: 'arn:aws:states:::aws-sdk:translate:*', autocomplete: 'off' });
  const module = h('input', { id: 'binding-module', placeholder: 'translate or translate:2', autocomplete: 'off', list: 'binding-modules' });
  const choices = h('datalist', { id: 'binding-modules' });
  const save = h('button', { id: 'binding-save', type: 'button', class: 'primary' }, 'Bind');
  const message = h('p', { class: 'field-error', hidden: true });

  async function load() {
    try {
      const { bindings = [] } = await rest('GET', '/v1/bindings', { signal });
      tbody.replaceChildren(...bindings.map((b) => {
        const remove = h('button', { type: 'button', class: 'binding-delete' }, 'Delete');
        remove.addEventListener('click', async () => {
          if (!window.confirm(`Delete the binding of ${b.resource}?`)) return;
          try {
            await rest('DELETE', `/v1/bindings?resource=${encodeURIComponent(b.resource)}`, { signal });
            await load();
          } catch (e) {
            report(e);
          }
        });
        return h('tr', { 'data-resource': b.resource }, h('td', { class: 'mono small' }, b.resource),
          h('td', {}, b.module), h('td', { class: 'nowrap' }, fmtSeconds(b.modified)), h('td', {}, remove));
      }));
      note.textContent = bindings.length ? ''
        : 'No bindings: a Task whose resource Sandstep does not run fails when an execution reaches it.';
    } catch (e) {
      note.textContent = 'Could not load the bindings.';
      report(e);
    }
  }

  save.addEventListener('click', async () => {
    const problem = !resource.value.trim() ? 'Give the resource (or a prefix ending in *).'
      : !module.value.trim() ? 'Choose the module that plays it.' : '';
    say(message, problem, true);
    if (problem) return;
    save.disabled = true;
    try {
      const saved = await rest('PUT', '/v1/bindings', {
        body: JSON.stringify({ resource: resource.value.trim(), module: module.value.trim() }),
        signal,
      });
      say(message, `Bound ${saved.resource} to ${saved.module}.`, false);
      await load();
    } catch (e) {
      report(e);
    } finally {
      save.disabled = false;
    }
  });

  load();
  const panel = h('section', { class: 'panel' }, h('h2', {}, 'Resource bindings'),
    h('p', { class: 'muted small' }, 'A module that plays a service Sandstep does not host: it receives {resource, service, action, parameters, context} and answers with the service\'s result. The most specific binding wins; running executions keep the bindings they started with.'),
    h('div', { class: 'table-wrap' }, h('table', { id: 'bindings', class: 'table' },
      h('thead', {}, h('tr', {}, ['Resource', 'Module', 'Modified', ''].map((c) => h('th', {}, c)))), tbody)),
    note,
    h('div', { class: 'form-grid' }, h('label', {}, 'Resource', resource), h('label', {}, 'Module', module), choices),
    h('div', { class: 'row' }, save), message);
  return {
    panel,
    /** The modules the picker suggests. */
    offer(names) {
      choices.replaceChildren(...names.map((n) => h('option', { value: n })));
    },
  };
}

function say(el, text, isError) {
  el.textContent = text;
  el.hidden = !text;
  el.className = isError ? 'field-error' : 'field-ok';
}

const grantList = (grants) => (grants?.length ? grants.join(', ') : '—');

function moduleRow(m, signal) {
  // Older versions load when the row's version cell is opened; they stay out of the table's rows.
  const versions = h('details', { class: 'versions' }, h('summary', {}, String(m.version)));
  versions.addEventListener('toggle', async () => {
    if (!versions.open || versions.dataset.loaded) return;
    versions.dataset.loaded = 'yes';
    try {
      const all = await rest('GET', `/v1/modules/${encodeURIComponent(m.name)}`, { signal });
      versions.append(h('ul', {}, (all.versions ?? []).map((v) => h('li', {},
        h('strong', {}, `v${v.version}`), ` ${fmtSeconds(v.created)} · ${fmtBytes(v.size)} · `,
        h('code', { title: v.sha256 }, v.sha256.slice(0, 12)), ` · grants: ${grantList(v.grants)}`))));
    } catch (e) {
      delete versions.dataset.loaded;
      report(e);
    }
  });
  return h('tr', { 'data-name': m.name },
    h('td', {}, m.name),
    h('td', {}, versions),
    h('td', {}, h('code', { title: m.sha256 }, `${m.sha256.slice(0, 12)}…`)),
    h('td', { class: 'num', title: `${m.size} bytes` }, fmtBytes(m.size)),
    h('td', {}, m.kind),
    h('td', {}, grantList(m.grants)),
    h('td', { class: 'nowrap' }, fmtSeconds(m.created)));
}
