// #/reviews: the review queue (reviewers only). One review shown at a time; approve, correct (only the
// changed fields of the AI result are sent) or reject, with keys: j/k next/previous, a, c, r.
import { api } from './api.js'
import { $, count, el, folded, percent, renderValue, section, timeElement } from './dom.js'
import { loadForView, say, showError } from './messages.js'
import { currentView } from './router.js'

const DECIDED = { approve: 'Approved', correct: 'Corrected', reject: 'Rejected' }

let reviews = []
let reviewIndex = -1
let review = null

/** What the page says when the review routes refuse: a deployment without them, or not a reviewer. */
function reviewProblem (error) {
  if (error.status === 404) return 'The review queue is not available on this deployment: the API has no review routes yet.'
  if (error.status === 403) return 'Your account is not a reviewer: the review queue needs a token whose roles claim includes reviewer.'
  return null
}

function reviewsUnavailable (error) {
  return reviewProblem(error) ?? `The review queue could not be read: ${error.message}`
}

export async function loadReviews () {
  $('review-detail').hidden = true
  $('reviews-list').replaceChildren()
  const listing = await loadForView('reviews-summary', 'v1/reviews?status=pending&limit=50', reviewsUnavailable)
  if (!listing) return
  reviews = listing.reviews ?? []
  $('reviews-summary').textContent = reviews.length ? `${count(reviews.length, 'pending review')}.` : 'No review is waiting.'
  $('reviews-list').replaceChildren(...reviews.map((item, index) => el('li', {},
    el('button', {
      type: 'button',
      class: 'review-item',
      dataset: { reviewId: item.review_id },
      onclick: () => selectReview(index),
    },
    el('strong', { text: item.category || item.kind || 'review' }),
    ` · confidence ${percent(item.confidence)} · `,
    timeElement(item.created_at)))))
  if (reviews.length) selectReview(0, { focus: false })
}

/** The AI result a review is about (the fields a correction may change). */
function aiResultOf (shown) {
  return shown?.ai?.result ?? shown?.ai ?? {}
}

async function selectReview (index, { focus = true } = {}) {
  if (index < 0 || index >= reviews.length) return
  reviewIndex = index
  const summary = reviews[index]
  for (const button of document.querySelectorAll('#reviews-list .review-item')) {
    button.setAttribute('aria-pressed', String(button.dataset.reviewId === summary.review_id))
  }
  if (focus) document.querySelector(`#reviews-list [data-review-id="${CSS.escape(summary.review_id)}"]`)?.focus()
  let shown
  try {
    shown = await api('GET', `v1/reviews/${encodeURIComponent(summary.review_id)}`)
  } catch (error) {
    showError(reviewsUnavailable(error))
    return
  }
  if (reviews[reviewIndex]?.review_id !== shown.review_id) return
  review = shown
  $('review-detail').hidden = false
  $('review-title').textContent = `${shown.kind ?? 'File'} · ${shown.category ?? ''} · confidence ${percent(shown.confidence)}`
  const thumb = $('review-thumb')
  thumb.hidden = !shown.thumbnail?.url
  if (shown.thumbnail?.url) thumb.src = shown.thumbnail.url
  const result = aiResultOf(shown)
  $('review-body').replaceChildren(
    shown.excerpt ? section('Text excerpt', el('pre', { class: 'text-block', text: shown.excerpt })) : null,
    section('AI result', renderValue(result)),
    shown.features ? folded('Local features', shown.features) : null,
  )
  $('review-fields').hidden = true
  $('review-note').value = ''
  $('review-field-list').replaceChildren(...Object.entries(result)
    .filter(([, value]) => value == null || typeof value !== 'object' || (Array.isArray(value) && value.every((v) => typeof v !== 'object')))
    .map(([name, value]) => {
      const id = `review-field-${name}`
      const text = Array.isArray(value) ? value.join(', ') : (value ?? '')
      return el('div', { class: 'field' },
        el('label', { for: id, text: name.replace(/_/g, ' ') }),
        el('input', { id, type: 'text', value: String(text), dataset: { field: name, kind: Array.isArray(value) ? 'list' : typeof value }, autocomplete: 'off' }))
    }))
}

function reviewChanges () {
  const result = aiResultOf(review)
  const changes = {}
  for (const input of document.querySelectorAll('#review-field-list input')) {
    const name = input.dataset.field
    let value = input.value.trim()
    if (input.dataset.kind === 'list') value = value.split(',').map((v) => v.trim()).filter(Boolean)
    else if (input.dataset.kind === 'number') value = Number(value)
    else if (input.dataset.kind === 'boolean') value = value === 'true'
    if (JSON.stringify(value) !== JSON.stringify(result[name])) changes[name] = value
  }
  return changes
}

async function decide (decision) {
  const decided = review
  if (!decided) return
  if (decision === 'correct' && $('review-fields').hidden) {
    $('review-fields').hidden = false
    document.querySelector('#review-field-list input')?.focus()
    say('Edit the fields, then select Correct again.')
    return
  }
  const body = { decision }
  if (decision === 'correct') body.changes = reviewChanges()
  const note = $('review-note').value.trim()
  if (note) body.note = note
  try {
    await api('POST', `v1/reviews/${encodeURIComponent(decided.review_id)}/decision`, body)
  } catch (error) {
    showError(`The decision was not recorded: ${reviewProblem(error) ?? error.message}`)
    return
  }
  say(`${DECIDED[decision]} the review of ${decided.category ?? decided.kind ?? 'the file'}.`)
  const index = reviewIndex
  reviews.splice(index, 1)
  document.querySelector(`#reviews-list [data-review-id="${CSS.escape(decided.review_id)}"]`)?.parentElement.remove()
  review = null
  $('reviews-summary').textContent = reviews.length ? `${reviews.length} pending.` : 'No review is waiting.'
  if (reviews.length) selectReview(Math.min(index, reviews.length - 1))
  else $('review-detail').hidden = true
}

function reviewKeys (event) {
  if (currentView() !== 'reviews' || event.ctrlKey || event.metaKey || event.altKey) return
  if (event.target.closest('input, textarea, select, dialog')) return
  const actions = {
    j: () => selectReview(reviewIndex + 1),
    k: () => selectReview(reviewIndex - 1),
    a: () => decide('approve'),
    c: () => decide('correct'),
    r: () => decide('reject'),
  }
  const action = actions[event.key]
  if (!action) return
  event.preventDefault()
  action()
}

export function wireReviews () {
  $('refresh-reviews').addEventListener('click', loadReviews)
  for (const button of document.querySelectorAll('#review-form [data-decision]')) {
    button.addEventListener('click', () => decide(button.dataset.decision))
  }
  $('review-form').addEventListener('submit', (event) => event.preventDefault())
  document.addEventListener('keydown', reviewKeys)
}
