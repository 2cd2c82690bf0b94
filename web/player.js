// A video's HLS playback with hls.js (fetched only when a file has a playlist): the playlists come from
// the API with the bearer token, the segments from S3's presigned URLs without it.
import { API_BASE, session } from './api.js'
import { $ } from './dom.js'

const HLS_MASTER = 'hls-master.m3u8'

let hls = null

/** Show the player when the file has an HLS playlist; `signal` aborts when its detail page is left. */
export async function renderPlayer (file, signal) {
  const hasPlaylist = (file.derivatives ?? []).some((d) => d.name === HLS_MASTER)
  if (!hasPlaylist || hls) return
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
  if (signal.aborted || hls) return
  if (!Hls.isSupported()) {
    $('player-note').textContent = 'This browser cannot play the video here (no Media Source Extensions).'
    return
  }
  const player = new Hls({
    // No worker: it would need a blob: worker-src in the page's CSP.
    enableWorker: false,
    xhrSetup (xhr, url) {
      xhr.open('GET', url, true)
      // The bearer token goes to the API's playlist route only, never to S3's presigned segment URLs.
      if (url.startsWith(apiPrefix)) xhr.setRequestHeader('Authorization', `Bearer ${session.token}`)
    },
  })
  player.on(Hls.Events.ERROR, (_event, data) => {
    if (data.fatal) $('player-note').textContent = `Playback failed: ${data.details}.`
  })
  player.loadSource(playlist)
  player.attachMedia(video)
  hls = player
  $('player-note').textContent = 'Ready to play.'
}

export function stopPlayer () {
  hls?.destroy()
  hls = null
}
