// Small DOM and formatting helpers shared by the views.
//
// Server data (state names, inputs, error messages) only ever reaches the page as text nodes
// built here, never as markup, so a state called `<img onerror=...>` stays a string.

/** Creates an HTML element: `h('a', {href, class}, 'text', child)`. `on*` keys add listeners. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  // Children first: a <select>'s value can only be set once its options exist.
  el.append(...children.flat(Infinity).filter((c) => c != null && c !== false));
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value == null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'value') el.value = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  return el;
}

/** Pretty JSON with 2-space indentation; `—` for a value that is absent. */
export function pretty(value) {
  return value === undefined ? '—' : JSON.stringify(value, null, 2);
}

/** Pretty-prints a string that holds JSON (execution input, output, cause); other text as is. */
export function prettyText(text) {
  if (text == null) return '—';
  try {
    return pretty(JSON.parse(text));
  } catch {
    return String(text);
  }
}

const pad = (n, width = 2) => String(n).padStart(width, '0');

/** Local time with milliseconds, from epoch milliseconds. */
export function fmtTime(ms) {
  if (ms == null || !Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** The AWS API speaks epoch seconds (floats); the trace speaks milliseconds. */
export const fmtSeconds = (s) => (s == null ? '—' : fmtTime(s * 1000));

/**
 * A duration for people. Each branch takes the values that still round into its own unit,
 * so 999.7 ms is "1.00 s", 59.97 s is "1 min 0 s", and never "1000 ms" or "1 min 60 s".
 */
export function fmtDuration(ms) {
  if (ms == null || !Number.isFinite(ms)) return '—';
  if (ms < 999.5) return `${Math.round(ms)} ms`;
  if (ms < 9_995) return `${(ms / 1000).toFixed(2)} s`;
  if (ms < 59_950) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000); // whole seconds first, then minutes from them
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

export function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** A status pill; the class drives its colour. */
export function badge(status, attrs = {}) {
  return h('span', { class: `badge status-${String(status).toLowerCase()}`, ...attrs }, status);
}

/** Hash routes; ARNs are encoded so their `:` and `/` survive as one path segment. */
export const link = {
  machine: (arn) => `#/machines/${encodeURIComponent(arn)}`,
  editor: (arn) => (arn ? `#/editor/${encodeURIComponent(arn)}` : '#/editor'),
  designer: (arn) => (arn ? `#/designer/${encodeURIComponent(arn)}` : '#/designer'),
  execution: (arn) => `#/executions/${encodeURIComponent(arn)}`,
};

/** Goes to a route, re-rendering it even when it is the current one (after a save, say). */
export function navigate(hash) {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}

/** Parses JSON typed by a person; the error says what to fix instead of throwing. */
export function parseJsonInput(text) {
  if (!text.trim()) return { error: 'Input is empty: enter a JSON value, for example {}' };
  try {
    return { value: JSON.parse(text) };
  } catch (e) {
    return { error: `Input is not valid JSON: ${e.message}` };
  }
}

export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** `Map.groupBy`, which older browsers (and WebDriver builds) may lack. */
export function groupBy(items, keyOf) {
  const groups = new Map();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}
