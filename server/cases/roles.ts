/**
 * Roles, channels and who may see what. 监管分离: those who find and verify
 * (supervisors) are not those who dispatch (the command centre) or handle
 * (departments and utilities); leaders only read.
 */

export const ROLES = ['resident', 'supervisor', 'command_centre', 'dispatcher', 'handler', 'planner', 'leader', 'admin'] as const
export type Role = (typeof ROLES)[number]

export const ROLE_NAMES: Record<Role, string> = {
  resident: '市民',
  supervisor: '监督员',
  command_centre: '受理员',
  dispatcher: '派遣员',
  handler: '处置单位',
  planner: '网格规划员',
  leader: '领导',
  admin: '系统管理员',
}

/** Where a report came from. */
export const CHANNELS = [
  'supervisor', 'hotline', 'web', 'camera', 'department', 'community', 'subdistrict',
  'social_media', 'satellite', 'spot_check', 'survey', 'open311',
] as const
export type Channel = (typeof CHANNELS)[number]

export const CHANNEL_NAMES: Record<Channel, string> = {
  supervisor: '监督员上报',
  hotline: '96105 热线',
  web: '市民网上举报',
  camera: '视频监控',
  department: '部门上报',
  community: '社区上报',
  subdistrict: '街道上报',
  social_media: '政务微博微信',
  satellite: '卫星影像比对',
  spot_check: '工作记录抽查',
  survey: '第三方调查',
  open311: 'Open311 客户端',
}

/**
 * Which channels a role may report through; the first is its default. An operator
 * of the command centre files what comes by phone, camera, social media and the rest.
 */
export const REPORT_CHANNELS: Record<Role, readonly Channel[]> = {
  resident: ['web', 'open311'],
  supervisor: ['supervisor', 'open311'],
  command_centre: ['hotline', 'camera', 'social_media', 'satellite', 'spot_check', 'survey', 'community', 'subdistrict', 'department', 'open311'],
  dispatcher: [],
  handler: ['department', 'open311'],
  planner: [],
  leader: [],
  admin: [],
}

/** The caller of a request, as the auth plugin found it. `system` is the automatic dispatcher. */
export interface Actor {
  userId: number | null
  name: string
  role: Role | 'system'
  /** 18-character credit code of the actor's organisation (handlers), else null. */
  org: string | null
}

export const SYSTEM_ACTOR: Actor = { userId: null, name: '自动分拣', role: 'system', org: null }

/** Roles that see every case; residents see their own, handlers their organisation's. */
export const SEES_ALL: readonly Role[] = ['supervisor', 'command_centre', 'dispatcher', 'planner', 'leader', 'admin']

/** Roles that may read the contact details reporters left (phone, e-mail). */
export const SEES_CONTACTS: readonly Role[] = ['command_centre', 'dispatcher', 'admin']

export function isRole(v: unknown): v is Role {
  return typeof v === 'string' && (ROLES as readonly string[]).includes(v)
}

export function isChannel(v: unknown): v is Channel {
  return typeof v === 'string' && (CHANNELS as readonly string[]).includes(v)
}
