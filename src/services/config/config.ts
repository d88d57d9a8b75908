// `bfly config`: per-profile settings with their origin (flag > env > profile > default).
import type {Context} from '../../context.js'
import {UsageError} from '../../errors.js'
import {resolveSetting, SETTINGS, settingSpec} from '../../settings.js'

export interface SettingRow {
  key: string
  value: string | null
  origin: string
  description: string
}

async function sources(ctx: Context) {
  const store = await ctx.store()
  return {flags: ctx.flags as Record<string, unknown>, env: ctx.env, profile: store.settings(ctx.profile)}
}

export async function configList(ctx: Context): Promise<SettingRow[]> {
  const src = await sources(ctx)
  return SETTINGS.map((spec) => {
    const r = resolveSetting(spec.key, src)
    return {key: spec.key, value: r.value ?? null, origin: r.value === undefined ? 'unset' : r.origin, description: spec.description}
  })
}

export async function configGet(ctx: Context, key: string): Promise<SettingRow> {
  const spec = settingSpec(key)
  const r = resolveSetting(key, await sources(ctx))
  return {key, value: r.value ?? null, origin: r.value === undefined ? 'unset' : r.origin, description: spec.description}
}

export async function configSet(ctx: Context, key: string, value: string): Promise<SettingRow> {
  if (/token|secret|password/i.test(key)) throw new UsageError('secrets are never stored in the config file')
  const store = await ctx.store()
  await store.set(ctx.profile, key, value)
  return {key, value, origin: 'profile', description: settingSpec(key).description}
}

export async function configUnset(ctx: Context, key: string): Promise<{key: string; removed: boolean}> {
  const store = await ctx.store()
  return {key, removed: await store.unset(ctx.profile, key)}
}
