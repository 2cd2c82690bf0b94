// #/files/{id}: one file, its processing stages fed live by the events long-poll, its analysis, tags,
// derivatives and video. Leaving the page aborts the long-poll and stops the player.
import { renderAnalysis } from './analysis.js'
import { api, getFile } from './api.js'
import { $, el, formatSize, timeElement } from './dom.js'
import { deleteFile, pickThumbnail } from './files.js'
import { say, showError } from './messages.js'
import { renderPlayer, stopPlayer } from './player.js'
import { badge, FINAL_STATUSES, stageStateLabel, statusLabel } from './status.js'

const EVENTS_WAIT_SECONDS = 20

let detail = null // {fileId, abort: AbortController, file, stages: Map}

export function stopDetail () {
  detail?.abort.abort()
  detail = null
  stopPlayer()
}

export async function openFile (fileId) {
  const abort = new AbortController()
  detail = { fileId, abort, stages: new Map(), file: null }
  $('file-title').textContent = 'Loading…'
  $('timeline').replaceChildren()
  $('analysis').replaceChildren()
  $('derivatives').replaceChildren()
  $('player-panel').hidden = true
  $('file-thumb').hidden = true
  $('timeline-live').textContent = ''
  let file
  try {
    file = await getFile(fileId, { signal: abort.signal })
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
  renderPlayer(file, detail.abort.signal)
}

function addStageEvent (event) {
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
  item.querySelector('.stage-state').textContent = stageStateLabel(event.state)
  item.querySelector('.stage-time').replaceChildren(timeElement(event.at), duration != null ? ` (${duration} ms)` : null)
}

/** The events long-poll: each answer's events join the timeline; the file is read again when it changes. */
async function followEvents (fileId, after, signal) {
  let cursor = after
  let lastStatus = detail?.file?.status
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
      $('timeline-live').textContent = `${event.stage}: ${stageStateLabel(event.state)}.`
    }
    cursor = answer.cursor ?? cursor
    const finished = FINAL_STATUSES.has(answer.status) && answer.stage === 'notify' && !(answer.events ?? []).length
    if (answer.status !== lastStatus || (answer.events ?? []).some((e) => e.state !== 'started') || finished) {
      lastStatus = answer.status
      try {
        renderDetail(await getFile(fileId, { signal }))
      } catch (error) {
        if (error.name === 'AbortError') return
      }
    }
    if (finished) {
      $('timeline-live').textContent = `Processing finished: ${statusLabel(answer.status)}.`
      return
    }
    if (answer.more) continue
  }
}

function renderDerivatives (derivatives) {
  $('derivatives').replaceChildren(...(derivatives.length
    ? derivatives.map((d) => el('li', { class: 'derivative' },
      el('span', { class: 'derivative-name', text: d.name }),
      ` ${d.content_type ?? ''} · ${formatSize(d.size)} `,
      d.download?.url ? el('a', { href: d.download.url, download: d.name, text: 'Download', 'aria-label': `Download ${d.name}` }) : null))
    : [el('li', { class: 'help', text: 'None yet.' })]))
}

async function saveTags (event) {
  event.preventDefault()
  const file = detail?.file
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

export function wireDetail () {
  $('tags-form').addEventListener('submit', saveTags)
}
