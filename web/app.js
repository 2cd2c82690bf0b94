// Fileflow's web page: sign in with a bearer token; upload with the stock Uppy Dashboard and
// @uppy/aws-s3 (companionEndpoint mode), resumable after a reload; the file list, one file's detail
// (live stages, analysis, derivatives, HLS playback), the review queue, webhooks and usage.
// Plain ES modules, no build step (docs/web.md, "The page's modules"); the page and the API share one
// origin (<api>/app/). This one wires the views to their routes and starts the session.
import { openFile, stopDetail, wireDetail } from './detail.js'
import { refreshFiles, stopPolling, wireFiles } from './files.js'
import { loadReviews, wireReviews } from './reviews.js'
import { startRouter } from './router.js'
import { startSession } from './session.js'
import { loadUsage } from './usage.js'
import { loadWebhooks, wireWebhooks } from './webhooks.js'

startRouter({
  files: { open: () => refreshFiles(), leave: stopPolling },
  file: { open: (target) => openFile(target.id), leave: stopDetail },
  reviews: { open: () => loadReviews() },
  webhooks: { open: () => loadWebhooks() },
  usage: { open: () => loadUsage() },
})
wireFiles()
wireDetail()
wireReviews()
wireWebhooks()
startSession()
