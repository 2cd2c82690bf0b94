// What the page says: the status line (aria-live), the error box (role=alert), a view's summary line
// while its data loads, and the confirmation asked before anything is deleted.
import { api } from './api.js'
import { $ } from './dom.js'

export function say (message) {
  $('status').textContent = message
}

export function showError (message) {
  const box = $('error')
  box.textContent = message
  box.hidden = !message
}

/** GET a view's data, its summary line saying "Loading…" meanwhile and why on failure (then null). */
export async function loadForView (summaryId, path, explain) {
  const summary = $(summaryId)
  summary.textContent = 'Loading…'
  try {
    return await api('GET', path)
  } catch (error) {
    summary.textContent = explain(error)
    return null
  }
}

/** Ask before a destructive action; resolves true when confirmed. Focus returns where it was. */
export function confirmAction (title, text, confirmLabel = 'Delete') {
  const dialog = $('confirm-dialog')
  $('confirm-title').textContent = title
  $('confirm-text').textContent = text
  dialog.querySelector('[data-answer="confirm"]').textContent = confirmLabel
  const opener = document.activeElement
  return new Promise((resolve) => {
    const done = (answer) => {
      dialog.removeEventListener('close', onClose)
      if (dialog.open) dialog.close()
      opener?.focus?.()
      resolve(answer)
    }
    const onClose = () => done(false)
    dialog.addEventListener('close', onClose)
    dialog.querySelector('[data-answer="confirm"]').onclick = () => done(true)
    dialog.querySelector('[data-answer="cancel"]').onclick = () => done(false)
    dialog.showModal()
  })
}
