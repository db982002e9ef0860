/** Application services over the database: one repository per resource. */
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { GridRepository } from '../repositories/grid-repository.ts'

declare module 'fastify' {
  interface FastifyInstance {
    grid: GridRepository
  }
}

export default fp(async function repositories(app: FastifyInstance) {
  app.decorate('grid', new GridRepository(app.db))
}, { name: 'repositories', dependencies: ['database'] })
