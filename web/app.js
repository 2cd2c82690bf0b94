// Fileflow's upload page: sign in with a bearer token, upload with the stock Uppy Dashboard and
// @uppy/aws-s3 (companionEndpoint mode), then list the user's files until they are processed.
// Plain ES module, no build step; the page and the API share one origin (<api>/app/).
import { AwsS3, Dashboard, Uppy } from './uppy.min.mjs'

const TOKEN_KEY = 'fileflow.bearerToken'
const MiB = 1024 * 1024
// The API's own part size: above it a file goes up as a multipart upload in parts of this size
// (each part retried on its own); at or below it, as one presigned form POST.
const PART_SIZE = 8 * MiB
// A new upload token this long before the current one expires (tokens live an hour).
const TOKEN_REFRESH_MARGIN_MS = 5 * 60 * 1000
const POLL_INTERVAL_MS = 2000
const POLL_LIMIT_MS = 10 * 60 * 1000
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
  uppy: null,
  refreshTimer: null,
  pollTimer: null,
  pollUntil: 0,
}

// --- token --------------------------------------------------------------------------------------

/** A token in the URL fragment (#token=...) moves to sessionStorage and out of the address bar. */
function adoptTokenFromFragment () {
  const params = new URLSearchParams(window.location.hash.slice(1))
  const token = params.get('token')
  if (!token) return
  sessionStorage.setItem(TOKEN_KEY, token.trim())
  params.delete('token')
  const rest = params.toString()
  window.history.replaceState(null, '', window.location.pathname + window.location.search + (rest ? `#${rest}` : ''))
}

/** The token's subject, for display only (the API verifies the token; the page never does). */
function subjectOf (token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')
    return JSON.parse(atob(payload)).sub || null
  } catch {
    return null
  }
}

// --- API ----------------------------------------------------------------------------------------

async function api (method, path, body) {
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
    })
  } catch {
    throw new ApiError(0, 'NetworkError', 'The API could not be reached. Check your connection and try again.')
  }
  const payload = await response.json().catch(() => null)
  if (!response.ok) {
    throw new ApiError(response.status, payload?.error?.code, payload?.error?.message)
  }
  return payload
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

function show (section) {
  for (const id of ['sign-in', 'uploader', 'files']) {
    $(id).hidden = !section.includes(id)
  }
}

// --- sign-in ------------------------------------------------------------------------------------

function showSignIn (error) {
  stopPolling()
  clearTimeout(state.refreshTimer)
  state.uppy?.destroy()
  state.uppy = null
  state.token = null
  $('account').hidden = true
  show(['sign-in'])
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
  $('account-name').textContent = subjectOf(token) || 'you'
  $('account').hidden = false
  show(['uploader', 'files'])
  say('Signed in. Add files to upload them.')
  startUppy(minted)
  await refreshFiles()
}

// --- Uppy ---------------------------------------------------------------------------------------

function s3Options (uppyEndpoint) {
  return {
    // Companion's S3 routes under /uppy/{upload token}: the stock plugin sends no Authorization header.
    companionEndpoint: uppyEndpoint,
    shouldUseMultipart: (file) => (file.size ?? 0) > PART_SIZE,
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
      height: 360,
      theme: 'light',
      proudlyDisplayPoweredByUppy: false,
      showProgressDetails: true,
      doneButtonHandler: null,
    })
    .use(AwsS3, s3Options(minted.uppy_endpoint))
  uppy.on('file-added', (file) => uppy.setFileMeta(file.id, { size: file.size }))
  uppy.on('upload-success', (file, response) => {
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
    refreshFiles()
  })
  state.uppy = uppy
  scheduleTokenRefresh(minted.expires_at)
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
    if (error.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY)
      showSignIn('Your sign-in has expired. Get a new token and sign in again.')
    } else {
      state.refreshTimer = setTimeout(refreshUploadToken, 60_000)
    }
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

function renderFiles (files) {
  const body = $('files-body')
  body.replaceChildren(
    ...files.map((file) => {
      const row = document.createElement('tr')
      row.dataset.fileId = file.file_id
      const name = document.createElement('td')
      name.textContent = file.filename ?? file.file_id
      const size = document.createElement('td')
      size.className = 'numeric'
      size.textContent = formatSize(file.size)
      const added = document.createElement('td')
      const time = document.createElement('time')
      time.dateTime = file.created_at ?? ''
      time.textContent = formatTime(file.created_at)
      added.append(time)
      const status = document.createElement('td')
      const badge = document.createElement('span')
      badge.className = `badge badge-${file.status}`
      badge.dataset.status = file.status
      badge.textContent = STATUS_LABELS[file.status] ?? file.status
      status.append(badge)
      row.append(name, size, added, status)
      return row
    }),
  )
  $('files-table').hidden = files.length === 0
  const pending = files.filter((file) => !FINAL_STATUSES.has(file.status)).length
  $('files-summary').textContent = files.length === 0
    ? 'No files yet.'
    : `${files.length} ${files.length === 1 ? 'file' : 'files'}` +
      (pending ? `, ${pending} still being processed.` : ', all processed.')
  return pending
}

async function refreshFiles () {
  stopPolling()
  let listing
  try {
    listing = await api('GET', 'v1/files?limit=50')
  } catch (error) {
    if (error.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY)
      showSignIn('Your sign-in has expired. Get a new token and sign in again.')
      return
    }
    $('files-summary').textContent = `Your files could not be listed: ${error.message}`
    return
  }
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

function stopPolling () {
  clearTimeout(state.pollTimer)
  state.pollTimer = null
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
  // A link with #token=... opened in a tab that already shows the page: sign in with that token.
  window.addEventListener('hashchange', () => {
    if (!new URLSearchParams(window.location.hash.slice(1)).has('token')) return
    adoptTokenFromFragment()
    showSignIn()
    signIn(sessionStorage.getItem(TOKEN_KEY))
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
