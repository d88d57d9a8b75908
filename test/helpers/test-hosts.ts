// Preloaded into a spawned CLI (NODE_OPTIONS=--import=…/test-hosts.ts) so that names under
// .bfly.test resolve to 127.0.0.1 without asking any DNS server: a test can then connect to
// api.bfly.test directly (e.g. NO_PROXY bypassing the test proxy) and still only talk to
// loopback. Everything else resolves as usual.
import dns from 'node:dns'

type LookupCallback = (error: Error | null, address: string | Array<{address: string; family: number}>, family?: number) => void

const original = dns.lookup
const patched = function (this: unknown, hostname: string, options: unknown, callback?: LookupCallback) {
  if (typeof hostname === 'string' && hostname.toLowerCase().endsWith('.bfly.test')) {
    const done = (typeof options === 'function' ? options : callback) as LookupCallback
    const all = typeof options === 'object' && options !== null && (options as {all?: boolean}).all
    process.nextTick(() => (all ? done(null, [{address: '127.0.0.1', family: 4}]) : done(null, '127.0.0.1', 4)))
    return
  }
  return (original as (...args: unknown[]) => unknown).apply(this, [hostname, options, callback].filter((a) => a !== undefined))
}
;(dns as unknown as {lookup: unknown}).lookup = patched
