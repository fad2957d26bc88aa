#!/usr/bin/env node
// Independent check of the claim rules of an imsdc avatar token (PROTOCOL_PROFILE.md
// section 6), after jws-verify.mjs has checked signature and chain. Uses jose (npm) and
// node:crypto only, sharing no code with the SDK.
//
// usage: node avatar-check.mjs --profile attestation|avatar-token|ue-token|cca TOKENFILE
//                              [--rendering network|sending-ue|receiving-ue] [--epk JWKFILE]
//                              [--lifetime S]
//   --profile     which token profile the token must follow (typ and required claims)
//   --rendering   attestation only: the expected rendering (epk present for UE rendering,
//                 absent for network)
//   --epk         attestation only: the JWK the epk claim must equal (x and y)
//   --lifetime    exp - iat must equal this (default 60)
// Exits 0 when every rule holds, 1 with "avatar-check: <reason>" otherwise, 2 on usage.
import './webcrypto.mjs';
import * as jose from 'jose';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

const PROG = 'avatar-check';
const PROFILES = {
  attestation: { typ: 'avatar-attestation+jwt', id: 'iss', claims: ['avatar_id', 'dc_as', 'aud', 'rendering'] },
  'avatar-token': { typ: 'avatar-token+jwt', id: 'iss', claims: ['avatar_id', 'sub', 'aud'] },
  'ue-token': { typ: 'ue-token+jwt', id: 'sub', claims: ['aud'] },
  cca: { typ: 'cca+jwt', id: 'sub', claims: ['aud'] },
};

class Failure extends Error {}
class UsageError extends Error {}

function parseArgs(argv) {
  const o = { lifetime: 60 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--profile') o.profile = v();
    else if (a === '--rendering') o.rendering = v();
    else if (a === '--epk') o.epk = v();
    else if (a === '--lifetime') o.lifetime = Number(v());
    else if (a.startsWith('--')) throw new UsageError(`unknown option ${a}`);
    else o.token = a;
  }
  if (!PROFILES[o.profile]) throw new UsageError('--profile is attestation, avatar-token, ue-token or cca');
  if (!o.token) throw new UsageError('TOKENFILE is required');
  return o;
}

function leafUris(x5c0) {
  const cert = new X509Certificate(Buffer.from(x5c0, 'base64'));
  return (cert.subjectAltName || '').split(', ').filter((e) => e.startsWith('URI:')).map((e) => e.slice(4));
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  const p = PROFILES[o.profile];
  const token = readFileSync(o.token, 'utf8').trim();
  const header = jose.decodeProtectedHeader(token);
  const claims = jose.decodeJwt(token);
  if (header.alg !== 'ES256') throw new Failure(`alg ${header.alg}`);
  if (header.typ !== p.typ) throw new Failure(`typ ${JSON.stringify(header.typ)}, expected ${p.typ}`);
  if (!Array.isArray(header.x5c) || header.x5c.length === 0) throw new Failure('no x5c');
  const uris = leafUris(header.x5c[0]);
  if (uris.length === 0) throw new Failure('leaf has no URI subjectAltName');
  if (claims[p.id] !== uris[0]) throw new Failure(`${p.id} ${JSON.stringify(claims[p.id])} is not the leaf URI ${uris[0]}`);
  if (p.id === 'sub' && 'iss' in claims) throw new Failure('unexpected iss');
  for (const c of p.claims) {
    if (typeof claims[c] !== 'string' || claims[c] === '') throw new Failure(`claim ${c} missing`);
  }
  for (const c of ['iat', 'exp']) {
    if (!Number.isInteger(claims[c])) throw new Failure(`claim ${c} is not an integer`);
  }
  if (claims.exp - claims.iat !== o.lifetime) throw new Failure(`exp - iat = ${claims.exp - claims.iat}, expected ${o.lifetime}`);
  if (typeof claims.jti !== 'string' || claims.jti.length < 16) throw new Failure('jti missing or short');
  if (o.profile === 'attestation') {
    if (o.rendering && claims.rendering !== o.rendering) throw new Failure(`rendering ${claims.rendering}`);
    const wantEpk = claims.rendering !== 'network';
    if (wantEpk !== ('epk' in claims)) throw new Failure(`epk ${wantEpk ? 'missing' : 'present'} for ${claims.rendering}`);
    if (wantEpk) {
      const e = claims.epk;
      if (e.kty !== 'EC' || e.crv !== 'P-256' || 'd' in e) throw new Failure('epk is not a public P-256 JWK');
      if (o.epk) {
        const want = JSON.parse(readFileSync(o.epk, 'utf8'));
        if (want.x !== e.x || want.y !== e.y) throw new Failure('epk is not the expected key');
      }
    }
  } else if ('epk' in claims || 'rendering' in claims) {
    throw new Failure('attestation claims in another profile');
  }
  process.stdout.write(`ok: ${o.profile}\n`);
}

try {
  main();
} catch (e) {
  if (e instanceof UsageError) {
    process.stderr.write(`${PROG}: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`${PROG}: ${e instanceof Failure ? e.message : e.stack || e}\n`);
  process.exit(1);
}
