// The error banner (#error-banner): the one place failures reach the user. The API layer
// reports every failed call here, so a view that merely stops on an error drops nothing.
//
// Background work (a page's polling) passes a `tag`: its errors are not shown again while
// the same text is on screen or after the user dismissed it, and `clearTagged(tag)` takes
// them away once that work succeeds again. Then the same error, should it come back, shows.
// An error of something the user did (no tag) always shows, even if it was dismissed before.

let shown = null; // { type, text, tag } on screen
let dismissed = null; // { text, tag } the user closed

const banner = () => document.getElementById('error-banner');

function hide() {
  banner().hidden = true;
  shown = null;
}

export function showError(err, { tag = null } = {}) {
  if (err && typeof err === 'object') err.reported = true;
  const type = err?.type ?? err?.name ?? 'Error';
  const text = `${type}: ${err?.message ?? String(err)}`;
  if (shown?.text === text) {
    // Already there; a background repeat makes it that work's, to clear on its recovery.
    if (tag !== null) shown.tag = tag;
    return;
  }
  if (tag !== null && dismissed?.text === text) return;
  const el = banner();
  el.querySelector('.error-text').textContent = text;
  el.hidden = false;
  shown = { type, text, tag };
  dismissed = null;
}

/** Hides the banner if `test(type)` holds for what it shows (all errors when no test). */
export function clearError(test = () => true) {
  if (shown !== null && test(shown.type)) hide();
}

/** Background work tagged `tag` went through: its error goes, and may show again later. */
export function clearTagged(tag) {
  if (shown !== null && shown.tag === tag) hide();
  if (dismissed?.tag === tag) dismissed = null;
}

/** For catch blocks: shows what has not been shown yet; a cancelled request is no error. */
export function report(err, options) {
  if (err?.name === 'AbortError' || err?.reported) return;
  showError(err, options);
}

document.addEventListener('click', (e) => {
  if (!e.target.closest('#error-banner .dismiss')) return;
  dismissed = shown && { text: shown.text, tag: shown.tag };
  hide();
});
