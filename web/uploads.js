// Uploads with the stock Uppy Dashboard and @uppy/aws-s3 in companionEndpoint mode: the plugin cannot
// send an Authorization header, so it talks to /uppy/{upload token}/s3/..., a short-lived token the page
// mints and swaps before it expires. A form POST (files up to 8 MiB) is completed by the page.
import { AwsS3, Dashboard, Uppy } from './uppy.min.mjs'
import { api, getFile } from './api.js'
import { count } from './dom.js'
import { refreshFiles } from './files.js'
import { say, showError } from './messages.js'
import { currentView } from './router.js'

const MiB = 1024 * 1024
// The API's own part size: above it a file goes up as a multipart upload in parts of this size
// (each part retried on its own, resumable after a reload); at or below it, as one presigned form POST.
export const PART_SIZE = 8 * MiB
// A new upload token this long before the current one expires (tokens live an hour).
const TOKEN_REFRESH_MARGIN_MS = 5 * 60 * 1000

let uppy = null
let refreshTimer = null

export function currentUppy () {
  return uppy
}

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

/** The Dashboard and the S3 plugin, with the upload token just minted ({uppy_endpoint, expires_at}). */
export function startUppy (minted) {
  uppy = new Uppy({ id: 'fileflow', autoProceed: false })
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
    say(`${count(done, 'file')} uploaded${failed ? `, ${failed} failed` : ''}.`)
    if (currentView() === 'files') refreshFiles()
  })
  scheduleTokenRefresh(minted.expires_at)
  return uppy
}

export function stopUppy () {
  clearTimeout(refreshTimer)
  uppy?.destroy()
  uppy = null
}

/** Swap the upload token before it expires; never in the middle of an upload (that would cancel it). */
function scheduleTokenRefresh (expiresAt) {
  clearTimeout(refreshTimer)
  const delay = Math.max(60_000, Date.parse(expiresAt) - Date.now() - TOKEN_REFRESH_MARGIN_MS)
  refreshTimer = setTimeout(refreshUploadToken, delay)
}

async function refreshUploadToken () {
  const current = uppy
  if (!current) return
  if (Object.keys(current.getState().currentUploads).length > 0) {
    current.once('complete', refreshUploadToken)
    return
  }
  try {
    const minted = await api('POST', 'v1/upload-tokens')
    current.removePlugin(current.getPlugin('AwsS3'))
    current.use(AwsS3, s3Options(minted.uppy_endpoint))
    scheduleTokenRefresh(minted.expires_at)
  } catch (error) {
    if (error.status !== 401) refreshTimer = setTimeout(refreshUploadToken, 60_000)
  }
}

/** Complete the upload a form POST made (key uploads/{user}/{file id}): the file names its upload. */
async function completeFormUpload (key) {
  const fileId = String(key || '').split('/').pop()
  if (!fileId) return
  const file = await getFile(fileId)
  const upload = file?.lineage?.upload
  if (upload?.status === 'initiated') {
    await api('POST', `v1/uploads/${encodeURIComponent(upload.upload_id)}/complete`)
  }
}
