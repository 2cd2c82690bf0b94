// #/webhooks: add an endpoint (its signing secret shown once), list them with their recent deliveries,
// delete one after confirmation.
import { api, unavailable } from './api.js'
import { $, count, el, timeElement } from './dom.js'
import { confirmAction, loadForView, say, showError } from './messages.js'

export async function loadWebhooks () {
  const listing = await loadForView('webhooks-summary', 'v1/webhooks', (error) =>
    unavailable(error, 'Webhooks are not available on this deployment.', 'Your webhook endpoints could not be listed'))
  if (!listing) {
    $('webhooks-list').replaceChildren()
    return
  }
  const endpoints = listing.webhooks ?? []
  $('webhooks-summary').textContent = endpoints.length ? `${count(endpoints.length, 'endpoint')}.` : 'No endpoint yet.'
  $('webhooks-list').replaceChildren(...endpoints.map((endpoint) => {
    const deliveries = el('div', { class: 'deliveries', hidden: true })
    const toggle = el('button', {
      type: 'button',
      class: 'button button-quiet',
      text: 'Recent deliveries',
      'aria-expanded': 'false',
      onclick: () => toggleDeliveries(endpoint, toggle, deliveries),
    })
    return el('li', { class: 'webhook', dataset: { endpointId: endpoint.endpoint_id } },
      el('p', {}, el('strong', { class: 'webhook-url', text: endpoint.url }), ` · ${endpoint.status}`),
      el('p', { class: 'help' }, `${endpoint.events.join(', ')}${endpoint.description ? ` · ${endpoint.description}` : ''}`,
        endpoint.disabled_reason ? ` · ${endpoint.disabled_reason}` : null),
      el('div', { class: 'detail-actions' }, toggle, el('button', {
        type: 'button',
        class: 'button button-quiet button-danger-quiet',
        text: 'Delete',
        'aria-label': `Delete the endpoint ${endpoint.url}`,
        onclick: () => deleteWebhook(endpoint),
      })),
      deliveries)
  }))
}

async function toggleDeliveries (endpoint, toggle, box) {
  const open = toggle.getAttribute('aria-expanded') === 'true'
  toggle.setAttribute('aria-expanded', String(!open))
  box.hidden = open
  if (open) return
  box.replaceChildren(el('p', { class: 'help', text: 'Loading…' }))
  try {
    const page = await api('GET', `v1/webhooks/${encodeURIComponent(endpoint.endpoint_id)}/deliveries?limit=10`)
    const items = page.deliveries ?? []
    box.replaceChildren(items.length
      ? el('table', {},
        el('caption', { class: 'visually-hidden', text: `Recent deliveries to ${endpoint.url}` }),
        el('thead', {}, el('tr', {}, ...['Event', 'Status', 'Attempts', 'Last answer', 'When'].map((h) => el('th', { scope: 'col', text: h })))),
        el('tbody', {}, ...items.map((d) => el('tr', {},
          el('td', { text: d.event_type }), el('td', { text: d.status }), el('td', { text: String(d.attempt_count ?? 0) }),
          el('td', { text: d.last_status_code == null ? '—' : String(d.last_status_code) }), el('td', {}, timeElement(d.updated_at))))))
      : el('p', { class: 'help', text: 'Nothing delivered yet.' }))
  } catch (error) {
    box.replaceChildren(el('p', { class: 'help', text: `The deliveries could not be read: ${error.message}` }))
  }
}

async function addWebhook (event) {
  event.preventDefault()
  const form = $('webhook-form')
  const events = [...form.querySelectorAll('input[name="events"]:checked')].map((input) => input.value)
  const body = { url: $('webhook-url').value.trim(), events }
  const description = $('webhook-description').value.trim()
  if (description) body.description = description
  if (!body.url || !events.length) {
    showError('Give an HTTPS URL and at least one event.')
    return
  }
  try {
    const created = await api('POST', 'v1/webhooks', body)
    showError('')
    const notice = $('webhook-secret')
    notice.replaceChildren(
      el('p', {}, 'Endpoint added. Its signing secret is shown this once: store it now.'),
      el('code', { class: 'secret', text: created.secret }))
    notice.hidden = false
    form.reset()
    loadWebhooks()
  } catch (error) {
    showError(`The endpoint was not added: ${error.message}`)
  }
}

async function deleteWebhook (endpoint) {
  if (!await confirmAction('Delete this endpoint?', `Nothing more is delivered to ${endpoint.url}.`)) return
  try {
    await api('DELETE', `v1/webhooks/${encodeURIComponent(endpoint.endpoint_id)}`)
    say(`The endpoint ${endpoint.url} was deleted.`)
  } catch (error) {
    if (error.status !== 404) showError(`The endpoint was not deleted: ${error.message}`)
  }
  loadWebhooks()
}

export function wireWebhooks () {
  $('webhook-form').addEventListener('submit', addWebhook)
}
