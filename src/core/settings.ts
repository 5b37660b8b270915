/**
 * Helpers to declare a config section once: a TypeBox schema gives the defaults
 * (`default`), the validation, the TypeScript type (`Static`) and docs/config.md (`description`,
 * and `flag` for the command-line flag that overrides it).
 *
 * @example
 * ```ts
 * export const contentConfig = section('File sharing', {
 *   uploadSlots: count('blocks sent at once across peers', 8, { minimum: 1 }),
 * })
 * export type ContentConfig = Static<typeof contentConfig>
 * ```
 */
import {
  Kind,
  type SchemaOptions,
  type Static,
  type TProperties,
  type TSchema,
  Type,
  TypeRegistry,
} from '@sinclair/typebox'

export type { Static, TSchema }

/** Extra keys a setting may carry for the docs. */
export interface SettingOptions extends SchemaOptions {
  /** The command-line flag that overrides it, e.g. `--upload-limit RATE`. */
  flag?: string
  /** Shown in the docs instead of the default value (for values computed at run time). */
  defaultText?: string
}

/** A config section: an object whose every key has a default, no other keys allowed. */
export function section<T extends TProperties>(description: string, properties: T) {
  return Type.Object(properties, { description, default: {}, additionalProperties: false })
}

/** A whole number >= `minimum` (0 unless given). */
export function count(description: string, value: number, options: SettingOptions = {}) {
  return Type.Integer({ minimum: 0, ...options, description, default: value })
}

/** A duration in milliseconds (a whole number >= `minimum`, 1 unless given). */
export function millis(description: string, value: number, options: SettingOptions = {}) {
  return Type.Integer({ minimum: 1, ...options, description, default: value })
}

export function flag(description: string, value: boolean, options: SettingOptions = {}) {
  return Type.Boolean({ ...options, description, default: value })
}

export function strings(description: string, value: readonly string[], options: SettingOptions = {}) {
  return Type.Array(Type.String({ minLength: 1, maxLength: 1024 }), {
    maxItems: 256,
    ...options,
    description,
    default: [...value],
  })
}

export function oneOf<const T extends readonly string[]>(
  description: string,
  values: T,
  value: T[number],
  options: SettingOptions = {},
) {
  return stringEnum(values, { ...options, description, default: value })
}

TypeRegistry.Set('StringEnum', (schema: { enum: unknown[] }, value) => schema.enum.includes(value))

/**
 * A string that is one of `values`: plain `{ type: 'string', enum }` in JSON Schema (for Fastify
 * and the OpenAPI document), the union as its type, and checked by TypeBox's `Value` too.
 */
export function stringEnum<const T extends readonly string[]>(values: T, options: SchemaOptions = {}) {
  return Type.Unsafe<T[number]>({ ...options, [Kind]: 'StringEnum', type: 'string', enum: [...values] })
}

/** Deep partial of a config object: what a file or the command line may set. */
export type Overrides<T> = {
  [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? Overrides<T[K]> : T[K]
}
