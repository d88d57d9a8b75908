// Whether a browser can be opened here, and opening one.
import {spawn} from 'node:child_process'

export interface BrowserVerdict {
  possible: boolean
  /** Why not, for the note that says the device flow is used instead. */
  reason?: string
}

/** The browser flow needs a browser on this machine: not over SSH, not in CI, not without a display. */
export function browserPossible(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): BrowserVerdict {
  if (env.CI && env.CI !== 'false' && env.CI !== '0') return {possible: false, reason: 'running in CI'}
  if (env.SSH_CONNECTION || env.SSH_CLIENT || env.SSH_TTY) return {possible: false, reason: 'an SSH session'}
  if (platform !== 'darwin' && platform !== 'win32' && !env.DISPLAY && !env.WAYLAND_DISPLAY) return {possible: false, reason: 'no display'}
  return {possible: true}
}

/** The command that opens `url`: $BROWSER when set, else the platform's opener. */
export function openerFor(url: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): [string, string[]] {
  if (env.BROWSER) return [env.BROWSER, [url]]
  if (platform === 'darwin') return ['open', [url]]
  // rundll32 takes the URL as one argument; `cmd /c start` would split it at every `&`.
  if (platform === 'win32') return ['rundll32', ['url.dll,FileProtocolHandler', url]]
  return ['xdg-open', [url]]
}

/** Best effort: resolves false when no opener could be started (the URL is printed anyway). */
export function openBrowser(url: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): Promise<boolean> {
  const [command, args] = openerFor(url, env, platform)
  return new Promise((resolve) => {
    try {
      const child = spawn(command, args, {stdio: 'ignore', detached: true, windowsHide: true})
      child.on('error', () => resolve(false))
      child.on('spawn', () => {
        child.unref()
        resolve(true)
      })
    } catch {
      resolve(false)
    }
  })
}
