// The views are hash routes (#/files, #/files/{id}, #/reviews, #/webhooks, #/usage): one document, and
// the back button works. app.js gives the router each view's open() and, for views with background
// work (polling, a long-poll, a player), its leave().
import { session } from './api.js'
import { $ } from './dom.js'
import { say, showError } from './messages.js'

const VIEW_TITLES = {
  files: 'Your files',
  file: 'File',
  reviews: 'Review queue',
  webhooks: 'Webhooks',
  usage: 'Usage and cost',
}

let views = {}
let current = null
let notice = null // what the next view says first

export function startRouter (table) {
  views = table
}

export function currentView () {
  return current
}

/** A message for the next view to say (say, "x was deleted" before going back to the list). */
export function leaveNotice (message) {
  notice = message
}

/** Stop every view's background work (before another view opens, or on sign-out). */
export function leaveViews () {
  for (const view of Object.values(views)) view.leave?.()
}

function parseRoute () {
  const path = window.location.hash.replace(/^#\/?/, '')
  const [first, second] = path.split('/').map(decodeURIComponent)
  if (first === 'files' && second) return { view: 'file', id: second }
  if (['reviews', 'webhooks', 'usage'].includes(first)) return { view: first }
  return { view: 'files' }
}

export function route () {
  if (!session.token) return
  const target = parseRoute()
  leaveViews()
  current = target.view
  for (const view of document.querySelectorAll('.view')) view.hidden = view.id !== `view-${target.view}`
  for (const link of document.querySelectorAll('#nav a')) {
    const isCurrent = link.dataset.view === target.view || (target.view === 'file' && link.dataset.view === 'files')
    if (isCurrent) link.setAttribute('aria-current', 'page')
    else link.removeAttribute('aria-current')
  }
  $('page-title').textContent = VIEW_TITLES[target.view]
  document.title = `Fileflow: ${VIEW_TITLES[target.view]}`
  showError('')
  say(notice ?? '')
  notice = null
  views[target.view].open(target)
}
