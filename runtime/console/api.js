// Talking to the server: the AWS JSON protocol (`POST /` + X-Amz-Target) and the native
// REST routes under /v1. Both carry the API key, both fail with the same `ApiError`, and
// both report failures to the banner before throwing, so no view can swallow one.

import { askForKey, currentKey } from './auth.js';
import { clearError, showError } from './banner.js';

export class ApiError extends Error {
  constructor(type, message, status) {
    super(message);
    this.name = 'ApiError';
    this.type = type;
    this.status = status;
  }
}

// The answers that mean "ask the user for a key", not "something is broken".
const AUTH_ERRORS = new Set(['MissingAuthenticationTokenException', 'UnrecognizedClientException']);
const isAuthError = (type) => AUTH_ERRORS.has(type);

async function send(path, init) {
  const headers = new Headers(init.headers);
  const key = currentKey();
  if (key) headers.set('Authorization', `Bearer ${key}`);
  let res;
  try {
    res = await fetch(path, { ...init, headers });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError('NetworkError', `cannot reach the server (${e.message})`, 0);
  }
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    if (res.ok) throw new ApiError('InvalidResponse', `${path} did not answer JSON`, res.status);
  }
  if (res.ok) return body;
  // AWS sometimes qualifies the type (`com.amazonaws...#Name`); users know the short name.
  const type = String(body?.__type ?? `HTTP${res.status}`).split('#').pop();
  const message = body?.message ?? body?.Message ?? (text || res.statusText);
  throw new ApiError(type, message, res.status);
}

/**
 * Sends, asking for an API key and retrying for as long as the server refuses the key and
 * the user keeps offering one.
 */
async function request(path, init) {
  for (;;) {
    try {
      const body = await send(path, init);
      clearError(isAuthError); // the key that was missing is there now
      return body;
    } catch (err) {
      if (err.name === 'AbortError') throw err;
      showError(err);
      if (isAuthError(err.type) && (await askForKey(`${err.type}: ${err.message}`))) continue;
      throw err;
    }
  }
}

/** One AWS Step Functions action, e.g. `aws('DescribeExecution', {executionArn})`. */
export function aws(action, body = {}, { signal } = {}) {
  const init = {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.0',
      'X-Amz-Target': `AWSStepFunctions.${action}`,
    },
    body: JSON.stringify(body),
    signal,
  };
  return request('/', init);
}

/** An AWS list action, following `nextToken` until the last page. */
export async function awsAll(action, body, listKey, options) {
  const items = [];
  let nextToken;
  do {
    const page = await aws(action, nextToken ? { ...body, nextToken } : body, options);
    items.push(...(page[listKey] ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return items;
}

/** A native route: `rest('GET', '/v1/modules')`; `body` is sent as is (text or bytes). */
export function rest(method, path, { body, type = 'application/json', signal } = {}) {
  const headers = body == null ? {} : { 'Content-Type': type };
  return request(path, { method, headers, body, signal });
}

/**
 * The server's layout of a definition, checked as a `type` machine: `{diagnostics, graph}`,
 * plus `notice` (and a null graph) when the server declines to draw it, e.g. too many states.
 */
export const layoutDefinition = (text, type, options) =>
  rest('POST', `/v1/console/graph${type ? `?type=${encodeURIComponent(type)}` : ''}`, { body: text, ...options });

/** Every event of an execution, oldest first. */
export const executionHistory = (executionArn, options) =>
  awsAll('GetExecutionHistory', { executionArn, maxResults: 1000 }, 'events', options);

/**
 * The events after `lastId`, oldest first: reads the history backwards, newest page first,
 * only until it reaches an event the caller already has.
 */
export async function historyAfter(executionArn, lastId, options) {
  const fresh = [];
  let nextToken;
  do {
    const body = { executionArn, reverseOrder: true, maxResults: 100 };
    if (nextToken) body.nextToken = nextToken;
    const page = await aws('GetExecutionHistory', body, options);
    nextToken = page.nextToken;
    for (const event of page.events ?? []) {
      if (event.id <= lastId) {
        nextToken = null; // newest first: everything further is known too
        break;
      }
      fresh.push(event);
    }
  } while (nextToken);
  return fresh.sort((a, b) => a.id - b.id);
}

const traceUrl = (executionArn, query) =>
  `/v1/console/trace?executionArn=${encodeURIComponent(executionArn)}&${query}`;

/** Every visit of an execution without its data: `{executionArn, status, visits}`. */
export const traceSummary = (executionArn, options) => rest('GET', traceUrl(executionArn, 'stages=none'), options);

/** The data of one visit, by its entered event id: its `stages` (none if there is no such visit). */
export async function visitStages(executionArn, enteredEventId, options) {
  const { visits = [] } = await rest('GET', traceUrl(executionArn, `visit=${enteredEventId}`), options);
  return visits.find((v) => v.enteredEventId === enteredEventId)?.stages ?? {};
}
