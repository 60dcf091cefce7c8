import AjvCompiler, { type ValidatorFactory } from '@fastify/ajv-compiler';

/**
 * fastify's validator compiler with Ajv's type coercion kept where values arrive as text (query string, path
 * parameters, headers) and turned off for JSON bodies: a body's `"limit": "5"` or `"replace": "true"` is a 400
 * naming the field, as the README promises for any schema violation, instead of being read as 5 or true. fastify's
 * `schemaController.compilersFactory.buildValidator` option.
 */
export function strictBodyValidatorFactory(): ValidatorFactory {
  const pool = AjvCompiler();
  return (externalSchemas, options) => {
    const coercing = pool(externalSchemas, options);
    const strict = pool(externalSchemas, {
      ...options,
      customOptions: { ...options?.customOptions, coerceTypes: false },
    } as Parameters<ValidatorFactory>[1]);
    return (route) => (route.httpPart === 'body' ? strict : coercing)(route);
  };
}
