/**
 * The service for browser tests: the real app on a private copy of the
 * Chaoyang test database, listening on a free loopback port.
 */
import type { AddressInfo } from 'node:net'
import { testApp, type TestApp } from '../helpers/app.ts'

export interface TestServer {
  base: string
  app: TestApp
  close(): Promise<void>
}

export async function startServer(env: NodeJS.ProcessEnv = {}): Promise<TestServer> {
  const app = await testApp('chaoyang', env)
  await app.app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.app.server.address() as AddressInfo
  return { base: `http://127.0.0.1:${port}`, app, close: () => app.close() }
}
