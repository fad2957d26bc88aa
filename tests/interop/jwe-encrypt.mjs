#!/usr/bin/env node
// Encrypts a file as a compact JWE with jose (npm): "alg":"ECDH-ES" (direct key agreement
// with a fresh ephemeral key), "enc":"A256GCM", for a recipient's P-256 public JWK, with
// "apv" = base64url(JTI in ASCII) and the given "cty". This plays the avatar repository's
// part when the SDK's decryption is tested.
//
// usage: node jwe-encrypt.mjs --epk-jwk FILE|JSON --apv-jti JTI --cty TYPE --in FILE --out FILE
//   --epk-jwk   the recipient's public key as a JWK: a file name or the JSON text itself
//   --apv-jti   token id bound into the key derivation as PartyVInfo (printable ASCII)
//   --cty       content type header of the plaintext
//   --in/--out  plaintext file ("-" = standard input) / file to write the compact JWE to
// On failure prints "jwe-encrypt: <reason>" on stderr and exits 1 (2 for a usage error).
import './webcrypto.mjs';
import * as jose from 'jose';
import { readFileSync, writeFileSync } from 'node:fs';

const PROG = 'jwe-encrypt';
const USAGE = `usage: ${PROG} --epk-jwk FILE|JSON --apv-jti JTI --cty TYPE --in FILE --out FILE`;

class Failure extends Error {}
class UsageError extends Error {}

function parseArgs(argv) {
  const names = { '--epk-jwk': 'jwk', '--apv-jti': 'jti', '--cty': 'cty', '--in': 'in', '--out': 'out' };
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') throw new UsageError('');
    if (!(a in names)) throw new UsageError(a.startsWith('--') ? `unknown option ${a}` : `unexpected argument ${a}`);
    if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value`);
    opts[names[a]] = argv[++i];
  }
  for (const [flag, name] of Object.entries(names)) {
    if (opts[name] === undefined) throw new UsageError(`${flag} is required`);
  }
  return opts;
}

function readJwk(arg) {
  let text = arg;
  if (!arg.trimStart().startsWith('{')) {
    try {
      text = readFileSync(arg, 'utf8');
    } catch (e) {
      throw new Failure(`cannot read JWK file ${arg}: ${e.code || e.message}`);
    }
  }
  let jwk;
  try {
    jwk = JSON.parse(text);
  } catch (e) {
    throw new Failure(`recipient JWK is not JSON: ${e.message}`);
  }
  if (jwk === null || typeof jwk !== 'object') throw new Failure('recipient JWK is not a JSON object');
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') throw new Failure('recipient JWK must be kty "EC", crv "P-256"');
  if ('d' in jwk) throw new Failure('recipient JWK holds a private key ("d"); give the public key only');
  return jwk;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!/^[\x20-\x7e]+$/.test(opts.jti)) throw new Failure('--apv-jti must be non-empty printable ASCII');

  const jwk = readJwk(opts.jwk);
  let key;
  try {
    key = await jose.importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, 'ECDH-ES');
  } catch (e) {
    throw new Failure(`recipient JWK is not a usable P-256 public key: ${e.message}`);
  }

  let plaintext;
  try {
    plaintext = readFileSync(opts.in === '-' ? 0 : opts.in);
  } catch (e) {
    throw new Failure(`cannot read input ${opts.in}: ${e.code || e.message}`);
  }

  const jwe = await new jose.CompactEncrypt(plaintext)
    .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', cty: opts.cty })
    .setKeyManagementParameters({ apv: new TextEncoder().encode(opts.jti) })
    .encrypt(key);

  try {
    writeFileSync(opts.out, jwe);
  } catch (e) {
    throw new Failure(`cannot write ${opts.out}: ${e.code || e.message}`);
  }
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
