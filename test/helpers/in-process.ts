// Runs a bfly command inside the test process (for nock), capturing stdout, stderr and the
// exit code the way bin/run.js would report them.
import {resolve} from 'node:path'
import {pathToFileURL} from 'node:url'

const ROOT = resolve(import.meta.dirname, '..', '..')

export interface InProcessResult {
  code: number
  stdout: string
  stderr: string
}

export async function runInProcess(argv: string[], env: Record<string, string | undefined> = {}): Promise<InProcessResult> {
  const {run, flush, Config} = await import(pathToFileURL(resolve(ROOT, 'dist/vendor/oclif.js')).href)
  const {normalizeError, reportError, processStreams} = await import(pathToFileURL(resolve(ROOT, 'dist/base-command.js')).href)
  const {PassThrough} = await import('node:stream')
  const {IO} = await import(pathToFileURL(resolve(ROOT, 'dist/output/io.js')).href)
  const saved = {...process.env}
  for (const key of Object.keys(process.env)) if (/^(BFLY_|BUTTERFLY_|HTTPS?_PROXY|NO_PROXY|CI$)/i.test(key)) delete process.env[key]
  Object.assign(process.env, {BFLY_KEYCHAIN: 'off', BFLY_RETRY_BASE_MS: '1'}, env)
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k]
  let stdout = ''
  let stderr = ''
  // Capture through the base command's stream seam: the test runner itself reports on process.stdout.
  const capture = (append: (s: string) => void) => {
    const stream = new PassThrough()
    stream.on('data', (d: Buffer) => append(d.toString()))
    return stream
  }
  const streams = {stdout: capture((s) => (stdout += s)), stderr: capture((s) => (stderr += s)), stdin: new PassThrough()}
  streams.stdin.end()
  const previous = processStreams.current
  processStreams.current = () => streams
  process.exitCode = undefined
  try {
    const config = await Config.load(ROOT)
    try {
      await run(argv, config)
      await flush()
    } catch (error) {
      const e = normalizeError(error)
      reportError(new IO(streams, process.env), e, {json: argv.includes('--json'), verbose: false})
      process.exitCode = e.exitCode
    }
  } finally {
    processStreams.current = previous
    process.env = saved
    await new Promise((r) => setImmediate(r))
  }
  const code = Number(process.exitCode ?? 0)
  process.exitCode = undefined
  return {code, stdout, stderr}
}
