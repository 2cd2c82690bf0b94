// A file's analysis on its detail page: the AI result, the review, OCR text, duplicates, the summary, and
// the local features and other results folded; whatever of them exists, absent fields skipped.
import { $, el, folded, percent, renderValue, section, textBlock } from './dom.js'

// The parts shown on their own; any other key of `analysis` goes under "Other results".
const SHOWN_PARTS = ['summary', 'features', 'ai', 'review', 'duplicates']

function aiPart (file, ai) {
  const aiResult = ai.result ?? {}
  const aiStatus = file.ai_status ?? ai.status
  if (!aiStatus && !Object.keys(aiResult).length) return null
  const summary = aiResult.summary ?? aiResult.description
  const confidence = ai.confidence ?? aiResult.confidence
  return section('AI',
    el('p', {}, `Status: ${aiStatus ?? '—'}`, confidence != null ? ` · confidence ${percent(confidence)}` : null,
      ai.model ? ` · ${ai.model}` : null, ai.rejected ? ' · rejected by a reviewer' : null),
    summary ? el('p', { class: 'ai-summary', text: summary }) : null,
    aiResult.tags?.length ? el('p', {}, `Tags: ${aiResult.tags.join(', ')}`) : null,
    aiResult.category ? el('p', {}, `Category: ${aiResult.category}`) : null,
  )
}

function duplicatesPart (duplicates) {
  if (!Array.isArray(duplicates) || !duplicates.length) return null
  return section('Duplicates', el('ul', { class: 'plain-list' }, ...duplicates.map((dup) => {
    const id = typeof dup === 'string' ? dup : dup.file_id
    const label = typeof dup === 'string' ? dup : `${dup.filename ?? dup.file_id}${dup.kind ? ` (${dup.kind})` : ''}${dup.distance != null ? `, distance ${dup.distance}` : ''}`
    return el('li', {}, id ? el('a', { href: `#/files/${encodeURIComponent(id)}`, text: label }) : label)
  })))
}

export function renderAnalysis (file) {
  const analysis = file.analysis ?? {}
  const features = analysis.features ?? {}
  const ai = analysis.ai ?? {}
  const review = file.review ?? analysis.review
  const ocr = features.ocr?.text ?? features.ocr_text ?? features.text?.ocr ?? ai.result?.text
  const rest = Object.fromEntries(Object.entries(analysis).filter(([key]) => !SHOWN_PARTS.includes(key)))
  const parts = [
    aiPart(file, ai),
    review ? section('Review', renderValue(review)) : null,
    ocr ? section('Text found in the file', textBlock(ocr)) : null,
    duplicatesPart(features.duplicates ?? analysis.duplicates),
    analysis.summary && Object.keys(analysis.summary).length ? section('Summary', renderValue(analysis.summary)) : null,
    Object.keys(features).length ? folded('Local features', features) : null,
    Object.keys(rest).length ? folded('Other results', rest) : null,
    file.processing_error ? section('Error', renderValue(file.processing_error)) : null,
  ].filter(Boolean)
  $('analysis').replaceChildren(...(parts.length ? parts : [el('p', { class: 'help', text: 'No analysis yet.' })]))
}
