#!/usr/bin/env node
// Signs JSON claims as a compact ES256 JWS with jose (npm), header {alg, typ, x5c}: the
// reference signer that the SDK's verifier is checked against.
//
// usage: node jws-sign.mjs --key KEY.pem --cert CERT.pem [--chain ROOT.pem] --claims FILE [--typ T]
//   --key KEY.pem     P-256 private key, PEM (PKCS#8 "PRIVATE KEY" or SEC1 "EC PRIVATE KEY")
//   --cert CERT.pem   the signer's certificate (leaf first; further certificates in the file
//                     are appended to x5c in order)
//   --chain ROOT.pem  certificates appended to x5c after those of --cert
//   --claims FILE     JSON object to sign ("-" reads standard input)
//   --typ T           "typ" header value
// Prints the compact JWS and a newline on stdout; on failure prints "jws-sign: <reason>" on
// stderr and exits 1 (2 for a usage error).
import './webcrypto.mjs';
import * as jose from 'jose';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';

const PROG = 'jws-sign';
const USAGE = `usage: ${PROG} --key KEY.pem --cert CERT.pem [--chain ROOT.pem] --claims FILE [--typ T]`;

class Failure extends Error {}
class UsageError extends Error {}

function parseArgs(argv) {
  const opts = { key: null, cert: null, chain: null, claims: null, typ: null };
  const names = { '--key': 'key', '--cert': 'cert', '--chain': 'chain', '--claims': 'claims', '--typ': 'typ' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') throw new UsageError('');
    if (!(a in names)) throw new UsageError(a.startsWith('--') ? `unknown option ${a}` : `unexpected argument ${a}`);
    if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value`);
    opts[names[a]] = argv[++i];
  }
  for (const required of ['key', 'cert', 'claims']) {
    if (opts[required] === null) throw new UsageError(`--${required} is required`);
  }
  return opts;
}

function readText(path, what) {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (e) {
    throw new Failure(`cannot read ${what} ${path}: ${e.code || e.message}`);
  }
}

function certsOf(path, what) {
  const blocks = readText(path, what).match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
  if (!blocks) throw new Failure(`no PEM certificate in ${path}`);
  return blocks.map((pem) => {
    try {
      return new X509Certificate(pem);
    } catch (e) {
      throw new Failure(`bad certificate in ${path}: ${e.message}`);
    }
  });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));

  let key;
  try {
    key = createPrivateKey(readText(opts.key, 'key file'));
  } catch (e) {
    if (e instanceof Failure) throw e;
    throw new Failure(`cannot parse private key ${opts.key}: ${e.message}`);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails.namedCurve !== 'prime256v1') {
    throw new Failure(`${opts.key} is not a P-256 EC private key (ES256 needs one)`);
  }

  const certs = certsOf(opts.cert, 'certificate file');
  if (opts.chain !== null) certs.push(...certsOf(opts.chain, 'chain file'));

  const spki = (k) => k.export({ type: 'spki', format: 'der' });
  if (!spki(createPublicKey(key)).equals(spki(certs[0].publicKey))) {
    throw new Failure(`the key in ${opts.key} does not match the certificate in ${opts.cert}`);
  }

  let claims;
  try {
    claims = JSON.parse(readText(opts.claims, 'claims file'));
  } catch (e) {
    if (e instanceof Failure) throw e;
    throw new Failure(`claims file ${opts.claims} is not JSON: ${e.message}`);
  }
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) {
    throw new Failure('claims must be a JSON object');
  }

  const header = { alg: 'ES256' };
  if (opts.typ !== null) header.typ = opts.typ;
  header.x5c = certs.map((c) => c.raw.toString('base64'));

  const jws = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader(header)
    .sign(key);
  process.stdout.write(`${jws}\n`);
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
