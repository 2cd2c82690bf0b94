// The API client: every call carries the signed-in user's bearer token; a 401 anywhere ends the session.

// The API is the page's parent path: <api>/app/ -> <api>/ (stage or custom-domain base path kept).
export const API_BASE = new URL('../', document.baseURI)

// Who is signed in: the bearer token (sent to this API only) and its subject, for display and storage keys.
export const session = { token: null, subject: null }

let onUnauthorized = () => {}

/** What to do when the API refuses the token (session.js: forget it and ask to sign in again). */
export function whenUnauthorized (handler) {
  onUnauthorized = handler
}

class ApiError extends Error {
  constructor (status, code, message) {
    super(message || `The API answered ${status}${code ? ` (${code})` : ''}.`)
    this.status = status
    this.code = code
  }
}

export async function api (method, path, body, { signal } = {}) {
  let response
  try {
    response = await fetch(new URL(path, API_BASE), {
      method,
      headers: {
        Authorization: `Bearer ${session.token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      signal,
    })
  } catch (error) {
    if (error.name === 'AbortError') throw error
    throw new ApiError(0, 'NetworkError', 'The API could not be reached. Check your connection and try again.')
  }
  const payload = response.status === 204 ? null : await response.json().catch(() => null)
  if (!response.ok) {
    if (response.status === 401) onUnauthorized()
    throw new ApiError(response.status, payload?.error?.code, payload?.error?.message)
  }
  return payload
}

/** One of the user's files, with its presigned download, derivative and thumbnail URLs. */
export function getFile (fileId, { signal } = {}) {
  return api('GET', `v1/files/${encodeURIComponent(fileId)}`, undefined, { signal })
}

/** Why a view's data could not be read: a 404 means this deployment does not have its routes yet. */
export function unavailable (error, missing, failed) {
  return error.status === 404 ? missing : `${failed}: ${error.message}`
}
