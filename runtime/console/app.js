// The router: maps the location hash to a view and gives each view a signal that aborts its
// requests when the user moves on, so a late answer never paints over the next page.

import { changeKey } from './auth.js';
import { report } from './banner.js';
import { dataView } from './views/data.js';
import { designerView } from './views/designer.js';
import { editorView } from './views/editor.js';
import { executionView } from './views/execution.js';
import { jobsView } from './views/jobs.js';
import { machineList, machinePage } from './views/machines.js';
import { modulesView } from './views/modules.js';
import { samplesView } from './views/samples.js';
import { triggersView } from './views/triggers.js';

// section → [view without a parameter, view with one]
const ROUTES = {
  machines: [machineList, machinePage],
  editor: [editorView, editorView],
  designer: [designerView, designerView],
  executions: [machineList, executionView],
  modules: [modulesView, modulesView],
  jobs: [jobsView, jobsView],
  data: [dataView, dataView],
  triggers: [triggersView, triggersView],
  samples: [samplesView, samplesView],
};

let current = null; // { controller, cleanup } of the mounted view

function parse(hash) {
  const [section, ...rest] = hash.replace(/^#\/?/, '').split('/');
  let param = rest.join('/');
  try {
    param = decodeURIComponent(param);
  } catch {
    // Not percent-encoded after all (a pasted ARN): use it as typed.
  }
  return { section: ROUTES[section] ? section : 'machines', param: param || null };
}

function route() {
  const { section, param } = parse(location.hash);
  current?.controller.abort();
  current?.cleanup?.();
  const controller = new AbortController();
  const view = document.getElementById('view');
  view.replaceChildren();
  for (const a of document.querySelectorAll('[data-nav]')) {
    a.classList.toggle('active', a.dataset.nav === section && ((section !== 'editor' && section !== 'designer') || !param));
  }
  const [plain, withParam] = ROUTES[section];
  let cleanup;
  try {
    cleanup = (param ? withParam : plain)(view, param, { signal: controller.signal });
  } catch (e) {
    report(e);
  }
  current = { controller, cleanup };
  window.scrollTo(0, 0);
}

document.getElementById('change-api-key').addEventListener('click', async (e) => {
  e.preventDefault();
  if ((await changeKey()) !== null) route();
});

// Anything that escapes a view's own handling still reaches the banner.
window.addEventListener('unhandledrejection', (e) => report(e.reason));
window.addEventListener('hashchange', route);
route();
