// A file's processing status and its stages' states, as the list, the detail and the timeline show them.
import { el } from './dom.js'

// A file in one of these is not processed any further: the list stops polling, the long-poll ends.
export const FINAL_STATUSES = new Set(['processed', 'needs_review', 'failed', 'rejected'])

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

export function statusLabel (status) {
  return STATUS_LABELS[status] ?? status
}

export function stageStateLabel (state) {
  return STATE_LABELS[state] ?? state
}

export function badge (status) {
  return el('span', { class: `badge badge-${status}`, dataset: { status }, text: statusLabel(status) })
}
