// #/usage: GET /v1/usage as it comes (storage, AI tokens and cost, budgets), rendered generically so
// that new fields show up without a change to the page.
import { unavailable } from './api.js'
import { $, renderValue } from './dom.js'
import { loadForView } from './messages.js'

export async function loadUsage () {
  $('usage').replaceChildren()
  const usage = await loadForView('usage-summary', 'v1/usage', (error) =>
    unavailable(error, 'Usage figures are not available on this deployment yet.', 'Your usage could not be read'))
  if (!usage) return
  $('usage-summary').textContent = 'Your storage, and the AI analysis tokens and cost, as the API counts them.'
  $('usage').replaceChildren(renderValue(usage))
}
