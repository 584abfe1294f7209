/**
 * Validates our JSON against Twilio's own OpenAPI schemas (twilio-oai, excerpt in
 * `test/fixtures/twilio-api-v2010-excerpt.json`, kept as twilio-oai publishes it): types, nullability, enums, SID patterns,
 * and that no key is missing or extra.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import AjvModule from 'ajv';

const SPEC_PATH = fileURLToPath(new URL('../fixtures/twilio-api-v2010-excerpt.json', import.meta.url));
const spec = JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as { components: { schemas: Record<string, Record<string, unknown>> } };

const Ajv = AjvModule.default;
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
// One root document, so the spec's own `#/components/schemas/…` references resolve.
ajv.addSchema({ $id: 'twilio', components: spec.components });

/** The key names of a Twilio schema, in the spec's order. */
export function schemaKeys(name: string): string[] {
  const schema = spec.components.schemas[name];
  if (!schema) throw new Error(`no schema ${name}`);
  return Object.keys(schema.properties as object);
}

/** Errors of `value` against the named schema; empty when valid. Also checks exact key set. */
export function schemaErrors(name: string, value: unknown): string[] {
  const validate = ajv.getSchema(`twilio#/components/schemas/${name}`);
  if (!validate) throw new Error(`no schema ${name}`);
  const errors: string[] = [];
  if (!validate(value)) errors.push(...(validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`));
  const keys = Object.keys(value as object);
  const expected = schemaKeys(name);
  const missing = expected.filter((k) => !keys.includes(k));
  const extra = keys.filter((k) => !expected.includes(k));
  if (missing.length) errors.push(`missing keys: ${missing.join(', ')}`);
  if (extra.length) errors.push(`extra keys: ${extra.join(', ')}`);
  return errors;
}
