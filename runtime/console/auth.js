// The API key of a multi-tenant server: kept in localStorage, asked for with
// #api-key-dialog whenever the server refuses a call for lack of a (valid) key.
//
// The dialog exists only while a key is wanted, so "#api-key-input is on the page" means
// "type the key now", for people and WebDriver tests alike.

import { h } from './ui.js';

const STORAGE_KEY = 'sandstep.apiKey';

let memory = ''; // the key typed this session, for browsers with storage turned off
let waiting = null; // the open question: every refused call awaits the same answer

/**
 * Whether `key` can be sent: an HTTP header carries visible ASCII only, and a key has no
 * spaces. '' (no key) is fine too.
 */
export const validKey = (key) => key === '' || /^[\x21-\x7e]+$/.test(key);

/** The key to send, or '' for none. */
export function currentKey() {
  try {
    return localStorage.getItem(STORAGE_KEY) ?? memory;
  } catch {
    return memory;
  }
}

function storeKey(key) {
  memory = key;
  try {
    if (key) localStorage.setItem(STORAGE_KEY, key);
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Storage disabled: `memory` keeps the key for this page.
  }
}

/** Builds and opens the dialog; returns it. */
function openDialog(reason) {
  const input = h('input', { id: 'api-key-input', type: 'password', autocomplete: 'off', spellcheck: 'false', value: currentKey() });
  const problem = h('p', { id: 'api-key-error', class: 'field-error', role: 'alert', hidden: true });
  input.addEventListener('input', () => {
    problem.hidden = true;
  });
  const dialog = h('dialog', { id: 'api-key-dialog' },
    h('form', {
      onsubmit: (e) => {
        e.preventDefault();
        const key = input.value.trim();
        if (!validKey(key)) {
          // It could not be sent anyway (fetch refuses such a header): say so, keep the dialog.
          problem.textContent = 'An API key has only visible ASCII characters: no spaces, ' +
            'no accented or other non-ASCII letters. Check what was pasted.';
          problem.hidden = false;
          input.focus();
          return;
        }
        storeKey(key);
        settle(key);
      },
    },
    h('h2', {}, 'API key'),
    h('p', { id: 'api-key-reason' }, reason),
    h('label', {}, 'Key ', input),
    problem,
    h('div', { class: 'actions' },
      h('button', { type: 'button', id: 'api-key-cancel', onclick: () => settle(null) }, 'Cancel'),
      h('button', { type: 'submit', id: 'api-key-save', class: 'primary' }, 'Save'))));
  // Escape closes a modal dialog without our buttons: count it as a cancel, unless this
  // dialog's question was answered already (its close event comes a moment later).
  dialog.addEventListener('close', () => waiting?.dialog === dialog && settle(null));
  document.getElementById('app').append(dialog);
  dialog.showModal();
  input.select();
  return dialog;
}

function settle(key) {
  const w = waiting;
  waiting = null;
  if (!w) return;
  if (w.dialog.open) w.dialog.close();
  w.dialog.remove();
  w.resolve(key);
}

/**
 * Shows the dialog with `reason` and resolves with the saved key, or null if cancelled.
 * Concurrent callers share one dialog.
 */
export function askForKey(reason) {
  if (waiting) {
    document.getElementById('api-key-reason').textContent = reason;
    return waiting.promise;
  }
  let resolve;
  const promise = new Promise((r) => (resolve = r));
  waiting = { promise, resolve };
  waiting.dialog = openDialog(reason);
  return promise;
}

/** The header's "Change API key": the same dialog, opened by the user. */
export function changeKey() {
  return askForKey('Enter the API key of your tenant. Leave it empty for a single-tenant server.');
}
