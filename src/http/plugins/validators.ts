import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

/**
 * Bodies are validated strictly (a number is not a string), while querystrings, params and headers
 * arrive as text and are coerced (`?limit=10`).
 */
export function buildValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const common: Options = { allErrors: false, useDefaults: true, removeAdditional: false, strict: false };
  const strictAjv = addFormats.default(new Ajv({ ...common, coerceTypes: false }));
  const coercingAjv = addFormats.default(new Ajv({ ...common, coerceTypes: 'array' }));
  return ({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? strictAjv : coercingAjv;
    return ajv.compile(schema as object);
  };
}

/** Validates a value assembled by hand (e.g. multipart fields) with the strict body rules. */
export function compileBodyValidator(schema: object): (value: unknown) => ValidationIssueLike[] | null {
  const ajv = addFormats.default(
    new Ajv({ allErrors: false, useDefaults: true, strict: false, coerceTypes: false }),
  );
  const validate = ajv.compile(schema);
  return (value) => (validate(value) ? null : ((validate.errors ?? []) as ValidationIssueLike[]));
}

export interface ValidationIssueLike {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}
