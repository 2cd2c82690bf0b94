// #/files: the user's files (or a search), listed again every 2 s while one is not final; rows are kept
// and updated in place, their thumbnails loaded as they scroll into view.
import { api, getFile } from './api.js'
import { $, count, el, formatSize, timeElement } from './dom.js'
import { confirmAction, say, showError } from './messages.js'
import { currentView, leaveNotice } from './router.js'
import { badge, FINAL_STATUSES, statusLabel } from './status.js'

const POLL_INTERVAL_MS = 2000
const POLL_LIMIT_MS = 10 * 60 * 1000
const PAGE_SIZE = 25

const files = new Map() // file_id -> summary, as last listed
const thumbs = new Map() // file_id -> presigned thumbnail URL
let thumbObserver = null
let listCursor = null
let pollTimer = null
let pollUntil = 0

/** The small thumbnail of a file's derivatives (thumb-128 first), or null. */
export function pickThumbnail (derivatives, size = 128) {
  const thumbnails = (derivatives ?? []).filter((d) => d.download?.url && /^thumb-/.test(d.name ?? ''))
  const preferred = thumbnails.find((d) => d.name.startsWith(`thumb-${size}.`)) ||
    thumbnails.find((d) => d.name.startsWith('thumb-')) ||
    (derivatives ?? []).find((d) => d.download?.url && d.name === 'poster.jpg')
  return preferred?.download?.url ?? null
}

function searchQuery () {
  const q = $('search-q').value.trim()
  const tag = $('search-tag').value.trim().toLowerCase()
  if (!q && !tag) return null
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) })
  if (q) params.set('q', q)
  if (q) params.set('match', $('search-match').value)
  if (tag) params.set('tag', tag)
  return params
}

function listPath (cursor) {
  const search = searchQuery()
  const params = search ?? new URLSearchParams({ limit: String(PAGE_SIZE) })
  if (cursor) params.set('cursor', cursor)
  return `${search ? 'v1/files/search' : 'v1/files'}?${params}`
}

function fileRow (file) {
  const name = file.filename ?? file.file_id
  // Lazy through loadThumb's IntersectionObserver (a hidden img with loading=lazy would never load).
  const thumb = el('img', { class: 'thumb', alt: '', width: 64, height: 64, decoding: 'async', hidden: true })
  const placeholder = el('span', { class: 'thumb thumb-empty', 'aria-hidden': 'true', text: (file.detected_type || file.content_type || '?').split('/')[0].slice(0, 5) })
  return el('li', { class: 'file-row', dataset: { fileId: file.file_id } },
    el('div', { class: 'thumb-box' }, thumb, placeholder),
    el('div', { class: 'file-main' },
      el('a', { class: 'file-name', href: `#/files/${encodeURIComponent(file.file_id)}`, text: name }),
      el('p', { class: 'file-facts' }, `${formatSize(file.size)} · `, timeElement(file.created_at),
        (file.tags ?? []).length ? ` · ${file.tags.join(', ')}` : null),
    ),
    el('div', { class: 'file-status' }, badge(file.status)),
    el('button', {
      type: 'button',
      class: 'button button-quiet button-danger-quiet',
      text: 'Delete',
      'aria-label': `Delete ${name}`,
      onclick: () => deleteFile(file.file_id, name),
    }),
  )
}

function updateRow (row, file, previous) {
  const status = row.querySelector('.file-status')
  if (previous?.status !== file.status) {
    status.replaceChildren(badge(file.status))
    if (previous) say(`${file.filename ?? file.file_id}: ${statusLabel(file.status)}.`)
  }
  if (file.status === 'processed' || file.status === 'needs_review') observeThumb(row)
}

/** The files whose rows are in the list, in its order. */
function shownFiles () {
  return [...$('files-list').children].map((row) => files.get(row.dataset.fileId)).filter(Boolean)
}

function renderFiles (listed, { append = false } = {}) {
  const list = $('files-list')
  const rows = new Map([...list.children].map((row) => [row.dataset.fileId, row]))
  const ordered = []
  for (const file of listed) {
    const previous = files.get(file.file_id)
    const row = rows.get(file.file_id) ?? fileRow(file)
    updateRow(row, file, rows.has(file.file_id) ? previous : undefined)
    files.set(file.file_id, file)
    ordered.push(row)
    rows.delete(file.file_id)
  }
  if (append) {
    list.append(...ordered)
  } else {
    for (const gone of rows.values()) gone.remove()
    // Keep the rows (and their loaded thumbnails) in place; only insert or move what changed.
    ordered.forEach((row, index) => {
      if (list.children[index] !== row) list.insertBefore(row, list.children[index] ?? null)
    })
  }
  const shown = shownFiles()
  const pending = shown.filter((file) => !FINAL_STATUSES.has(file.status)).length
  $('files-summary').textContent = shown.length === 0
    ? (searchQuery() ? 'No file matches this search.' : 'No files yet.')
    : count(shown.length, 'file') + (pending ? `, ${pending} still being processed.` : ', all processed.')
  return pending
}

/** One page of a listing into the list; how many of the files shown are not final yet. */
function showListing (listing, options) {
  listCursor = listing?.next_cursor ?? null
  $('files-more').hidden = !listCursor
  return renderFiles(listing?.files ?? [], options)
}

export async function refreshFiles () {
  stopPolling()
  let listing
  try {
    listing = await api('GET', listPath(null))
  } catch (error) {
    if (error.status !== 401) $('files-summary').textContent = `Your files could not be listed: ${error.message}`
    return
  }
  if (currentView() !== 'files') return
  const pending = showListing(listing)
  if (pending > 0) {
    pollUntil ||= Date.now() + POLL_LIMIT_MS
    if (Date.now() < pollUntil) {
      pollTimer = setTimeout(refreshFiles, POLL_INTERVAL_MS)
      return
    }
    $('files-summary').textContent += ' Select Refresh to check again.'
  }
  pollUntil = 0
}

/** List again from the first page, polling for another 10 minutes. */
function listAgain () {
  pollUntil = 0
  refreshFiles()
}

async function moreFiles () {
  if (!listCursor) return
  try {
    showListing(await api('GET', listPath(listCursor)), { append: true })
  } catch (error) {
    showError(`More files could not be listed: ${error.message}`)
  }
}

export function stopPolling () {
  clearTimeout(pollTimer)
  pollTimer = null
}

/** Thumbnails load when their row scrolls into view: one GET /v1/files/{id} each, for its presigned URL. */
function observeThumb (row) {
  if (row.dataset.thumb) return
  row.dataset.thumb = 'waiting'
  thumbObserver ??= new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue
      thumbObserver.unobserve(entry.target)
      loadThumb(entry.target)
    }
  }, { rootMargin: '200px' })
  thumbObserver.observe(row)
}

async function loadThumb (row) {
  const fileId = row.dataset.fileId
  let url = thumbs.get(fileId)
  if (!url) {
    try {
      url = pickThumbnail((await getFile(fileId)).derivatives)
    } catch {
      url = null
    }
  }
  row.dataset.thumb = url ? 'loaded' : 'none'
  if (!url) return
  thumbs.set(fileId, url)
  const image = row.querySelector('img.thumb')
  image.addEventListener('load', () => {
    image.hidden = false
    row.querySelector('.thumb-empty').hidden = true
  }, { once: true })
  image.src = url
}

/** Delete a file after confirmation, from the list or from its detail (which then goes back to the list). */
export async function deleteFile (fileId, name) {
  if (!await confirmAction('Delete this file?', `${name}, its derivatives and its history are deleted for good.`)) return
  try {
    await api('DELETE', `v1/files/${encodeURIComponent(fileId)}`)
  } catch (error) {
    if (error.status !== 404) {
      showError(`${name} could not be deleted: ${error.message}`)
      return
    }
  }
  files.delete(fileId)
  if (currentView() === 'file') {
    leaveNotice(`${name} was deleted.`)
    window.location.hash = '#/files'
    return
  }
  say(`${name} was deleted.`)
  document.querySelector(`#files-list [data-file-id="${CSS.escape(fileId)}"]`)?.remove()
  renderFiles(shownFiles(), { append: true })
  $('search-q').focus()
}

export function wireFiles () {
  $('refresh-files').addEventListener('click', listAgain)
  $('files-more').addEventListener('click', moreFiles)
  $('search-form').addEventListener('submit', (event) => {
    event.preventDefault()
    listAgain()
  })
  $('search-clear').addEventListener('click', () => {
    $('search-form').reset()
    listAgain()
  })
}
