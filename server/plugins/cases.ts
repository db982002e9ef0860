/**
 * The case service of the running app: its configuration snapshot (taxonomy,
 * limits, rules, calendar) read from the database and swapped after every
 * change, and the service itself on `app.cases`.
 */
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { CaseConfig } from '../cases/config.ts'
import { CaseService } from '../cases/service.ts'
import { CaseConfigRepository } from '../repositories/case-config.ts'
import { PhotoRepository } from '../repositories/case-photos.ts'
import type { Queryable } from '../db/types.ts'

export interface CaseConfigHolder {
  current(): CaseConfig
  /** Reads the configuration again and swaps it in. */
  reload(): Promise<CaseConfig>
  /** Reads the stored configuration (lists for the admin routes). */
  readonly repository: CaseConfigRepository
  /** Runs a change in one transaction, bumps the revision, then reloads. */
  change<T>(fn: (repo: CaseConfigRepository, tx: Queryable) => Promise<T>): Promise<T>
}

declare module 'fastify' {
  interface FastifyInstance {
    cases: CaseService
    caseConfig: CaseConfigHolder
    photos: PhotoRepository
  }
}

export interface CasesPluginOptions {
  /** The clock of the loop; tests move it. */
  now?: () => Date
}

export default fp(async function cases(app: FastifyInstance, opts: CasesPluginOptions) {
  const repo = new CaseConfigRepository(app.db)
  let config = new CaseConfig(await repo.load())
  const holder: CaseConfigHolder = {
    repository: repo,
    current: () => config,
    async reload() {
      config = new CaseConfig(await repo.load())
      return config
    },
    async change(fn) {
      const out = await app.db.transaction(async (tx) => {
        const r = new CaseConfigRepository(tx)
        const v = await fn(r, tx)
        await r.bump()
        return v
      })
      await holder.reload()
      return out
    },
  }
  app.decorate('caseConfig', holder)
  app.decorate('photos', new PhotoRepository(app.db))
  app.decorate('cases', new CaseService({
    db: app.db, geocoder: () => app.geocoder.current(), config: () => config, now: opts.now,
    facilities: () => (app.hasDecorator('facilities') ? app.facilities.current().index : null),
  }))
  // Subdistricts and their command centres come with the grid; organisations with it and with facilities.
  app.onGridChanged(async () => { await holder.reload() })
  app.addHook('onReady', async () => { await holder.reload() })
}, { name: 'cases', dependencies: ['database', 'geocoder', 'grid-hooks'] })
