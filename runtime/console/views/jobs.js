// Batch jobs (#/jobs): the tenant's job queues (and the form that creates or changes one),
// the jobs workflows submitted, newest first, and one job (#/jobs/{id}) with Batch's
// description, what it logged, and a cancel button while it waits or runs.

import { rest } from '../api.js';
import { report } from '../banner.js';
import { badge, fmtTime, h, pretty } from '../ui.js';

export function jobsView(root, param, options) {
  return param ? jobPage(root, param, options) : jobList(root, options);
}

function jobList(root, { signal }) {
  const queues = h('tbody');
  const jobs = h('tbody');
  const note = h('p', { class: 'muted' }, 'Loading…');
  const name = h('input', { id: 'queue-name', placeholder: 'nightly', autocomplete: 'off' });
  const concurrency = h('input', { id: 'queue-concurrency', type: 'number', min: '1', max: '64', value: '1' });
  const hours = h('input', { id: 'queue-hours', type: 'number', min: '0', step: 'any', value: '1' });
  const save = h('button', { id: 'queue-save', type: 'button', class: 'primary' }, 'Save queue');
  root.append(
    h('section', { class: 'panel' }, h('h2', {}, 'Jobs'),
      h('div', { class: 'table-wrap' }, h('table', { id: 'jobs', class: 'table' },
        h('thead', {}, h('tr', {}, ['Name', 'Status', 'Queue', 'Module', 'Attempts', 'Created', 'Stopped']
          .map((c) => h('th', {}, c)))), jobs)),
      note),
    h('section', { class: 'panel' }, h('h3', {}, 'Job queues'),
      h('div', { class: 'table-wrap' }, h('table', { id: 'job-queues', class: 'table' },
        h('thead', {}, h('tr', {}, ['Name', 'Concurrency', 'Wall clock (h)', 'Fuel', 'Memory (MiB)']
          .map((c) => h('th', {}, c)))), queues)),
      h('div', { class: 'form-grid' },
        h('label', {}, 'Name', name), h('label', {}, 'Concurrency', concurrency),
        h('label', {}, 'Wall clock (hours)', hours)),
      h('div', { class: 'row' }, save)));

  async function load() {
    try {
      const [{ jobQueues = [] }, all] = await Promise.all([
        rest('GET', '/v1/job-queues', { signal }),
        allJobs(signal),
      ]);
      queues.replaceChildren(...jobQueues.map((q) => h('tr', { 'data-name': q.name },
        h('td', {}, q.name), h('td', { class: 'num' }, String(q.concurrency)),
        h('td', { class: 'num' }, String(q.wallClockHours)), h('td', { class: 'num' }, String(q.fuel)),
        h('td', { class: 'num' }, String(q.memoryMib)))));
      all.sort((a, b) => b.createdAt - a.createdAt);
      jobs.replaceChildren(...all.map((j) => h('tr', { 'data-id': j.jobId },
        h('td', {}, h('a', { href: `#/jobs/${encodeURIComponent(j.jobId)}` }, j.jobName)),
        h('td', {}, badge(j.status)), h('td', {}, j.jobQueue), h('td', {}, j.module),
        h('td', { class: 'num' }, String(j.attempts)),
        h('td', { class: 'nowrap' }, fmtTime(j.createdAt)), h('td', { class: 'nowrap' }, fmtTime(j.stoppedAt)))));
      note.textContent = all.length ? '' : 'No jobs yet: a workflow submits them with arn:aws:states:::batch:submitJob.';
    } catch (e) {
      note.textContent = 'Could not load the jobs.';
      report(e);
    }
  }

  save.addEventListener('click', async () => {
    if (!name.value.trim()) return report(new Error('Give the queue a name.'));
    save.disabled = true;
    try {
      await rest('PUT', `/v1/job-queues/${encodeURIComponent(name.value.trim())}`, {
        body: JSON.stringify({ concurrency: Number(concurrency.value), wallClockHours: Number(hours.value) }),
        signal,
      });
      await load();
    } catch (e) {
      report(e);
    } finally {
      save.disabled = false;
    }
  });

  load();
  const timer = setInterval(load, 2000);
  return () => clearInterval(timer);
}

async function allJobs(signal) {
  const jobs = [];
  let token = null;
  do {
    const page = await rest('GET', `/v1/jobs${token ? `?nextToken=${token}` : ''}`, { signal });
    jobs.push(...(page.jobs ?? []));
    token = page.nextToken;
  } while (token);
  return jobs;
}

function jobPage(root, id, { signal }) {
  const title = h('h2', {}, id);
  const status = h('span');
  const cancel = h('button', { id: 'job-cancel', type: 'button', hidden: true }, 'Cancel job');
  const described = h('pre', { id: 'job-description', class: 'json' });
  const logs = h('pre', { id: 'job-logs', class: 'json' });
  root.append(
    h('section', { class: 'panel' }, h('p', {}, h('a', { href: '#/jobs' }, '← Jobs')),
      h('div', { class: 'row' }, title, status, cancel)),
    h('section', { class: 'panel' }, h('h3', {}, 'Logs'), logs),
    h('section', { class: 'panel' }, h('h3', {}, 'Description'), described));

  async function load() {
    try {
      const path = `/v1/jobs/${encodeURIComponent(id)}`;
      const [job, { lines = [] }] = await Promise.all([
        rest('GET', path, { signal }), rest('GET', `${path}/logs?limit=10000`, { signal })]);
      title.textContent = `${job.JobName} (${job.JobId})`;
      status.replaceChildren(badge(job.Status, { id: 'job-status' }));
      cancel.hidden = job.Status === 'SUCCEEDED' || job.Status === 'FAILED';
      described.textContent = pretty(job);
      logs.textContent = lines.length
        ? lines.map((l) => `[attempt ${l.attempt}] ${l.level} ${l.message}`).join('\n')
        : 'Nothing logged yet (lines are stored when a run ends).';
    } catch (e) {
      report(e);
    }
  }

  cancel.addEventListener('click', async () => {
    cancel.disabled = true;
    try {
      await rest('POST', `/v1/jobs/${encodeURIComponent(id)}/cancel`,
        { body: JSON.stringify({ reason: 'Cancelled from the console' }), signal });
      await load();
    } catch (e) {
      report(e);
    } finally {
      cancel.disabled = false;
    }
  });

  load();
  const timer = setInterval(load, 2000);
  return () => clearInterval(timer);
}
