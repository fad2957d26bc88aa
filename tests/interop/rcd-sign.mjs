#!/usr/bin/env node
// Signs a PASSporT (RFC 8225; SHAKEN RFC 8588; Rich Call Data RFC 9795) with jose (npm) and
// computes its rcdi digests with canonicalize (npm, RFC 8785): the independent signer the
// SDK's identity verifier is checked against.
//
// usage: node rcd-sign.mjs --key KEY.pem --x5u URL --claims FILE [--ppt shaken|rcd]
//                          [--files DIR] [--omit-rcdi POINTER] [--nam-after-rcdi NAME]
//   --claims FILE          the claims (orig, dest, iat, attest, rcd, crn ...) as JSON
//   --files DIR            where the jcl and icn URLs resolve (by last path segment), so
//                          their rcdi digests cover the raw bytes of those files
//   --omit-rcdi POINTER    leave this rcdi entry out (e.g. /nam)
//   --nam-after-rcdi NAME  replace rcd.nam after the digests are computed (a signer whose
//                          rcdi no longer matches the name it sends)
// With an rcd claim, rcdi gets one entry per rcd member: sha256-<base64> of the JCS form of
// nam/apn/jcd, of the fetched bytes of jcl/icn, and of every jCard photo/logo URI.
// Prints the compact JWS on stdout.
import './webcrypto.mjs';
import { readFileSync } from 'node:fs';
import { createHash, createPrivateKey } from 'node:crypto';
import { basename } from 'node:path';
import canonicalize from 'canonicalize';
import { CompactSign, importPKCS8 } from 'jose';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i]] = process.argv[i + 1];
for (const req of ['--key', '--x5u', '--claims']) {
  if (!args[req]) {
    console.error(`rcd-sign.mjs: missing ${req}`);
    process.exit(2);
  }
}
const digest = (buf) => 'sha256-' + createHash('sha256').update(buf).digest('base64');
const fetched = (url) => readFileSync(`${args['--files']}/${basename(new URL(url).pathname)}`);

const claims = JSON.parse(readFileSync(args['--claims'], 'utf8'));
if (claims.rcd) {
  const rcdi = {};
  for (const m of ['nam', 'apn', 'jcd']) {
    if (m in claims.rcd) rcdi[`/${m}`] = digest(Buffer.from(canonicalize(claims.rcd[m]), 'utf8'));
  }
  for (const m of ['jcl', 'icn']) if (m in claims.rcd) rcdi[`/${m}`] = digest(fetched(claims.rcd[m]));
  const photos = (card, base) =>
    (card?.[1] ?? []).forEach((p, i) => {
      if ((p[0] === 'photo' || p[0] === 'logo') && typeof p[3] === 'string')
        rcdi[`${base}/1/${i}/3`] = digest(fetched(p[3]));
    });
  if (claims.rcd.jcd) photos(claims.rcd.jcd, '/jcd');
  if (claims.rcd.jcl) photos(JSON.parse(fetched(claims.rcd.jcl).toString('utf8')), '/jcl');
  if (args['--omit-rcdi']) delete rcdi[args['--omit-rcdi']];
  if (args['--nam-after-rcdi']) claims.rcd.nam = args['--nam-after-rcdi'];
  claims.rcdi = rcdi;
}
const pem = readFileSync(args['--key'], 'utf8');
const pkcs8 = createPrivateKey(pem).export({ type: 'pkcs8', format: 'pem' });
const key = await importPKCS8(pkcs8, 'ES256');
const header = { alg: 'ES256', typ: 'passport', x5u: args['--x5u'] };
if (args['--ppt']) header.ppt = args['--ppt'];
const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
  .setProtectedHeader(header)
  .sign(key);
console.log(jws);
