// "New from sample" (#/samples): the sample projects built into the server, each installed
// in one step (its modules, data, triggers and state machines) by the same call as
// `sandstep sample install`, then opened. The sample's example inputs are offered on the
// machine's start form (see `exampleInputs`).

import { rest } from '../api.js';
import { report } from '../banner.js';
import { h, link, navigate } from '../ui.js';

const KEY = 'sandstep.sampleInputs:';

export function samplesView(root, _param, { signal }) {
  const list = h('div', { id: 'samples', class: 'sample-list' }, h('p', { class: 'muted' }, 'Loading…'));
  root.append(h('section', { class: 'panel' },
    h('div', { class: 'panel-head' }, h('h2', {}, 'New from sample'),
      h('a', { class: 'button', href: '#/machines' }, 'Cancel')),
    h('p', { class: 'muted' }, 'Installing a sample uploads its modules, creates its tables, buckets, queues, topics and triggers, and creates its state machines in this tenant. Installing it again brings them back to the sample as shipped.'),
    list));

  rest('GET', '/v1/samples', { signal }).then(({ samples }) => {
    list.replaceChildren(...samples.map((s) => card(s, signal)));
  }).catch((e) => {
    list.replaceChildren(h('p', { class: 'muted' }, 'Could not load the samples.'));
    report(e);
  });
}

function card(sample, signal) {
  const install = h('button', { type: 'button', class: 'primary', 'data-sample': sample.name }, 'Install and open');
  const progress = h('ul', { class: 'small muted sample-steps' });
  install.addEventListener('click', async () => {
    install.disabled = true;
    install.textContent = 'Installing…';
    try {
      const done = await rest('POST', `/v1/samples/${encodeURIComponent(sample.name)}/install`, { signal });
      progress.replaceChildren(...done.done.map((line) => h('li', {}, line)));
      const { inputs } = await rest('GET', `/v1/samples/${encodeURIComponent(sample.name)}`, { signal });
      sessionStorage.setItem(KEY + done.stateMachineArn, JSON.stringify(inputs));
      navigate(link.machine(done.stateMachineArn));
    } catch (e) {
      report(e);
      install.disabled = false;
      install.textContent = 'Install and open';
    }
  });
  return h('article', { class: 'sample' },
    h('h3', {}, sample.title, ' ', h('span', { class: 'kind' }, sample.category)),
    h('p', {}, sample.summary),
    h('p', { class: 'small muted mono' }, `sandstep sample install ${sample.name}`),
    install, progress);
}

/** The example inputs of the sample that installed machine `arn` in this tab, if any. */
export function exampleInputs(arn) {
  try {
    return JSON.parse(sessionStorage.getItem(KEY + arn) ?? 'null');
  } catch {
    return null;
  }
}
