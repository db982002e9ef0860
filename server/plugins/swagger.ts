/** The OpenAPI document, generated from the routes' schemas, with a browsable UI at /docs. */
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'

export default fp(async function docs(app: FastifyInstance) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'wangge — grid management API',
        description: 'Grid (district → subdistrict → community → cell), geocoding, facilities, cases and analysis for a Beijing district.',
        version: '0.1.0',
      },
      tags: [
        { name: 'grid', description: 'Districts, subdistricts, communities and unit cells' },
        { name: 'geocode', description: 'Point and address → cell and responsible units' },
        { name: 'ops', description: 'Health' },
      ],
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
}, { name: 'docs' })
