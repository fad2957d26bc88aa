#!/usr/bin/env node
// Independent check of a compact ES256 JWS that carries its signer's certificate chain in
// the "x5c" header (RFC 7515 §4.1.6). Uses jose (npm) for JOSE and node:crypto for X.509,
// so it shares no code with the SDK's mbedTLS implementation.
//
// usage: node jws-verify.mjs --trust ROOT.pem TOKENFILE [--expect-typ T] [--iss-is-leaf-uri]
//                            [--now UNIX_SECONDS]
//   --trust ROOT.pem    trust anchor(s), one or more PEM certificates in one file
//   TOKENFILE           file holding the compact JWS ("-" reads standard input)
//   --expect-typ T      the protected header's "typ" must equal T
//   --iss-is-leaf-uri   the payload's "iss" (or "sub" when there is no "iss") must equal a
//                       URI entry of the leaf certificate's subjectAltName
//   --now SECONDS       check certificate validity and "exp"/"nbf" at this time instead of
//                       the current time (for tokens made on a virtual clock)
// On success prints the payload (JSON) on stdout and exits 0; on failure prints
// "jws-verify: <reason>" on stderr and exits 1 (2 for a usage error).
import './webcrypto.mjs';
import * as jose from 'jose';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

const PROG = 'jws-verify';
const USAGE =
  `usage: ${PROG} --trust ROOT.pem TOKENFILE [--expect-typ T] [--iss-is-leaf-uri] [--now UNIX_SECONDS]`;

class Failure extends Error {}
class UsageError extends Error {}

function parseArgs(argv) {
  const opts = { trust: null, token: null, expectTyp: null, issIsLeafUri: false, now: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--trust') opts.trust = value();
    else if (a === '--expect-typ') opts.expectTyp = value();
    else if (a === '--iss-is-leaf-uri') opts.issIsLeafUri = true;
    else if (a === '--now') {
      const v = value();
      if (!/^\d+$/.test(v)) throw new UsageError('--now takes whole seconds since 1970');
      opts.now = Number(v) * 1000;
    } else if (a === '--help' || a === '-h') throw new UsageError('');
    else if (a.startsWith('--')) throw new UsageError(`unknown option ${a}`);
    else if (opts.token === null) opts.token = a;
    else throw new UsageError(`unexpected argument ${a}`);
  }
  if (!opts.trust) throw new UsageError('--trust ROOT.pem is required');
  if (!opts.token) throw new UsageError('TOKENFILE is required');
  return opts;
}

function readText(path, what) {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (e) {
    throw new Failure(`cannot read ${what} ${path}: ${e.code || e.message}`);
  }
}

function pemBlocks(text, label) {
  const re = new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----`, 'g');
  return text.match(re) || [];
}

function derBase64ToPem(b64) {
  const lines = b64.match(/.{1,64}/g).join('\n');
  return `-----BEGIN CERTIFICATE-----\n${lines}\n-----END CERTIFICATE-----\n`;
}

// Node renders subjectAltName as "DNS:a, URI:sip:x@y"; values with special characters are
// JSON-quoted ("URI:\"sip:a,b\""). Returns [{type, value}].
function parseSubjectAltName(san) {
  const out = [];
  if (!san) return out;
  let i = 0;
  while (i < san.length) {
    const colon = san.indexOf(':', i);
    if (colon < 0) break;
    const type = san.slice(i, colon).trim();
    let j = colon + 1;
    let value;
    if (san[j] === '"') {
      let k = j + 1;
      while (k < san.length && san[k] !== '"') k += san[k] === '\\' ? 2 : 1;
      value = JSON.parse(san.slice(j, k + 1));
      j = k + 1;
      const sep = san.indexOf(', ', j);
      j = sep < 0 ? san.length : sep;
    } else {
      const sep = san.indexOf(', ', j);
      const end = sep < 0 ? san.length : sep;
      value = san.slice(j, end);
      j = end;
    }
    out.push({ type, value });
    i = j + 2;
  }
  return out;
}

function describe(cert) {
  return `"${cert.subject.replace(/\n/g, ', ')}"`;
}

function checkValidity(cert, nowMs, what) {
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (Number.isNaN(from) || Number.isNaN(to)) throw new Failure(`${what}: unreadable validity dates`);
  if (nowMs < from) throw new Failure(`${what} ${describe(cert)} is not valid before ${cert.validFrom}`);
  if (nowMs > to) throw new Failure(`${what} ${describe(cert)} expired at ${cert.validTo}`);
}

function issuedBy(cert, issuer) {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

// chain[0] is the leaf. Walks leaf -> intermediates until a certificate is issued by (or is)
// one of the trust anchors.
function verifyChain(chain, anchors, nowMs) {
  for (const a of anchors) {
    if (!a.ca) throw new Failure(`trust anchor ${describe(a)} is not a CA certificate`);
    checkValidity(a, nowMs, 'trust anchor');
  }
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i];
    const what = i === 0 ? 'leaf certificate' : `x5c[${i}]`;
    if (anchors.some((a) => a.fingerprint256 === cert.fingerprint256)) {
      if (i === 0) throw new Failure('the leaf certificate is a trust anchor itself');
      return;
    }
    checkValidity(cert, nowMs, what);
    if (i > 0 && !cert.ca) throw new Failure(`${what} ${describe(cert)} is not a CA certificate`);
    if (anchors.some((a) => issuedBy(cert, a))) return;
    const next = chain[i + 1];
    if (!next) {
      throw new Failure(`${what} ${describe(cert)} (issuer "${cert.issuer.replace(/\n/g, ', ')}") ` +
        'does not chain to the trust anchor');
    }
    if (!cert.checkIssued(next)) {
      throw new Failure(`x5c[${i + 1}] is not the issuer of ${what} ${describe(cert)}`);
    }
    if (!cert.verify(next.publicKey)) {
      throw new Failure(`signature of ${what} ${describe(cert)} does not verify with x5c[${i + 1}]`);
    }
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const nowMs = opts.now ?? Date.now();

  const anchorPems = pemBlocks(readText(opts.trust, 'trust file'), 'CERTIFICATE');
  if (anchorPems.length === 0) throw new Failure(`no PEM certificate in ${opts.trust}`);
  const anchors = anchorPems.map((p) => new X509Certificate(p));

  const token = readText(opts.token, 'token file').trim();
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$/.test(token)) {
    throw new Failure('not a compact JWS (three base64url parts separated by dots)');
  }

  let header;
  try {
    header = jose.decodeProtectedHeader(token);
  } catch (e) {
    throw new Failure(`bad protected header: ${e.message}`);
  }
  if (header.alg !== 'ES256') throw new Failure(`alg is ${JSON.stringify(header.alg)}, expected "ES256"`);
  if (opts.expectTyp !== null && header.typ !== opts.expectTyp) {
    throw new Failure(`typ is ${JSON.stringify(header.typ)}, expected ${JSON.stringify(opts.expectTyp)}`);
  }
  if (!Array.isArray(header.x5c) || header.x5c.length === 0) {
    throw new Failure('protected header has no x5c certificate chain');
  }

  const chain = header.x5c.map((entry, i) => {
    if (typeof entry !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(entry) || entry.length % 4 !== 0) {
      throw new Failure(`x5c[${i}] is not standard (padded, non-URL) base64 DER (RFC 7515 §4.1.6)`);
    }
    try {
      return { pem: derBase64ToPem(entry), cert: new X509Certificate(Buffer.from(entry, 'base64')) };
    } catch (e) {
      throw new Failure(`x5c[${i}] is not an X.509 certificate: ${e.message}`);
    }
  });

  let leafKey;
  try {
    leafKey = await jose.importX509(chain[0].pem, 'ES256');
  } catch (e) {
    throw new Failure(`leaf certificate key is not usable for ES256: ${e.message}`);
  }

  let result;
  try {
    result = await jose.compactVerify(token, leafKey, { algorithms: ['ES256'] });
  } catch (e) {
    throw new Failure(`signature: ${e.code || ''} ${e.message}`.replace(/\s+/g, ' ').trim());
  }

  verifyChain(chain.map((c) => c.cert), anchors, nowMs);

  let payloadText;
  let payload;
  try {
    payloadText = new TextDecoder('utf-8', { fatal: true }).decode(result.payload);
    payload = JSON.parse(payloadText);
  } catch (e) {
    throw new Failure(`payload is not JSON: ${e.message}`);
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new Failure('payload is not a JSON object');
  }

  const nowS = Math.floor(nowMs / 1000);
  if ('exp' in payload) {
    if (typeof payload.exp !== 'number') throw new Failure('"exp" is not a number');
    if (nowS >= payload.exp) throw new Failure(`token expired ("exp" ${payload.exp}, now ${nowS})`);
  }
  if ('nbf' in payload) {
    if (typeof payload.nbf !== 'number') throw new Failure('"nbf" is not a number');
    if (nowS < payload.nbf) throw new Failure(`token not yet valid ("nbf" ${payload.nbf}, now ${nowS})`);
  }

  if (opts.issIsLeafUri) {
    const claim = 'iss' in payload ? 'iss' : 'sub';
    const id = payload[claim];
    if (typeof id !== 'string') throw new Failure('payload has neither a string "iss" nor "sub"');
    const uris = parseSubjectAltName(chain[0].cert.subjectAltName)
      .filter((e) => e.type === 'URI')
      .map((e) => e.value);
    if (!uris.includes(id)) {
      throw new Failure(`"${claim}" ${JSON.stringify(id)} is not a URI in the leaf's subjectAltName ` +
        `(${uris.length ? uris.map((u) => JSON.stringify(u)).join(', ') : 'none'})`);
    }
  }

  process.stdout.write(payloadText.endsWith('\n') ? payloadText : `${payloadText}\n`);
}

main().catch((e) => {
  if (e instanceof UsageError) {
    if (e.message) process.stderr.write(`${PROG}: ${e.message}\n`);
    process.stderr.write(`${USAGE}\n`);
    process.exit(2);
  }
  const reason = e instanceof Failure ? e.message : `unexpected error: ${e.stack || e}`;
  process.stderr.write(`${PROG}: ${reason}\n`);
  process.exit(1);
});
