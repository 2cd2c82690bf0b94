// Resuming a multipart upload after a reload (docs/web.md, "Resume after a reload"): the page keeps which
// upload a file belongs to (localStorage, per user: no token, no content), asks the server what it still
// holds, and has the user choose the same file again; the stock plugin then lists the parts the server
// has and sends only the missing ones.
import { api, session } from './api.js'
import { $, el, formatSize } from './dom.js'
import { confirmAction, say, showError } from './messages.js'
import { currentUppy, PART_SIZE } from './uploads.js'

// In-flight multipart uploads, per user: {upload_id, key, name, size, last_modified, type, started_at}.
const UPLOADS_KEY_PREFIX = 'fileflow.uploads.'

let resumable = [] // saved uploads the server still holds open, with their parts

function uploadsKey () {
  return UPLOADS_KEY_PREFIX + session.subject
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

/** Keep each multipart upload Uppy starts across reloads, and resume a file that matches a saved one. */
export function followUploads (uppy) {
  uppy.on('file-added', (file) => {
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
  uppy.on('upload-success', (_file, response) => forgetUpload({ key: response.body?.key }))
  uppy.on('complete', renderResumable)
}

/** The saved uploads the server still holds open, with how many parts it has; the others are dropped. */
export async function loadResumable () {
  const open = []
  for (const saved of savedUploads()) {
    try {
      const upload = await api('GET', `v1/uploads/${encodeURIComponent(saved.upload_id)}`)
      if (upload.status !== 'initiated') {
        forgetUpload({ uploadId: saved.upload_id })
        continue
      }
      const parts = await listAllParts(saved.upload_id)
      open.push({ ...saved, parts })
    } catch (error) {
      if (error.status === 404) forgetUpload({ uploadId: saved.upload_id })
    }
  }
  resumable = open
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
  const uploading = new Set(Object.values(currentUppy()?.getState().files ?? {}).map((f) => f.s3Multipart?.uploadId).filter(Boolean))
  const open = resumable.filter((u) => stillSaved.has(u.upload_id) && !uploading.has(u.upload_id))
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
  const uppy = currentUppy()
  try {
    uppy.addFile({ name: file.name, type: file.type, data: file, source: 'resume' })
  } catch (error) {
    showError(`${file.name} could not be added: ${error.message}`)
    return
  }
  say(`Resuming ${file.name}: only the missing parts are sent.`)
  renderResumable()
  uppy.upload()
}

async function discardUpload (upload) {
  if (!await confirmAction('Discard this upload?', `The parts of ${upload.name} already sent are deleted.`, 'Discard')) return
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
