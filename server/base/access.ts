/**
 * Who sees what of the base information. Named residents (重点人员: name, phone,
 * year of birth) are personal data: only the command centre, which arranges
 * visits and care, and administrators see them; every other role sees counts.
 */
import type { Role } from '../cases/roles.ts'

/** Roles that may run the comprehensive query (综合查询): staff, not residents. */
export const QUERY_ROLES: readonly Role[] = ['supervisor', 'command_centre', 'dispatcher', 'handler', 'planner', 'leader', 'admin']

/** Roles that see named residents; the rest get counts by category. */
export const SEES_RESIDENTS: readonly Role[] = ['command_centre', 'admin']

/** Roles that see a frontage unit's contact person and phone. */
export const SEES_FRONTAGE_CONTACTS: readonly Role[] = ['command_centre', 'dispatcher', 'admin']

/** Roles that may import base records and survey results. */
export const IMPORT_ROLES: readonly Role[] = ['admin', 'planner']
