// The error banner (#error-banner): the one place failures reach the user. The API layer
// reports every failed call here, so a view that merely stops on an error drops nothing.

let shownType = null;

const banner = () => document.getElementById('error-banner');

export function showError(err) {
  const el = banner();
  const type = err?.type ?? err?.name ?? 'Error';
  el.querySelector('.error-text').textContent = `${type}: ${err?.message ?? String(err)}`;
  el.hidden = false;
  shownType = type;
  if (err && typeof err === 'object') err.reported = true;
}

/** Hides the banner if `test(type)` holds for what it shows (all errors when no test). */
export function clearError(test = () => true) {
  if (shownType !== null && test(shownType)) {
    banner().hidden = true;
    shownType = null;
  }
}

/** For catch blocks: shows what has not been shown yet; a cancelled request is no error. */
export function report(err) {
  if (err?.name === 'AbortError' || err?.reported) return;
  showError(err);
}

document.addEventListener('click', (e) => {
  if (e.target.closest('#error-banner .dismiss')) clearError();
});
