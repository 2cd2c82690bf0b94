// Fileflow's web page: sign in with a bearer token; upload with the stock Uppy Dashboard and
// @uppy/aws-s3 (companionEndpoint mode), resumable after a reload; the file list, one file's detail
// (live stages, analysis, derivatives, HLS playback), the review queue, webhooks and usage.
// Plain ES module, no build step; the page and the API share one origin (<api>/app/).
import { AwsS3, Dashboard, Uppy } from './uppy.min.mjs'

const TOKEN_KEY = 'fileflow.bearerToken'
// In-flight multipart uploads, per user: {upload_id, key, name, size, last_modified, type, started_at}.
const UPLOADS_KEY_PREFIX = 'fileflow.uploads.'
const MiB = 1024 * 1024
// The API's own part size: above it a file goes up as a multipart upload in parts of this size
// (each part retried on its own, resumable after a reload); at or below it, as one presigned form POST.
const PART_SIZE = 8 * MiB
// A new upload token this long before the current one expires (tokens live an hour).
const TOKEN_REFRESH_MARGIN_MS = 5 * 60 * 1000
const POLL_INTERVAL_MS = 2000
const POLL_LIMIT_MS = 10 * 60 * 1000
const EVENTS_WAIT_SECONDS = 20
const PAGE_SIZE = 25
const FINAL_STATUSES = new Set(['processed', 'needs_review', 'failed', 'rejected'])
const STATUS_LABELS = {
  uploading: 'Uploading',
  uploaded: 'Uploaded, waiting to be processed',
  processing: 'Processing',
  processed: 'Processed',
  needs_review: 'Needs review',
  failed: 'Processing failed',
  rejected: 'Rejected',
}
const STATE_LABELS = { started: 'running', succeeded: 'done', failed: 'failed' }
const VIEW_TITLES = {
  files: 'Your files',
  file: 'File',
  reviews: 'Review queue',
  webhooks: 'Webhooks',
  usage: 'Usage and cost',
}

// The API is the page's parent path: <api>/app/ -> <api>/ (stage or custom-domain base path kept).
const API_BASE = new URL('../', document.baseURI)

const $ = (id) => document.getElementById(id)

class ApiError extends Error {
  constructor (status, code, message) {
    super(message || `The API answered ${status}${code ? ` (${code})` : ''}.`)
    this.status = status
    this.code = code
  }
}

const state = {
  token: null,
  subject: null,
  uppy: null,
  refreshTimer: null,
  pollTimer: null,
  pollUntil: 0,
  view: null,
  files: new Map(), // file_id -> summary, as last listed
  listCursor: null,
  thumbs: new Map(), // file_id -> presigned thumbnail URL
  thumbObserver: null,
  detail: null, // {fileId, abort: AbortController, file, stages: Map}
  hls: null,
  reviews: [],
  reviewIndex: -1,
  review: null,
  notice: null, // what the next view says first
  resumable: [], // saved uploads the server still holds open, with their parts
}

// --- small helpers ------------------------------------------------------------------------------

function el (tag, props = {}, ...children) {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(props)) {
    if (value == null || value === false) continue
    if (name === 'class') node.className = value
    else if (name === 'text') node.textContent = value
    else if (name === 'dataset') Object.assign(node.dataset, value)
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value)
    else if (name in node && typeof value !== 'string') node[name] = value
    else node.setAttribute(name, value === true ? '' : value)
  }
  node.append(...children.filter((child) => child != null))
  return node
}

function formatSize (bytes) {
  if (bytes == null) return '—'
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = Number(bytes)
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit += 1
  }
  return unit === 0 ? `${value} ${units[0]}` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`
}

function formatTime (timestamp) {
  if (!timestamp) return '—'
  const date = new Date(timestamp)
  return Number.isNaN(date.getTime()) ? timestamp : date.toLocaleString()
}

function timeElement (timestamp) {
  return el('time', { dateTime: timestamp ?? '', text: formatTime(timestamp) })
}

function badge (status) {
  return el('span', { class: `badge badge-${status}`, dataset: { status }, text: STATUS_LABELS[status] ?? status })
}

function percent (value) {
  return typeof value === 'number' ? `${Math.round(value * 100)} %` : '—'
}

/** Any JSON value as readable markup: objects as definition lists, arrays as lists, long text as <pre>. */
function renderValue (value, depth = 0) {
  if (value == null || value === '') return el('span', { class: 'muted', text: '—' })
  if (Array.isArray(value)) {
    if (value.length === 0) return el('span', { class: 'muted', text: 'none' })
    if (value.every((item) => item == null || typeof item !== 'object')) return el('span', { text: value.join(', ') })
    return el('ol', { class: 'plain-list nested' }, ...value.slice(0, 50).map((item) => el('li', {}, renderValue(item, depth + 1))))
  }
  if (typeof value === 'object') {
    if (depth > 4) return el('code', { text: JSON.stringify(value).slice(0, 200) })
    const list = el('dl', { class: 'facts' })
    for (const [name, item] of Object.entries(value)) {
      list.append(el('dt', { text: name.replace(/_/g, ' ') }), el('dd', {}, renderValue(item, depth + 1)))
    }
    return list
  }
  if (typeof value === 'string' && (value.length > 120 || value.includes('\n'))) {
    return el('pre', { class: 'text-block', text: value.slice(0, 4000) })
  }
  return el('span', { text: String(value) })
}

/** The small thumbnail of a file's derivatives (thumb-128 first), or null. */
function pickThumbnail (derivatives, size = 128) {
  const thumbs = (derivatives ?? []).filter((d) => d.download?.url && /^thumb-/.test(d.name ?? ''))
  const preferred = thumbs.find((d) => d.name.startsWith(`thumb-${size}.`)) ||
    thumbs.find((d) => d.name.startsWith('thumb-')) ||
    (derivatives ?? []).find((d) => d.download?.url && d.name === 'poster.jpg')
  return preferred?.download?.url ?? null
}

// --- token --------------------------------------------------------------------------------------

/** A token in the URL fragment (#token=...) moves to sessionStorage and out of the address bar. */
function adoptTokenFromFragment () {
  const params = new URLSearchParams(window.location.hash.slice(1))
  const token = params.get('token')
  if (!token) return
  sessionStorage.setItem(TOKEN_KEY, token.trim())
  window.history.replaceState(null, '', window.location.pathname + window.location.search + '#/files')
}

/** The token's claims, for display only (the API verifies the token; the page never does). */
function claimsOf (token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')
    return JSON.parse(atob(payload)) || {}
  } catch {
    return {}
  }
}

// --- API ----------------------------------------------------------------------------------------

async function api (method, path, body, { signal } = {}) {
  let response
  try {
    response = await fetch(new URL(path, API_BASE), {
      method,
      headers: {
        Authorization: `Bearer ${state.token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      signal,
    })
  } catch (error) {
    if (error.name === 'AbortError') throw error
    throw new ApiError(0, 'NetworkError', 'The API could not be reached. Check your connection and try again.')
  }
  const payload = response.status === 204 ? null : await response.json().catch(() => null)
  if (!response.ok) {
    if (response.status === 401) expireSignIn()
    throw new ApiError(response.status, payload?.error?.code, payload?.error?.message)
  }
  return payload
}

function expireSignIn () {
  sessionStorage.removeItem(TOKEN_KEY)
  showSignIn('Your sign-in has expired or was refused. Get a new token and sign in again.')
}

// --- messages -----------------------------------------------------------------------------------

function say (message) {
  $('status').textContent = message
}

function showError (message) {
  const box = $('error')
  box.textContent = message
  box.hidden = !message
}

const confirmDialog = {
  /** Ask before a destructive action; resolves true when confirmed. Focus returns where it was. */
  ask (title, text, confirmLabel = 'Delete') {
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
  },
}

// --- sign-in ------------------------------------------------------------------------------------

function showSignIn (error) {
  stopPolling()
  stopDetail()
  clearTimeout(state.refreshTimer)
  state.uppy?.destroy()
  state.uppy = null
  state.token = null
  $('account').hidden = true
  $('nav').hidden = true
  for (const view of document.querySelectorAll('.view')) view.hidden = true
  $('sign-in').hidden = false
  $('page-title').textContent = 'Welcome to Fileflow'
  say('Sign in to upload files.')
  showError(error || '')
  $('token-input').focus()
}

function signOut () {
  sessionStorage.removeItem(TOKEN_KEY)
  showSignIn()
}

async function signIn (token) {
  state.token = token
  say('Signing in…')
  showError('')
  let minted
  try {
    minted = await api('POST', 'v1/upload-tokens')
  } catch (error) {
    if (error.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY)
      showSignIn(
        'This token was not accepted: it is expired, malformed, or not issued for this service. ' +
          'Get a new one (locally: make token USER=alice) and sign in again.',
      )
    } else {
      showSignIn(`Signing in failed: ${error.message}`)
    }
    return
  }
  const claims = claimsOf(token)
  state.subject = claims.sub || 'you'
  $('account-name').textContent = state.subject
  $('account').hidden = false
  $('nav').hidden = false
  $('sign-in').hidden = true
  state.notice = 'Signed in.'
  startUppy(minted)
  if (!/^#\//.test(window.location.hash)) window.history.replaceState(null, '', '#/files')
  route()
  loadResumable()
}

// --- views (hash routes) ------------------------------------------------------------------------

function parseRoute () {
  const path = window.location.hash.replace(/^#\/?/, '')
  const [first, second] = path.split('/').map(decodeURIComponent)
  if (first === 'files' && second) return { view: 'file', id: second }
  if (['reviews', 'webhooks', 'usage'].includes(first)) return { view: first }
  return { view: 'files' }
}

function route () {
  if (!state.token) return
  const target = parseRoute()
  stopDetail()
  if (target.view !== 'files') stopPolling()
  state.view = target.view
  for (const view of document.querySelectorAll('.view')) view.hidden = view.id !== `view-${target.view}`
  for (const link of document.querySelectorAll('#nav a')) {
    const current = link.dataset.view === target.view || (target.view === 'file' && link.dataset.view === 'files')
    if (current) link.setAttribute('aria-current', 'page')
    else link.removeAttribute('aria-current')
  }
  $('page-title').textContent = VIEW_TITLES[target.view]
  document.title = `Fileflow: ${VIEW_TITLES[target.view]}`
  showError('')
  // A message left for the next view (say, "x was deleted" before going back to the list), else none.
  say(state.notice ?? '')
  state.notice = null
  if (target.view === 'files') refreshFiles()
  else if (target.view === 'file') openFile(target.id)
  else if (target.view === 'reviews') loadReviews()
  else if (target.view === 'webhooks') loadWebhooks()
  else if (target.view === 'usage') loadUsage()
}

// --- Uppy and resumable uploads -----------------------------------------------------------------

function s3Options (uppyEndpoint) {
  return {
    // Companion's S3 routes under /uppy/{upload token}: the stock plugin sends no Authorization header.
    companionEndpoint: uppyEndpoint,
    shouldUseMultipart: (file) => (file.size ?? 0) > PART_SIZE,
    // The same part size on every run: a resumed upload's parts line up with the ones S3 holds.
    getChunkSize: () => PART_SIZE,
    // Only the size reaches the API: it binds a form POST to exactly that many bytes.
    allowedMetaFields: ['size'],
  }
}

function startUppy (minted) {
  const uppy = new Uppy({ id: 'fileflow', autoProceed: false })
    .use(Dashboard, {
      inline: true,
      target: '#dashboard',
      width: '100%',
      height: 320,
      theme: 'light',
      proudlyDisplayPoweredByUppy: false,
      showProgressDetails: true,
      doneButtonHandler: null,
    })
    .use(AwsS3, s3Options(minted.uppy_endpoint))
  uppy.on('file-added', (file) => {
    uppy.setFileMeta(file.id, { size: file.size })
    const saved = savedUploadFor(file.data)
    // The same file as an unfinished upload: the plugin resumes it (ListParts, then the missing parts).
    if (saved) uppy.setFileState(file.id, { s3Multipart: { uploadId: saved.upload_id, key: saved.key } })
  })
  // The plugin records a multipart upload's id on the file once it is created: keep it across reloads.
  uppy.on('state-update', (_previous, next) => {
    for (const file of Object.values(next.files ?? {})) {
      const multipart = file.s3Multipart
      if (multipart?.uploadId && file.data) rememberUpload(multipart, file.data)
    }
  })
  uppy.on('upload-success', (file, response) => {
    forgetUpload({ key: response.body?.key })
    if ((file.size ?? 0) <= PART_SIZE) {
      // A form POST is not completed by the plugin: the page completes it, as any other client does.
      completeFormUpload(response.body?.key).catch((error) => showError(`${file.name}: ${error.message}`))
    }
  })
  uppy.on('upload-error', (file, error) => showError(`${file.name} was not uploaded: ${error.message}`))
  uppy.on('complete', (result) => {
    const done = result.successful?.length ?? 0
    const failed = result.failed?.length ?? 0
    say(`${done} ${done === 1 ? 'file' : 'files'} uploaded${failed ? `, ${failed} failed` : ''}.`)
    renderResumable()
    if (state.view === 'files') refreshFiles()
  })
  state.uppy = uppy
  scheduleTokenRefresh(minted.expires_at)
}

function uploadsKey () {
  return UPLOADS_KEY_PREFIX + state.subject
}

function savedUploads () {
  try {
    const saved = JSON.parse(localStorage.getItem(uploadsKey()) || '[]')
    return Array.isArray(saved) ? saved : []
  } catch {
    return []
  }
}

function storeUploads (uploads) {
  if (uploads.length) localStorage.setItem(uploadsKey(), JSON.stringify(uploads))
  else localStorage.removeItem(uploadsKey())
}

function sameFile (saved, file) {
  return saved.name === file.name && saved.size === file.size && saved.last_modified === file.lastModified
}

function savedUploadFor (file) {
  return file ? savedUploads().find((saved) => sameFile(saved, file)) : undefined
}

function rememberUpload ({ uploadId, key }, file) {
  const uploads = savedUploads()
  if (uploads.some((saved) => saved.upload_id === uploadId)) return
  uploads.push({
    upload_id: uploadId,
    key,
    name: file.name,
    size: file.size,
    last_modified: file.lastModified,
    type: file.type,
    started_at: new Date().toISOString(),
  })
  storeUploads(uploads)
}

function forgetUpload ({ uploadId, key }) {
  storeUploads(savedUploads().filter((saved) => saved.upload_id !== uploadId && saved.key !== key))
}

/** The saved uploads the server still holds open, with how many parts it has; the others are dropped. */
async function loadResumable () {
  const open = []
  for (const saved of savedUploads()) {
    try {
      const session = await api('GET', `v1/uploads/${encodeURIComponent(saved.upload_id)}`)
      if (session.status !== 'initiated') {
        forgetUpload({ uploadId: saved.upload_id })
        continue
      }
      const parts = await listAllParts(saved.upload_id)
      open.push({ ...saved, parts })
    } catch (error) {
      if (error.status === 404) forgetUpload({ uploadId: saved.upload_id })
    }
  }
  state.resumable = open
  renderResumable()
}

async function listAllParts (uploadId) {
  const parts = []
  let cursor = null
  do {
    const page = await api('GET', `v1/uploads/${encodeURIComponent(uploadId)}/parts${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`)
    parts.push(...(page.parts ?? []))
    cursor = page.next_cursor
  } while (cursor)
  return parts
}

function renderResumable () {
  const stillSaved = new Set(savedUploads().map((saved) => saved.upload_id))
  const uploading = new Set(Object.values(state.uppy?.getState().files ?? {}).map((f) => f.s3Multipart?.uploadId).filter(Boolean))
  const open = (state.resumable ?? []).filter((u) => stillSaved.has(u.upload_id) && !uploading.has(u.upload_id))
  $('resume').hidden = open.length === 0
  $('resume-list').replaceChildren(...open.map((upload) => {
    const total = Math.max(1, Math.ceil(upload.size / PART_SIZE))
    const received = upload.parts.reduce((sum, part) => sum + (part.size ?? 0), 0)
    const inputId = `resume-${upload.upload_id}`
    const input = el('input', { id: inputId, type: 'file', class: 'resume-input', accept: upload.type || null })
    input.addEventListener('change', () => resumeWith(upload, input))
    return el('li', { dataset: { uploadId: upload.upload_id } },
      el('p', {},
        el('strong', { text: upload.name }),
        ` (${formatSize(upload.size)}): ${upload.parts.length} of ${total} parts (${formatSize(received)}) already on the server.`),
      el('label', { for: inputId, text: `Choose ${upload.name} again to resume` }),
      input,
      el('button', {
        type: 'button',
        class: 'button button-quiet',
        text: 'Discard',
        'aria-label': `Discard the unfinished upload of ${upload.name}`,
        onclick: () => discardUpload(upload),
      }),
    )
  }))
}

function resumeWith (upload, input) {
  const file = input.files?.[0]
  input.value = ''
  if (!file) return
  if (!sameFile(upload, file)) {
    showError(`${file.name} is not the file this upload started with: its name, size and date must match ${upload.name}.`)
    return
  }
  showError('')
  try {
    state.uppy.addFile({ name: file.name, type: file.type, data: file, source: 'resume' })
  } catch (error) {
    showError(`${file.name} could not be added: ${error.message}`)
    return
  }
  say(`Resuming ${file.name}: only the missing parts are sent.`)
  renderResumable()
  state.uppy.upload()
}

async function discardUpload (upload) {
  if (!await confirmDialog.ask('Discard this upload?', `The parts of ${upload.name} already sent are deleted.`, 'Discard')) return
  try {
    await api('DELETE', `v1/uploads/${encodeURIComponent(upload.upload_id)}`)
  } catch (error) {
    if (error.status !== 404 && error.status !== 409) {
      showError(`The upload could not be discarded: ${error.message}`)
      return
    }
  }
  forgetUpload({ uploadId: upload.upload_id })
  renderResumable()
  say(`The unfinished upload of ${upload.name} was discarded.`)
}

/** Swap the upload token before it expires; never in the middle of an upload (that would cancel it). */
function scheduleTokenRefresh (expiresAt) {
  clearTimeout(state.refreshTimer)
  const delay = Math.max(60_000, Date.parse(expiresAt) - Date.now() - TOKEN_REFRESH_MARGIN_MS)
  state.refreshTimer = setTimeout(refreshUploadToken, delay)
}

async function refreshUploadToken () {
  const uppy = state.uppy
  if (!uppy) return
  if (Object.keys(uppy.getState().currentUploads).length > 0) {
    uppy.once('complete', refreshUploadToken)
    return
  }
  try {
    const minted = await api('POST', 'v1/upload-tokens')
    uppy.removePlugin(uppy.getPlugin('AwsS3'))
    uppy.use(AwsS3, s3Options(minted.uppy_endpoint))
    scheduleTokenRefresh(minted.expires_at)
  } catch (error) {
    if (error.status !== 401) state.refreshTimer = setTimeout(refreshUploadToken, 60_000)
  }
}

/** Complete the upload a form POST made (key uploads/{user}/{file id}): the file names its upload. */
async function completeFormUpload (key) {
  const fileId = String(key || '').split('/').pop()
  if (!fileId) return
  const file = await api('GET', `v1/files/${encodeURIComponent(fileId)}`)
  const upload = file?.lineage?.upload
  if (upload?.status === 'initiated') {
    await api('POST', `v1/uploads/${encodeURIComponent(upload.upload_id)}/complete`)
  }
}

// --- the file list ------------------------------------------------------------------------------

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
  const row = el('li', { class: 'file-row', dataset: { fileId: file.file_id } },
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
  return row
}

function updateRow (row, file, previous) {
  const status = row.querySelector('.file-status')
  if (previous?.status !== file.status) {
    status.replaceChildren(badge(file.status))
    if (previous) say(`${file.filename ?? file.file_id}: ${STATUS_LABELS[file.status] ?? file.status}.`)
  }
  if (file.status === 'processed' || file.status === 'needs_review') observeThumb(row)
}

function renderFiles (files, { append = false } = {}) {
  const list = $('files-list')
  const rows = new Map([...list.children].map((row) => [row.dataset.fileId, row]))
  const ordered = []
  for (const file of files) {
    const previous = state.files.get(file.file_id)
    const row = rows.get(file.file_id) ?? fileRow(file)
    updateRow(row, file, rows.has(file.file_id) ? previous : undefined)
    state.files.set(file.file_id, file)
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
  const shown = [...list.children].map((row) => state.files.get(row.dataset.fileId)).filter(Boolean)
  const pending = shown.filter((file) => !FINAL_STATUSES.has(file.status)).length
  $('files-summary').textContent = shown.length === 0
    ? (searchQuery() ? 'No file matches this search.' : 'No files yet.')
    : `${shown.length} ${shown.length === 1 ? 'file' : 'files'}` +
      (pending ? `, ${pending} still being processed.` : ', all processed.')
  return pending
}

async function refreshFiles () {
  stopPolling()
  let listing
  try {
    listing = await api('GET', listPath(null))
  } catch (error) {
    if (error.status !== 401) $('files-summary').textContent = `Your files could not be listed: ${error.message}`
    return
  }
  if (state.view !== 'files') return
  state.listCursor = listing?.next_cursor ?? null
  $('files-more').hidden = !state.listCursor
  const pending = renderFiles(listing?.files ?? [])
  if (pending > 0) {
    state.pollUntil ||= Date.now() + POLL_LIMIT_MS
    if (Date.now() < state.pollUntil) {
      state.pollTimer = setTimeout(refreshFiles, POLL_INTERVAL_MS)
      return
    }
    $('files-summary').textContent += ' Select Refresh to check again.'
  }
  state.pollUntil = 0
}

async function moreFiles () {
  if (!state.listCursor) return
  try {
    const listing = await api('GET', listPath(state.listCursor))
    state.listCursor = listing?.next_cursor ?? null
    $('files-more').hidden = !state.listCursor
    renderFiles(listing?.files ?? [], { append: true })
  } catch (error) {
    showError(`More files could not be listed: ${error.message}`)
  }
}

function stopPolling () {
  clearTimeout(state.pollTimer)
  state.pollTimer = null
}

/** Thumbnails load when their row scrolls into view: one GET /v1/files/{id} each, for its presigned URL. */
function observeThumb (row) {
  if (row.dataset.thumb) return
  row.dataset.thumb = 'waiting'
  state.thumbObserver ??= new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue
      state.thumbObserver.unobserve(entry.target)
      loadThumb(entry.target)
    }
  }, { rootMargin: '200px' })
  state.thumbObserver.observe(row)
}

async function loadThumb (row) {
  const fileId = row.dataset.fileId
  let url = state.thumbs.get(fileId)
  if (!url) {
    try {
      url = pickThumbnail((await api('GET', `v1/files/${encodeURIComponent(fileId)}`)).derivatives)
    } catch {
      url = null
    }
  }
  row.dataset.thumb = url ? 'loaded' : 'none'
  if (!url) return
  state.thumbs.set(fileId, url)
  const image = row.querySelector('img.thumb')
  image.addEventListener('load', () => {
    image.hidden = false
    row.querySelector('.thumb-empty').hidden = true
  }, { once: true })
  image.src = url
}

async function deleteFile (fileId, name) {
  if (!await confirmDialog.ask('Delete this file?', `${name}, its derivatives and its history are deleted for good.`)) return
  try {
    await api('DELETE', `v1/files/${encodeURIComponent(fileId)}`)
  } catch (error) {
    if (error.status !== 404) {
      showError(`${name} could not be deleted: ${error.message}`)
      return
    }
  }
  state.files.delete(fileId)
  if (state.view === 'file') {
    state.notice = `${name} was deleted.`
    window.location.hash = '#/files'
    return
  }
  say(`${name} was deleted.`)
  document.querySelector(`#files-list [data-file-id="${CSS.escape(fileId)}"]`)?.remove()
  renderFiles([...$('files-list').children].map((row) => state.files.get(row.dataset.fileId)).filter(Boolean), { append: true })
  $('search-q').focus()
}

// --- one file: details, live stages, analysis, derivatives, video ---------------------------------

function stopDetail () {
  state.detail?.abort.abort()
  state.detail = null
  state.hls?.destroy()
  state.hls = null
}

async function openFile (fileId) {
  const abort = new AbortController()
  state.detail = { fileId, abort, stages: new Map(), file: null }
  $('file-title').textContent = 'Loading…'
  $('timeline').replaceChildren()
  $('analysis').replaceChildren()
  $('derivatives').replaceChildren()
  $('player-panel').hidden = true
  $('file-thumb').hidden = true
  $('timeline-live').textContent = ''
  let file
  try {
    file = await api('GET', `v1/files/${encodeURIComponent(fileId)}`, undefined, { signal: abort.signal })
  } catch (error) {
    if (error.name === 'AbortError') return
    $('file-title').textContent = error.status === 404 ? 'File not found' : 'This file could not be read'
    showError(error.status === 404 ? 'No file of yours has this id (it may have been deleted).' : error.message)
    return
  }
  renderDetail(file)
  for (const event of file.stages ?? []) addStageEvent(event)
  $('page-title').focus?.()
  followEvents(fileId, file.stages?.at(-1)?.cursor ?? null, abort.signal)
}

function renderDetail (file) {
  const detail = state.detail
  if (!detail) return
  detail.file = file
  const name = file.filename ?? file.file_id
  $('file-title').textContent = name
  document.title = `Fileflow: ${name}`
  $('file-meta').replaceChildren(
    `${formatSize(file.size)} · ${file.detected_type || file.content_type || 'unknown type'} · added `,
    timeElement(file.created_at),
  )
  $('file-status').replaceWith(Object.assign(badge(file.status), { id: 'file-status' }))
  const download = $('file-download')
  download.hidden = !file.original?.download?.url
  if (file.original?.download?.url) download.href = file.original.download.url
  $('file-delete').onclick = () => deleteFile(file.file_id, name)
  const thumb = pickThumbnail(file.derivatives, 512)
  $('file-thumb').hidden = !thumb
  if (thumb && $('file-thumb').src !== thumb) $('file-thumb').src = thumb
  $('tags-input').value = (file.tags ?? []).join(', ')
  $('tags-form').dataset.version = file.tags_version ?? ''
  renderAnalysis(file)
  renderDerivatives(file.derivatives ?? [])
  renderPlayer(file)
}

function addStageEvent (event) {
  const detail = state.detail
  if (!detail) return
  let item = detail.stages.get(event.stage)
  if (!item) {
    item = el('li', { class: 'stage', dataset: { stage: event.stage } },
      el('span', { class: 'stage-name', text: event.stage }),
      el('span', { class: 'stage-state' }),
      el('span', { class: 'stage-time' }))
    detail.stages.set(event.stage, item)
    $('timeline').append(item)
  }
  item.dataset.state = event.state
  const duration = event.detail?.duration_ms
  item.querySelector('.stage-state').textContent = STATE_LABELS[event.state] ?? event.state
  item.querySelector('.stage-time').replaceChildren(timeElement(event.at), duration != null ? ` (${duration} ms)` : null)
}

/** The events long-poll: each answer's events join the timeline; the file is read again when it changes. */
async function followEvents (fileId, after, signal) {
  let cursor = after
  let lastStatus = state.detail?.file?.status
  $('timeline-live').textContent = 'Following the processing live.'
  while (!signal.aborted) {
    let answer
    try {
      const query = new URLSearchParams({ wait: String(EVENTS_WAIT_SECONDS) })
      if (cursor) query.set('after', cursor)
      answer = await api('GET', `v1/files/${encodeURIComponent(fileId)}/events?${query}`, undefined, { signal })
    } catch (error) {
      if (error.name === 'AbortError' || signal.aborted) return
      $('timeline-live').textContent = `Live updates stopped: ${error.message}`
      return
    }
    for (const event of answer.events ?? []) {
      addStageEvent(event)
      $('timeline-live').textContent = `${event.stage}: ${STATE_LABELS[event.state] ?? event.state}.`
    }
    cursor = answer.cursor ?? cursor
    const finished = FINAL_STATUSES.has(answer.status) && answer.stage === 'notify' && !(answer.events ?? []).length
    if (answer.status !== lastStatus || (answer.events ?? []).some((e) => e.state !== 'started') || finished) {
      lastStatus = answer.status
      try {
        const file = await api('GET', `v1/files/${encodeURIComponent(fileId)}`, undefined, { signal })
        renderDetail(file)
      } catch (error) {
        if (error.name === 'AbortError') return
      }
    }
    if (finished) {
      $('timeline-live').textContent = `Processing finished: ${STATUS_LABELS[answer.status] ?? answer.status}.`
      return
    }
    if (answer.more) continue
  }
}

function section (title, ...content) {
  return el('section', { class: 'analysis-part' }, el('h3', { text: title }), ...content)
}

function renderAnalysis (file) {
  const analysis = file.analysis ?? {}
  const features = analysis.features ?? {}
  const ai = analysis.ai ?? {}
  const parts = []
  const aiResult = ai.result ?? {}
  const aiStatus = file.ai_status ?? ai.status
  if (aiStatus || Object.keys(aiResult).length) {
    const summary = aiResult.summary ?? aiResult.description
    parts.push(section('AI',
      el('p', {}, `Status: ${aiStatus ?? '—'}`, ai.confidence != null || aiResult.confidence != null
        ? ` · confidence ${percent(ai.confidence ?? aiResult.confidence)}` : null,
      ai.model ? ` · ${ai.model}` : null, ai.rejected ? ' · rejected by a reviewer' : null),
      summary ? el('p', { class: 'ai-summary', text: summary }) : null,
      aiResult.tags?.length ? el('p', {}, `Tags: ${aiResult.tags.join(', ')}`) : null,
      aiResult.category ? el('p', {}, `Category: ${aiResult.category}`) : null,
    ))
  }
  const review = file.review ?? analysis.review
  if (review) parts.push(section('Review', renderValue(review)))
  const ocr = features.ocr?.text ?? features.ocr_text ?? features.text?.ocr ?? aiResult.text
  if (ocr) parts.push(section('Text found in the file', el('pre', { class: 'text-block', text: String(ocr).slice(0, 4000) })))
  const duplicates = features.duplicates ?? analysis.duplicates
  if (Array.isArray(duplicates) && duplicates.length) {
    parts.push(section('Duplicates', el('ul', { class: 'plain-list' }, ...duplicates.map((dup) => {
      const id = typeof dup === 'string' ? dup : dup.file_id
      const label = typeof dup === 'string' ? dup : `${dup.filename ?? dup.file_id}${dup.kind ? ` (${dup.kind})` : ''}${dup.distance != null ? `, distance ${dup.distance}` : ''}`
      return el('li', {}, id ? el('a', { href: `#/files/${encodeURIComponent(id)}`, text: label }) : label)
    }))))
  }
  if (analysis.summary && Object.keys(analysis.summary).length) parts.push(section('Summary', renderValue(analysis.summary)))
  if (Object.keys(features).length) {
    parts.push(el('details', { class: 'analysis-part' }, el('summary', { text: 'Local features' }), renderValue(features)))
  }
  const rest = Object.fromEntries(Object.entries(analysis).filter(([key]) => !['summary', 'features', 'ai', 'review', 'duplicates'].includes(key)))
  if (Object.keys(rest).length) parts.push(el('details', { class: 'analysis-part' }, el('summary', { text: 'Other results' }), renderValue(rest)))
  if (file.processing_error) parts.push(section('Error', renderValue(file.processing_error)))
  $('analysis').replaceChildren(...(parts.length ? parts : [el('p', { class: 'help', text: 'No analysis yet.' })]))
}

function renderDerivatives (derivatives) {
  $('derivatives').replaceChildren(...(derivatives.length
    ? derivatives.map((d) => el('li', { class: 'derivative' },
      el('span', { class: 'derivative-name', text: d.name }),
      ` ${d.content_type ?? ''} · ${formatSize(d.size)} `,
      d.download?.url ? el('a', { href: d.download.url, download: d.name, text: 'Download', 'aria-label': `Download ${d.name}` }) : null))
    : [el('li', { class: 'help', text: 'None yet.' })]))
}

const HLS_MASTER = 'hls-master.m3u8'

async function renderPlayer (file) {
  const hasPlaylist = (file.derivatives ?? []).some((d) => d.name === HLS_MASTER)
  if (!hasPlaylist || state.hls) return
  const panel = $('player-panel')
  const video = $('player')
  panel.hidden = false
  const poster = (file.derivatives ?? []).find((d) => d.name === 'poster.jpg')?.download?.url
  if (poster) video.poster = poster
  const playlist = new URL(`v1/files/${encodeURIComponent(file.file_id)}/hls/${HLS_MASTER}`, API_BASE).href
  const apiPrefix = new URL('v1/', API_BASE).href
  let Hls
  try {
    ({ default: Hls } = await import('./hls.min.mjs'))
  } catch {
    $('player-note').textContent = 'The video player could not be loaded.'
    return
  }
  if (!state.detail || state.detail.fileId !== file.file_id || state.hls) return
  if (!Hls.isSupported()) {
    $('player-note').textContent = 'This browser cannot play the video here (no Media Source Extensions).'
    return
  }
  const hls = new Hls({
    // No worker: it would need a blob: worker-src in the page's CSP.
    enableWorker: false,
    xhrSetup (xhr, url) {
      xhr.open('GET', url, true)
      // The bearer token goes to the API's playlist route only, never to S3's presigned segment URLs.
      if (url.startsWith(apiPrefix)) xhr.setRequestHeader('Authorization', `Bearer ${state.token}`)
    },
  })
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (data.fatal) $('player-note').textContent = `Playback failed: ${data.details}.`
  })
  hls.loadSource(playlist)
  hls.attachMedia(video)
  state.hls = hls
  $('player-note').textContent = 'Ready to play.'
}

async function saveTags (event) {
  event.preventDefault()
  const file = state.detail?.file
  if (!file) return
  const tags = $('tags-input').value.split(',').map((tag) => tag.trim()).filter(Boolean)
  try {
    const saved = await api('PUT', `v1/files/${encodeURIComponent(file.file_id)}/tags`, { tags })
    $('tags-input').value = saved.tags.join(', ')
    file.tags = saved.tags
    file.tags_version = saved.tags_version
    say(`Tags saved: ${saved.tags.join(', ') || 'none'}.`)
  } catch (error) {
    showError(`The tags were not saved: ${error.message}`)
  }
}

// --- the review queue ---------------------------------------------------------------------------

function reviewsUnavailable (error) {
  if (error.status === 404) return 'The review queue is not available on this deployment: the API has no review routes yet.'
  if (error.status === 403) return 'Your account is not a reviewer: the review queue needs a token whose roles claim includes reviewer.'
  return `The review queue could not be read: ${error.message}`
}

async function loadReviews () {
  $('review-detail').hidden = true
  $('reviews-list').replaceChildren()
  $('reviews-summary').textContent = 'Loading…'
  let listing
  try {
    listing = await api('GET', 'v1/reviews?status=pending&limit=50')
  } catch (error) {
    $('reviews-summary').textContent = reviewsUnavailable(error)
    return
  }
  state.reviews = listing.reviews ?? []
  $('reviews-summary').textContent = state.reviews.length
    ? `${state.reviews.length} pending ${state.reviews.length === 1 ? 'review' : 'reviews'}.`
    : 'No review is waiting.'
  $('reviews-list').replaceChildren(...state.reviews.map((review, index) => el('li', {},
    el('button', {
      type: 'button',
      class: 'review-item',
      dataset: { reviewId: review.review_id },
      onclick: () => selectReview(index),
    },
    el('strong', { text: review.category || review.kind || 'review' }),
    ` · confidence ${percent(review.confidence)} · `,
    timeElement(review.created_at)))))
  if (state.reviews.length) selectReview(0, { focus: false })
}

async function selectReview (index, { focus = true } = {}) {
  if (index < 0 || index >= state.reviews.length) return
  state.reviewIndex = index
  const summary = state.reviews[index]
  for (const button of document.querySelectorAll('#reviews-list .review-item')) {
    button.setAttribute('aria-pressed', String(button.dataset.reviewId === summary.review_id))
  }
  if (focus) document.querySelector(`#reviews-list [data-review-id="${CSS.escape(summary.review_id)}"]`)?.focus()
  let review
  try {
    review = await api('GET', `v1/reviews/${encodeURIComponent(summary.review_id)}`)
  } catch (error) {
    showError(reviewsUnavailable(error))
    return
  }
  if (state.reviews[state.reviewIndex]?.review_id !== review.review_id) return
  state.review = review
  $('review-detail').hidden = false
  $('review-title').textContent = `${review.kind ?? 'File'} · ${review.category ?? ''} · confidence ${percent(review.confidence)}`
  const thumb = $('review-thumb')
  thumb.hidden = !review.thumbnail?.url
  if (review.thumbnail?.url) thumb.src = review.thumbnail.url
  const result = review.ai?.result ?? review.ai ?? {}
  $('review-body').replaceChildren(
    review.excerpt ? section('Text excerpt', el('pre', { class: 'text-block', text: review.excerpt })) : null,
    section('AI result', renderValue(result)),
    review.features ? el('details', { class: 'analysis-part' }, el('summary', { text: 'Local features' }), renderValue(review.features)) : null,
  )
  $('review-fields').hidden = true
  $('review-note').value = ''
  $('review-field-list').replaceChildren(...Object.entries(result)
    .filter(([, value]) => value == null || typeof value !== 'object' || (Array.isArray(value) && value.every((v) => typeof v !== 'object')))
    .map(([name, value]) => {
      const id = `review-field-${name}`
      const shown = Array.isArray(value) ? value.join(', ') : (value ?? '')
      return el('div', { class: 'field' },
        el('label', { for: id, text: name.replace(/_/g, ' ') }),
        el('input', { id, type: 'text', value: String(shown), dataset: { field: name, kind: Array.isArray(value) ? 'list' : typeof value }, autocomplete: 'off' }))
    }))
}

function reviewChanges () {
  const result = state.review?.ai?.result ?? state.review?.ai ?? {}
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
  const review = state.review
  if (!review) return
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
    await api('POST', `v1/reviews/${encodeURIComponent(review.review_id)}/decision`, body)
  } catch (error) {
    showError(`The decision was not recorded: ${reviewsUnavailable(error).replace(/^The review queue could not be read: /, '')}`)
    return
  }
  const verbs = { approve: 'Approved', correct: 'Corrected', reject: 'Rejected' }
  say(`${verbs[decision]} the review of ${review.category ?? review.kind ?? 'the file'}.`)
  const index = state.reviewIndex
  state.reviews.splice(index, 1)
  document.querySelector(`#reviews-list [data-review-id="${CSS.escape(review.review_id)}"]`)?.parentElement.remove()
  state.review = null
  $('reviews-summary').textContent = state.reviews.length ? `${state.reviews.length} pending.` : 'No review is waiting.'
  if (state.reviews.length) selectReview(Math.min(index, state.reviews.length - 1))
  else $('review-detail').hidden = true
}

function reviewKeys (event) {
  if (state.view !== 'reviews' || event.ctrlKey || event.metaKey || event.altKey) return
  if (event.target.closest('input, textarea, select, dialog')) return
  const actions = {
    j: () => selectReview(state.reviewIndex + 1),
    k: () => selectReview(state.reviewIndex - 1),
    a: () => decide('approve'),
    c: () => decide('correct'),
    r: () => decide('reject'),
  }
  const action = actions[event.key]
  if (!action) return
  event.preventDefault()
  action()
}

// --- webhooks -----------------------------------------------------------------------------------

async function loadWebhooks () {
  $('webhooks-summary').textContent = 'Loading…'
  let listing
  try {
    listing = await api('GET', 'v1/webhooks')
  } catch (error) {
    $('webhooks-summary').textContent = error.status === 404
      ? 'Webhooks are not available on this deployment.'
      : `Your webhook endpoints could not be listed: ${error.message}`
    $('webhooks-list').replaceChildren()
    return
  }
  const endpoints = listing.webhooks ?? []
  $('webhooks-summary').textContent = endpoints.length
    ? `${endpoints.length} ${endpoints.length === 1 ? 'endpoint' : 'endpoints'}.`
    : 'No endpoint yet.'
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
  if (!await confirmDialog.ask('Delete this endpoint?', `Nothing more is delivered to ${endpoint.url}.`)) return
  try {
    await api('DELETE', `v1/webhooks/${encodeURIComponent(endpoint.endpoint_id)}`)
    say(`The endpoint ${endpoint.url} was deleted.`)
  } catch (error) {
    if (error.status !== 404) showError(`The endpoint was not deleted: ${error.message}`)
  }
  loadWebhooks()
}

// --- usage --------------------------------------------------------------------------------------

async function loadUsage () {
  $('usage-summary').textContent = 'Loading…'
  $('usage').replaceChildren()
  let usage
  try {
    usage = await api('GET', 'v1/usage')
  } catch (error) {
    $('usage-summary').textContent = error.status === 404
      ? 'Usage figures are not available on this deployment yet.'
      : `Your usage could not be read: ${error.message}`
    return
  }
  $('usage-summary').textContent = 'Your storage, and the AI analysis tokens and cost, as the API counts them.'
  $('usage').replaceChildren(renderValue(usage))
}

// --- start --------------------------------------------------------------------------------------

function main () {
  $('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault()
    const token = $('token-input').value.trim()
    if (!token) {
      showError('Paste a bearer token first.')
      $('token-input').focus()
      return
    }
    sessionStorage.setItem(TOKEN_KEY, token)
    $('token-input').value = ''
    signIn(token)
  })
  $('sign-out').addEventListener('click', signOut)
  $('refresh-files').addEventListener('click', () => {
    state.pollUntil = 0
    refreshFiles()
  })
  $('files-more').addEventListener('click', moreFiles)
  $('search-form').addEventListener('submit', (event) => {
    event.preventDefault()
    state.pollUntil = 0
    refreshFiles()
  })
  $('search-clear').addEventListener('click', () => {
    $('search-form').reset()
    state.pollUntil = 0
    refreshFiles()
  })
  $('tags-form').addEventListener('submit', saveTags)
  $('refresh-reviews').addEventListener('click', loadReviews)
  for (const button of document.querySelectorAll('#review-form [data-decision]')) {
    button.addEventListener('click', () => decide(button.dataset.decision))
  }
  $('review-form').addEventListener('submit', (event) => event.preventDefault())
  document.addEventListener('keydown', reviewKeys)
  $('webhook-form').addEventListener('submit', addWebhook)
  window.addEventListener('hashchange', () => {
    // A link with #token=... opened in a tab that already shows the page: sign in with that token.
    if (new URLSearchParams(window.location.hash.slice(1)).has('token')) {
      adoptTokenFromFragment()
      showSignIn()
      signIn(sessionStorage.getItem(TOKEN_KEY))
      return
    }
    route()
  })
  adoptTokenFromFragment()
  const token = sessionStorage.getItem(TOKEN_KEY)
  if (token) {
    signIn(token)
  } else {
    showSignIn()
  }
}

main()
