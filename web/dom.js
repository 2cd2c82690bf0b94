// Shared DOM helpers: building elements, formatting sizes, times and shares, and showing any JSON value.

export const $ = (id) => document.getElementById(id)

export function el (tag, props = {}, ...children) {
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

export function formatSize (bytes) {
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

export function timeElement (timestamp) {
  return el('time', { dateTime: timestamp ?? '', text: formatTime(timestamp) })
}

export function percent (value) {
  return typeof value === 'number' ? `${Math.round(value * 100)} %` : '—'
}

/** "1 file", "3 files": a count and its noun. */
export function count (number, noun) {
  return `${number} ${noun}${number === 1 ? '' : 's'}`
}

/** Long text, cut to a readable length. */
export function textBlock (text) {
  return el('pre', { class: 'text-block', text: String(text).slice(0, 4000) })
}

/** Any JSON value as readable markup: objects as definition lists, arrays as lists, long text as <pre>. */
export function renderValue (value, depth = 0) {
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
  if (typeof value === 'string' && (value.length > 120 || value.includes('\n'))) return textBlock(value)
  return el('span', { text: String(value) })
}

/** A titled part of a file's (or a review's) results. */
export function section (title, ...content) {
  return el('section', { class: 'analysis-part' }, el('h3', { text: title }), ...content)
}

/** A part of the results folded under its title, any JSON value inside. */
export function folded (title, value) {
  return el('details', { class: 'analysis-part' }, el('summary', { text: title }), renderValue(value))
}
