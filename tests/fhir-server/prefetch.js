#!/usr/bin/env node
// prefetch.js — what an EHR does before calling a CDS service: fills each prefetch template of
// the service's discovery document ({{context.patientId}} replaced) from its FHIR server, all
// pages of each search gathered into one searchset Bundle. Prints {"key": resource-or-Bundle}.
// Usage: node prefetch.js DISCOVERY.json SERVICE-ID FHIR-BASE TOKEN PATIENT-ID
'use strict';
const fs = require('fs');
const http = require('http');
const [disc, service, base, token, pid] = process.argv.slice(2);
const svc = JSON.parse(fs.readFileSync(disc, 'utf8')).services.find((s) => s.id === service);
if (!svc) { console.error(`prefetch.js: no service ${service}`); process.exit(2); }
function get(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`GET ${url}: HTTP ${res.statusCode}`));
        try { resolve(JSON.parse(body)); } catch (e) { reject(new Error(`GET ${url}: ${e.message}`)); }
      });
    });
    req.on('error', reject);
  });
}
(async () => {
  const out = {};
  for (const [key, tmpl] of Object.entries(svc.prefetch)) {
    let url = `${base}/${tmpl.replaceAll('{{context.patientId}}', pid)}`;
    let page = await get(url);
    if (page.resourceType !== 'Bundle') { out[key] = page; continue; }
    const all = { resourceType: 'Bundle', type: 'searchset', entry: [...(page.entry || [])] };
    // a "latest" query (_count=1) asks for one page only, like the service
    while (!/_count=1(&|$)/.test(tmpl) && (page.link || []).some((l) => l.relation === 'next')) {
      page = await get(page.link.find((l) => l.relation === 'next').url);
      all.entry.push(...(page.entry || []));
    }
    all.total = all.entry.length;
    out[key] = all;
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(`prefetch.js: ${e.message}`); process.exit(1); });
