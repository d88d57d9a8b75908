// A D-Bus session address that accepts connections and never answers: the worst case of a
// stuck Secret Service (a hung daemon, a keyring waiting forever on an unlock prompt).
import {mkdtempSync, rmSync} from 'node:fs'
import {createServer, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

export interface BlackHole {
  address: string
  connections: number
  close(): Promise<void>
}

export async function startDbusBlackHole(): Promise<BlackHole> {
  const dir = mkdtempSync(join(tmpdir(), 'bfly-bus-'))
  const path = join(dir, 'bus')
  const sockets = new Set<Socket>()
  const hole: BlackHole = {
    address: `unix:path=${path}`,
    connections: 0,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      rmSync(dir, {recursive: true, force: true})
    },
  }
  const server = createServer((socket) => {
    hole.connections++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    socket.resume()
  })
  await new Promise<void>((resolve) => server.listen(path, resolve))
  return hole
}
