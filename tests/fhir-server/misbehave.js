#!/usr/bin/env node
// misbehave.js — a FHIR "server" that answers wrongly on purpose, to test what openrx's CDS
// Hooks service does with a broken fhirServer. The first path segment picks the fault; the base
// URL to give as fhirServer is http://127.0.0.1:PORT/<fault>:
//   slow      never answers (holds the connection)
//   garbage   200 with truncated JSON
//   notbundle 200 with a Patient where a search Bundle is due (and a Bundle where a Patient is)
//   loop      every search page links "next" to itself (the page cap must stop it)
//   foreign   a search page whose "next" link points at another server
//   error500  HTTP 500 with an OperationOutcome
//   badentry  a Bundle whose entry has no resource
// Prints "listening http://127.0.0.1:PORT". Usage: node misbehave.js
'use strict';
const http = require('http');
const held = [];
const server = http.createServer((req, res) => {
  const u = new URL(req.url, `http://${req.headers.host}`);
  const [, fault, type] = u.pathname.split('/');
  const json = (status, body) => { res.writeHead(status, { 'content-type': 'application/fhir+json' }); res.end(typeof body === 'string' ? body : JSON.stringify(body)); };
  const read = !u.search; // Patient/<id> is a read; the rest are searches
  const bundle = (extra) => Object.assign({ resourceType: 'Bundle', type: 'searchset', entry: [] }, extra);
  const patient = { resourceType: 'Patient', id: 'p1', gender: 'male', birthDate: '1950-01-01' };
  switch (fault) {
    case 'slow': held.push(res); return;
    case 'garbage': return json(200, '{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Medicat');
    case 'notbundle': return json(200, read ? bundle() : patient);
    case 'loop': return json(200, read ? patient : bundle({ link: [{ relation: 'next', url: u.href }] }));
    case 'foreign': return json(200, read ? patient : bundle({ link: [{ relation: 'next', url: 'http://192.0.2.1/fhir/' + type }] }));
    case 'error500': return json(500, { resourceType: 'OperationOutcome', issue: [{ severity: 'fatal', code: 'exception', diagnostics: 'database unavailable' }] });
    case 'badentry': return json(200, read ? patient : bundle({ entry: [{ fullUrl: 'urn:uuid:1' }] }));
    default: return json(404, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] });
  }
});
server.listen(0, '127.0.0.1', () => console.log(`listening http://127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => { for (const r of held) r.destroy(); process.exit(0); });
