// Talking to the server: the AWS JSON protocol (`POST /` + X-Amz-Target) and the native
// REST routes under /v1. Both carry the API key, both fail with the same `ApiError`, and
// both report failures to the banner before throwing, so no view can swallow one.

import { askForKey, currentKey, validKey } from './auth.js';
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

async function send(path, init, key) {
  if (!validKey(key)) {
    // Stored before keys were checked: fetch would throw on the header. Ask for it again.
    throw new ApiError('UnrecognizedClientException',
      'the saved API key has characters an HTTP header cannot carry; enter it again', 0);
  }
  const headers = new Headers(init.headers);
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
 * the user keeps offering one. A call refused for a key that has been replaced while it
 * was on its way (another call's dialog got the new one) simply goes again with the new key.
 * `tag` marks background work for the banner (see banner.js).
 */
async function request(path, init, tag = null) {
  for (;;) {
    const key = currentKey();
    try {
      const body = await send(path, init, key);
      clearError(isAuthError); // the key that was missing is there now
      return body;
    } catch (err) {
      if (err.name === 'AbortError') throw err;
      if (isAuthError(err.type) && currentKey() !== key) continue;
      showError(err, { tag });
      if (isAuthError(err.type) && (await askForKey(`${err.type}: ${err.message}`))) continue;
      throw err;
    }
  }
}

/**
 * One AWS Step Functions action, e.g. `aws('DescribeExecution', {executionArn})`. Options:
 * `signal` to cancel, `tag` for background work (its errors are not repeated on the banner).
 */
export function aws(action, body = {}, options = {}) {
  return awsJson('1.0', `AWSStepFunctions.${action}`, body, options);
}

/** One EventBridge action (JSON 1.1), e.g. `events('ListRules', {EventBusName})`. */
export function events(action, body = {}, options = {}) {
  return awsJson('1.1', `AWSEvents.${action}`, body, options);
}

function awsJson(version, target, body, { signal, tag } = {}) {
  const init = {
    method: 'POST',
    headers: { 'Content-Type': `application/x-amz-json-${version}`, 'X-Amz-Target': target },
    body: JSON.stringify(body),
    signal,
  };
  return request('/', init, tag);
}

/** An AWS list action, following `nextToken` until the last page. */
export const awsAll = (action, body, listKey, options) =>
  allPages((page) => aws(action, { ...body, ...page }, options), listKey, 'nextToken');

/** An EventBridge list action, following `NextToken` until the last page. */
export const eventsAll = (action, body, listKey, options) =>
  allPages((page) => events(action, { ...body, ...page }, options), listKey, 'NextToken');

/** Every item of a paged list: `call({[tokenKey]: token})` answers one page. */
async function allPages(call, listKey, tokenKey) {
  const items = [];
  const tokens = new Set(); // a token that comes back would loop forever
  let token;
  do {
    const page = await call(token ? { [tokenKey]: token } : {});
    items.push(...(page[listKey] ?? []));
    token = page[tokenKey];
    if (tokens.has(token)) break;
    tokens.add(token);
  } while (token);
  return items;
}

/** A native route: `rest('GET', '/v1/modules')`; `body` is sent as is (text or bytes). */
export function rest(method, path, { body, type = 'application/json', signal, tag } = {}) {
  const headers = body == null ? {} : { 'Content-Type': type };
  return request(path, { method, headers, body, signal }, tag);
}

/**
 * The server's layout of a definition, checked as a `type` machine: `{diagnostics, graph}`,
 * plus `notice` (and a null graph) when the server declines to draw it, e.g. too many states.
 */
export const layoutDefinition = (text, type, options) =>
  rest('POST', `/v1/console/graph${type ? `?type=${encodeURIComponent(type)}` : ''}`, { body: text, ...options });

/** Every event of an execution, oldest first, each once. */
export async function executionHistory(executionArn, options) {
  const events = await awsAll('GetExecutionHistory', { executionArn, maxResults: 1000 }, 'events', options);
  return [...new Map(events.map((e) => [e.id, e])).values()].sort((a, b) => a.id - b.id);
}

/**
 * The events whose ids are not in `seen` (a Set), oldest first, each once: reads the history
 * backwards, newest first. The first page is small (a poll mostly finds a few events); it
 * pages on, in larger pages, only while a whole page was new. Whether what comes back joins
 * up with what the caller has is the caller's check.
 */
export async function historyAfter(executionArn, seen, options) {
  const fresh = new Map(); // id → event: a page that overlaps another adds nothing twice
  const tokens = new Set(); // a token that comes back would loop forever
  let maxResults = 10;
  let nextToken;
  for (;;) {
    const body = { executionArn, reverseOrder: true, maxResults };
    if (nextToken) body.nextToken = nextToken;
    const page = await aws('GetExecutionHistory', body, options);
    let allNew = true;
    for (const event of page.events ?? []) {
      if (seen.has(event.id)) allNew = false; // reached what the caller has
      else if (!fresh.has(event.id)) fresh.set(event.id, event);
    }
    nextToken = page.nextToken;
    if (!allNew || !nextToken || tokens.has(nextToken)) break;
    tokens.add(nextToken);
    maxResults = 100;
  }
  return [...fresh.values()].sort((a, b) => a.id - b.id);
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
