// Signing in and out. The bearer token comes from the URL fragment (#token=..., never sent to a server)
// or the sign-in form and is kept in sessionStorage only (this tab); a token the API refuses is forgotten.
import { api, session, whenUnauthorized } from './api.js'
import { $ } from './dom.js'
import { say, showError } from './messages.js'
import { followUploads, loadResumable } from './resume.js'
import { leaveNotice, leaveViews, route } from './router.js'
import { startUppy, stopUppy } from './uploads.js'

const TOKEN_KEY = 'fileflow.bearerToken'

/** A token in the URL fragment (#token=...) moves to sessionStorage and out of the address bar. */
function adoptTokenFromFragment () {
  const params = new URLSearchParams(window.location.hash.slice(1))
  const token = params.get('token')
  if (!token) return
  sessionStorage.setItem(TOKEN_KEY, token.trim())
  window.history.replaceState(null, '', window.location.pathname + window.location.search + '#/files')
}

/** The token's claims, for display only (the API verifies the token; the page never does). */
function claimsOf (token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')
    return JSON.parse(atob(payload)) || {}
  } catch {
    return {}
  }
}

function showSignIn (error) {
  leaveViews()
  stopUppy()
  session.token = null
  $('account').hidden = true
  $('nav').hidden = true
  for (const view of document.querySelectorAll('.view')) view.hidden = true
  $('sign-in').hidden = false
  $('page-title').textContent = 'Welcome to Fileflow'
  say('Sign in to upload files.')
  showError(error || '')
  $('token-input').focus()
}

/** Forget the token and ask for another one, saying why (or nothing, on sign-out). */
function forgetToken (error) {
  sessionStorage.removeItem(TOKEN_KEY)
  showSignIn(error)
}

async function signIn (token) {
  session.token = token
  say('Signing in…')
  showError('')
  let minted
  try {
    minted = await api('POST', 'v1/upload-tokens')
  } catch (error) {
    if (error.status === 401) {
      forgetToken(
        'This token was not accepted: it is expired, malformed, or not issued for this service. ' +
          'Get a new one (locally: make token USER=alice) and sign in again.',
      )
    } else {
      showSignIn(`Signing in failed: ${error.message}`)
    }
    return
  }
  const claims = claimsOf(token)
  session.subject = claims.sub || 'you'
  $('account-name').textContent = session.subject
  $('account').hidden = false
  $('nav').hidden = false
  $('sign-in').hidden = true
  leaveNotice('Signed in.')
  followUploads(startUppy(minted))
  if (!/^#\//.test(window.location.hash)) window.history.replaceState(null, '', '#/files')
  route()
  loadResumable()
}

/** Wire the sign-in form, sign-out and the routes, then sign in with a token this tab holds, if any. */
export function startSession () {
  whenUnauthorized(() => forgetToken('Your sign-in has expired or was refused. Get a new token and sign in again.'))
  $('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault()
    const token = $('token-input').value.trim()
    if (!token) {
      showError('Paste a bearer token first.')
      $('token-input').focus()
      return
    }
    sessionStorage.setItem(TOKEN_KEY, token)
    $('token-input').value = ''
    signIn(token)
  })
  $('sign-out').addEventListener('click', () => forgetToken())
  window.addEventListener('hashchange', () => {
    // A link with #token=... opened in a tab that already shows the page: sign in with that token.
    if (new URLSearchParams(window.location.hash.slice(1)).has('token')) {
      adoptTokenFromFragment()
      showSignIn()
      signIn(sessionStorage.getItem(TOKEN_KEY))
      return
    }
    route()
  })
  adoptTokenFromFragment()
  const token = sessionStorage.getItem(TOKEN_KEY)
  if (token) {
    signIn(token)
  } else {
    showSignIn()
  }
}
