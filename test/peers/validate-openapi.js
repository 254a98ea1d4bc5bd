// Validates docs/openapi.yaml and keeps it true to the code.
// Usage: node validate-openapi.js OPENAPI_FILE [ROUTES_FILE]
//   1. The document is valid OpenAPI 3 (@apidevtools/swagger-parser: structure and $refs).
//   2. Every example (request bodies, answers, parameters) is valid against its schema
//      (ajv, formats checked).
//   3. With ROUTES_FILE (lines "METHOD /path", as registered with router.Add in the code):
//      every route is in the document's paths with that method, and the document
//      describes no operation the code does not register.
// Exits 0 when all holds; prints every problem and exits 1 otherwise.
'use strict';
const fs = require('fs');
const SwaggerParser = require('@apidevtools/swagger-parser');
const Ajv = require('ajv');
const addFormats = require('ajv-formats');

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

async function main() {
  const [file, routesFile] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node validate-openapi.js OPENAPI_FILE [ROUTES_FILE]');
    process.exit(2);
  }
  const problems = [];

  let api;
  try {
    api = await SwaggerParser.validate(file);  // dereferenced on success
  } catch (err) {
    console.log(`INVALID ${file}: not a valid OpenAPI document`);
    console.log(`  ${err.message}`);
    process.exit(1);
  }
  if (!/^3\./.test(api.openapi || '')) problems.push(`openapi is ${api.openapi}, not 3.x`);

  // 2. Examples against their schemas. OpenAPI 3.0 schemas are a JSON Schema dialect:
  // `example`, `discriminator` and the like are annotations here.
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  let examples = 0;
  const check = (where, schema, value) => {
    if (!schema) return;
    examples++;
    let validate;
    try {
      validate = ajv.compile(schema);
    } catch (err) {
      problems.push(`${where}: the schema does not compile: ${err.message}`);
      return;
    }
    if (!validate(value)) {
      for (const e of validate.errors) {
        problems.push(`${where}: example ${e.instancePath || '(root)'} ${e.message}` +
                      (e.params ? ` ${JSON.stringify(e.params)}` : ''));
      }
    }
  };
  const checkMedia = (where, content) => {
    for (const [type, media] of Object.entries(content || {})) {
      if (media.example !== undefined) check(`${where} ${type}`, media.schema, media.example);
      for (const [name, ex] of Object.entries(media.examples || {})) {
        if (ex.value !== undefined) check(`${where} ${type} examples.${name}`, media.schema, ex.value);
      }
    }
  };
  const operations = [];
  for (const [path, item] of Object.entries(api.paths || {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      operations.push(`${method.toUpperCase()} ${path}`);
      const where = `${method.toUpperCase()} ${path}`;
      const params = [...(item.parameters || []), ...(op.parameters || [])];
      for (const p of params) {
        if (p.schema && p.schema.example !== undefined) {
          check(`${where} parameter ${p.name}`, p.schema, p.schema.example);
        }
        if (p.in === 'path' && !path.includes(`{${p.name}}`)) {
          problems.push(`${where}: path parameter ${p.name} is not in the path`);
        }
      }
      for (const name of path.match(/\{[^}]+\}/g) || []) {
        if (!params.some((p) => p.in === 'path' && `{${p.name}}` === name)) {
          problems.push(`${where}: ${name} has no path parameter`);
        }
      }
      if (op.requestBody) {
        if (!Object.values(op.requestBody.content || {}).some(
            (m) => m.example !== undefined || Object.keys(m.examples || {}).length)) {
          problems.push(`${where}: the request body has no example`);
        }
        checkMedia(`${where} request`, op.requestBody.content);
      }
      for (const [status, response] of Object.entries(op.responses || {})) {
        const media = Object.values(response.content || {});
        if (/^2/.test(status) && media.length &&
            !media.some((m) => m.example !== undefined || Object.keys(m.examples || {}).length)) {
          problems.push(`${where}: the ${status} answer has no example`);
        }
        checkMedia(`${where} ${status}`, response.content);
      }
    }
  }

  // 3. The code's routes.
  if (routesFile) {
    const routes = fs.readFileSync(routesFile, 'utf8').split('\n')
      .map((l) => l.trim()).filter(Boolean);
    if (!routes.length) problems.push(`${routesFile}: no routes found in the code`);
    for (const route of routes) {
      const [method, path] = route.split(/\s+/);
      const item = api.paths[path];
      if (!item) {
        problems.push(`the code registers ${method} ${path}, but docs has no path ${path}`);
      } else if (!item[method.toLowerCase()]) {
        problems.push(`the code registers ${method} ${path}, but docs has no ${method} on it`);
      }
    }
    const registered = new Set(routes.map((r) => r.replace(/\s+/, ' ')));
    for (const op of operations) {
      if (!registered.has(op)) problems.push(`docs describes ${op}, which the code does not register`);
    }
  }

  if (problems.length) {
    console.log(`INVALID ${file}: ${problems.length} problem(s)`);
    for (const p of problems) console.log(`  ${p}`);
    process.exit(1);
  }
  console.log(`valid ${file}: OpenAPI ${api.openapi}, ${operations.length} operations, ` +
              `${examples} examples checked` +
              (routesFile ? ', every route of the code documented' : ''));
}

main().catch((err) => {
  console.log(`error: ${err.stack || err}`);
  process.exit(1);
});
