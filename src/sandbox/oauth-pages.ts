// The pages a person sees during a browser login to the sandbox issuer: sign-in, consent,
// the device-code form, and the error and logout pages. Plain HTML forms, no scripts.
const esc = (value: unknown) =>
  String(value).replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'})[c] as string)

const STYLE = `
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f4f5f7;color:#1d2330;margin:0;padding:48px 16px}
main{max-width:380px;margin:0 auto;background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.15);padding:28px 32px}
h1{font-size:1.35em;margin:0 0 4px}.sub{color:#667;margin:0 0 20px;font-size:.9em}
label{display:block;font-size:.85em;margin:12px 0 4px;color:#445}
input[type=text],input[type=password],input:not([type=hidden]){width:100%;box-sizing:border-box;padding:9px 10px;border:1px solid #c8ccd4;border-radius:5px;font-size:1em}
button{width:100%;margin-top:18px;padding:10px;border:0;border-radius:5px;background:#3c64f4;color:#fff;font-size:1em;cursor:pointer}
button.secondary{background:none;color:#667;margin-top:8px}
ul{padding-left:18px}li{margin:4px 0}code{background:#eef0f4;padding:1px 5px;border-radius:3px}
.error{background:#fdecec;color:#a11;padding:8px 10px;border-radius:5px;font-size:.9em}
.hint{font-size:.8em;color:#778;margin-top:18px;border-top:1px solid #eee;padding-top:10px}
.code{font-size:1.6em;letter-spacing:.12em;text-align:center;margin:14px 0}
`

export function page(title: string, body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)} · BUTTERFLY sandbox</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`
}

export interface DemoUserHint {
  username: string
  password: string
}

export function loginPage(options: {action: string; abortAction: string; clientName: string; error?: string; username?: string; users: DemoUserHint[]}): string {
  const hints = options.users.map((u) => `<li><code>${esc(u.username)}</code> / <code>${esc(u.password)}</code></li>`).join('')
  return page(
    'Sign in',
    `<h1>Sign in</h1><p class="sub">to continue to <strong>${esc(options.clientName)}</strong></p>
${options.error ? `<p class="error">${esc(options.error)}</p>` : ''}
<form method="post" action="${esc(options.action)}" autocomplete="off">
<label for="username">Username</label><input id="username" type="text" name="username" value="${esc(options.username ?? '')}" autofocus required>
<label for="password">Password</label><input id="password" type="password" name="password" required>
<button type="submit">Sign in</button></form>
<form method="post" action="${esc(options.abortAction)}"><button class="secondary" type="submit">Cancel</button></form>
<p class="hint">Sandbox demo users:<ul>${hints}</ul></p>`,
  )
}

export function consentPage(options: {action: string; abortAction: string; clientName: string; username: string; scopes: string[]; withheld: string[]}): string {
  const list = options.scopes.map((s) => `<li><code>${esc(s)}</code></li>`).join('') || '<li>no API access, sign-in only</li>'
  const withheld = options.withheld.length
    ? `<p class="sub">Not available to ${esc(options.username)}: ${options.withheld.map((s) => `<code>${esc(s)}</code>`).join(' ')}</p>`
    : ''
  return page(
    'Authorize',
    `<h1>Authorize ${esc(options.clientName)}</h1><p class="sub">Signed in as <strong>${esc(options.username)}</strong>. It asks for:</p>
<ul>${list}</ul>${withheld}
<form method="post" action="${esc(options.action)}"><button type="submit" autofocus>Allow</button></form>
<form method="post" action="${esc(options.abortAction)}"><button class="secondary" type="submit">Deny</button></form>`,
  )
}

export function deviceInputPage(form: string, error?: string): string {
  return page(
    'Device sign-in',
    `<h1>Sign in a device</h1><p class="sub">Enter the code your terminal shows.</p>
${error ? `<p class="error">${esc(error)}</p>` : ''}${form}
<button type="submit" form="op.deviceInputForm">Continue</button>`,
  )
}

export function deviceConfirmPage(form: string, clientName: string, userCode: string): string {
  return page(
    'Confirm device',
    `<h1>Confirm the device</h1><p class="sub"><strong>${esc(clientName)}</strong> wants to sign in. Check that your terminal shows this code:</p>
<p class="code"><code>${esc(userCode)}</code></p>${form}
<button type="submit" form="op.deviceConfirmForm" autofocus>Yes, continue</button>
<button class="secondary" type="submit" form="op.deviceConfirmForm" value="yes" name="abort">No, cancel</button>`,
  )
}

export function deviceSuccessPage(clientName: string): string {
  return page('Signed in', `<h1>Device signed in</h1><p class="sub">${esc(clientName)} is signed in. You can close this page and return to your terminal.</p>`)
}

export function errorPage(out: Record<string, unknown>): string {
  const rows = Object.entries(out).map(([k, v]) => `<li><strong>${esc(k)}</strong>: ${esc(v)}</li>`).join('')
  return page('Sign-in error', `<h1>Something went wrong</h1><ul>${rows}</ul>`)
}

export function logoutPage(form: string, host: string): string {
  return page(
    'Sign out',
    `<h1>Sign out of ${esc(host)}?</h1>${form}
<button type="submit" form="op.logoutForm" value="yes" name="logout" autofocus>Yes, sign me out</button>
<button class="secondary" type="submit" form="op.logoutForm">No, stay signed in</button>`,
  )
}

export function logoutSuccessPage(): string {
  return page('Signed out', '<h1>Signed out</h1><p class="sub">You can close this page.</p>')
}
