#!/usr/bin/env node
// The labnet avatar repository (BAR) of PROTOCOL_PROFILE.md sections 7 and 8: a real HTTPS
// server (node:https, mutual TLS against the test operator CA) using jose (npm) for every
// JOSE operation. It is a test peer, not product code.
//
//   node bar.mjs --config FILE --port-file FILE [--host 127.0.0.1]
//
// FILE (JSON, written by the test):
//   {"bar_id":"bar.ims.example",            the BAR's identity: the attestation's "aud"
//    "ca":"root.pem",                        trust anchor for TLS clients and x5c chains
//    "cert":"bar.pem","key":"bar-key.pem",   server certificate (DNS:localhost)
//    "subscribers":{"sip:alice@ims.example":["av-alice"]},   avatar IDs per IMPU
//    "avatars":{"av-alice":{"file":"alice.glb","cty":"model/gltf-binary"}},
//    "signer":{"cert":"s.pem","key":"s-key.pem"}}    optional: manifests (section 8)
//
// POST /avatar/representation (body: the attestation, application/jwt) checks, in order:
// header (ES256, typ, x5c) -> 400 malformed; x5c chains to "ca" and each certificate is
// within its validity -> 401 untrusted_certificate; ES256 signature with the leaf key (jose)
// -> 401 bad_signature; claims present and typed -> 400 malformed; iss is the leaf's URI
// subjectAltName -> 401 untrusted_certificate; aud is bar_id -> 400 malformed; exp in the
// future, iat not ahead, lifetime <= 3600 s -> 401 expired; jti seen before (kept until its
// exp) -> 409 replayed; the requester: the TLS client certificate equals the x5c leaf (direct
// path) or carries dc_as as a DNS/URI subjectAltName (relay path) -> 403 wrong_requester;
// avatar_id known -> 404 unknown_avatar, and in iss's list -> 403 not_owner; rendering and
// epk consistent (sending-ue/receiving-ue: a public P-256 JWK; network: none, relay path
// only) -> 400 malformed / 403 wrong_requester. The answer is a compact JWE (ECDH-ES,
// A256GCM, apv = the jti's ASCII bytes, cty) made by jose, written in 64 KiB pieces as
// application/jose; for "network" the clear representation with its cty.
// GET /avatars/ID/manifest answers an avatar-manifest+jwt (digest, size, cty, 1 h).
// Errors are {"error":"<code>","detail":"..."}. One log line per request on stderr, without
// tokens or keys.
import '../../interop/webcrypto.mjs';
import { createRequire } from 'node:module';
import { X509Certificate, createHash } from 'node:crypto';
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import https from 'node:https';

// jose comes from tests/interop's node_modules (installed by install-deps.sh node), so the
// labnet needs no npm project of its own.
const here = dirname(fileURLToPath(import.meta.url));
const requireInterop = createRequire(resolve(here, '../../interop/package.json'));
const jose = await import(pathToFileURL(requireInterop.resolve('jose')).href);

const MAX_BODY = 65536;
const CHUNK = 65536;
const MAX_LIFETIME = 3600;
const SKEW = 5;

function args(argv) {
  const o = { host: '127.0.0.1' };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '').replace('-', '_');
    if (!['config', 'port_file', 'host'].includes(k) || i + 1 >= argv.length) {
      process.stderr.write('usage: bar.mjs --config FILE --port-file FILE [--host ADDR]\n');
      process.exit(2);
    }
    o[k] = argv[i + 1];
  }
  if (!o.config || !o.port_file) args(['--help']);
  return o;
}

const opts = args(process.argv.slice(2));
const cfg = JSON.parse(readFileSync(opts.config, 'utf8'));
const base = dirname(resolve(opts.config));
const file = (p) => readFileSync(resolve(base, p));
const caPem = file(cfg.ca).toString();
const anchors = caPem
  .split(/(?=-----BEGIN CERTIFICATE-----)/)
  .filter((p) => p.includes('BEGIN CERTIFICATE'))
  .map((p) => new X509Certificate(p));
const seen = new Map(); // jti -> exp (s)

class Refusal extends Error {
  constructor(status, code, detail) {
    super(detail);
    this.status = status;
    this.code = code;
  }
}
const refuse = (status, code, detail) => {
  throw new Refusal(status, code, detail);
};

function sanValues(cert, kinds) {
  // "URI:sip:alice@ims.example, DNS:localhost"; test identities contain no ", ".
  return (cert.subjectAltName || '')
    .split(', ')
    .map((e) => e.split(/:(.*)/s))
    .filter(([k]) => kinds.includes(k))
    .map(([, v]) => v);
}

function withinValidity(cert, now) {
  return now >= Date.parse(cert.validFrom) && now <= Date.parse(cert.validTo);
}

// x5c: leaf first; each certificate issued and signed by the next; the last one by an
// anchor (or is one). Validity against the real clock.
function checkChain(x5c) {
  let certs;
  try {
    certs = x5c.map((b) => new X509Certificate(Buffer.from(b, 'base64')));
  } catch {
    refuse(400, 'malformed', 'x5c entry is not a certificate');
  }
  const now = Date.now();
  for (let i = 0; i < certs.length; i++) {
    if (!withinValidity(certs[i], now)) refuse(401, 'untrusted_certificate', 'certificate outside its validity');
    if (i > 0 && !certs[i].ca) refuse(401, 'untrusted_certificate', 'intermediate is not a CA');
    if (i + 1 < certs.length && !(certs[i].checkIssued(certs[i + 1]) && certs[i].verify(certs[i + 1].publicKey)))
      refuse(401, 'untrusted_certificate', 'x5c is not a chain');
  }
  const last = certs[certs.length - 1];
  const ok = anchors.some(
    (a) => a.fingerprint256 === last.fingerprint256 || (last.checkIssued(a) && last.verify(a.publicKey)),
  );
  if (!ok) refuse(401, 'untrusted_certificate', 'x5c does not chain to the operator CA');
  if (certs[0].ca) refuse(401, 'untrusted_certificate', 'leaf is a CA certificate');
  return certs;
}

function b64urlJson(seg, what) {
  try {
    const v = JSON.parse(Buffer.from(seg, 'base64url').toString('utf8'));
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error();
    return v;
  } catch {
    refuse(400, 'malformed', `${what} is not a base64url JSON object`);
  }
}

const isStr = (v) => typeof v === 'string' && v.length > 0 && v.length <= 512;
const isInt = (v) => Number.isSafeInteger(v);

async function representation(req, body) {
  if (!/^application\/jwt\b/.test(req.headers['content-type'] || ''))
    refuse(400, 'malformed', 'body must be application/jwt');
  const jws = body.toString('latin1').trim();
  const parts = jws.split('.');
  if (parts.length !== 3) refuse(400, 'malformed', 'not a compact JWS');
  const hdr = b64urlJson(parts[0], 'protected header');
  if (hdr.alg !== 'ES256') refuse(400, 'malformed', 'alg must be ES256');
  if (hdr.typ !== 'avatar-attestation+jwt') refuse(400, 'malformed', 'typ must be avatar-attestation+jwt');
  if (!Array.isArray(hdr.x5c) || hdr.x5c.length < 1 || hdr.x5c.length > 4 || !hdr.x5c.every(isStr2))
    refuse(400, 'malformed', 'x5c missing');
  const chain = checkChain(hdr.x5c);
  const leaf = chain[0];
  let payload;
  try {
    const key = await jose.importX509(leaf.toString(), 'ES256');
    ({ payload } = await jose.compactVerify(jws, key, { algorithms: ['ES256'] }));
  } catch (e) {
    process.stderr.write(`bar: signature check: ${e.code || e.name}: ${e.message}\n`);
    refuse(401, 'bad_signature', 'signature does not verify with the x5c leaf');
  }
  let c;
  try {
    c = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    refuse(400, 'malformed', 'claims are not JSON');
  }
  for (const k of ['iss', 'avatar_id', 'dc_as', 'aud', 'rendering', 'jti'])
    if (!isStr(c[k])) refuse(400, 'malformed', `claim ${k} missing`);
  if (!isInt(c.iat) || !isInt(c.exp)) refuse(400, 'malformed', 'iat/exp must be integers');
  if (!sanValues(leaf, ['URI']).includes(c.iss))
    refuse(401, 'untrusted_certificate', "iss is not the certificate's IMPU");
  if (c.aud !== cfg.bar_id) refuse(400, 'malformed', 'aud is not this BAR');
  const now = Math.floor(Date.now() / 1000);
  if (now >= c.exp + SKEW) refuse(401, 'expired', 'attestation expired');
  if (c.iat > now + SKEW || c.exp - c.iat > MAX_LIFETIME) refuse(401, 'expired', 'iat/exp out of bounds');
  for (const [j, exp] of seen) if (exp + SKEW < now) seen.delete(j);
  if (seen.has(c.jti)) refuse(409, 'replayed', 'jti already used');
  seen.set(c.jti, c.exp);

  // The requester: direct path = the device itself, relay path = the named DC AS.
  const peer = req.socket.getPeerCertificate();
  if (!peer || !peer.raw) refuse(403, 'wrong_requester', 'no client certificate');
  const direct = Buffer.from(peer.raw).equals(leaf.raw);
  const peerX509 = new X509Certificate(peer.raw);
  const relay = !direct && sanValues(peerX509, ['DNS', 'URI']).includes(c.dc_as);
  if (!direct && !relay) refuse(403, 'wrong_requester', 'requester is neither the x5c leaf nor dc_as');

  const avatar = cfg.avatars[c.avatar_id];
  if (!avatar) refuse(404, 'unknown_avatar', 'no such avatar');
  if (!(cfg.subscribers[c.iss] || []).includes(c.avatar_id)) refuse(403, 'not_owner', 'avatar not in the IMPU list');
  const rep = file(avatar.file);
  const cty = avatar.cty || 'application/octet-stream';
  if (c.rendering === 'network') {
    if (c.epk !== undefined) refuse(400, 'malformed', 'network rendering takes no epk');
    if (!relay) refuse(403, 'wrong_requester', 'network rendering is released to the DC AS only');
    return { type: cty, data: rep, path: 'relay' };
  }
  if (c.rendering !== 'sending-ue' && c.rendering !== 'receiving-ue') refuse(400, 'malformed', 'unknown rendering');
  const e = c.epk;
  if (!e || typeof e !== 'object' || e.kty !== 'EC' || e.crv !== 'P-256' || 'd' in e || !isStr(e.x) || !isStr(e.y))
    refuse(400, 'malformed', `${c.rendering} needs a public P-256 epk`);
  let key;
  try {
    key = await jose.importJWK({ kty: 'EC', crv: 'P-256', x: e.x, y: e.y }, 'ECDH-ES');
  } catch {
    refuse(400, 'malformed', 'epk is not a usable P-256 key');
  }
  const jwe = await new jose.CompactEncrypt(rep)
    .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', cty })
    .setKeyManagementParameters({ apv: new TextEncoder().encode(c.jti) })
    .encrypt(key);
  return { type: 'application/jose', data: Buffer.from(jwe, 'latin1'), path: direct ? 'direct' : 'relay' };
}

function isStr2(v) {
  return typeof v === 'string' && v.length > 0 && v.length <= 8192;
}

async function manifest(id) {
  const avatar = cfg.avatars[id];
  if (!avatar || !cfg.signer) refuse(404, 'unknown_avatar', 'no such avatar or no signer');
  const rep = file(avatar.file);
  const signer = new X509Certificate(file(cfg.signer.cert));
  const key = await jose.importPKCS8(file(cfg.signer.key).toString(), 'ES256');
  const jws = await new jose.SignJWT({
    avatar_id: id,
    digest: 'sha256-' + createHash('sha256').update(rep).digest('base64'),
    size: rep.length,
    cty: avatar.cty || 'application/octet-stream',
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'avatar-manifest+jwt', x5c: [signer.raw.toString('base64')] })
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(key);
  return { type: 'application/jwt', data: Buffer.from(jws), path: 'manifest' };
}

async function answer(res, out) {
  res.writeHead(200, { 'content-type': out.type, 'content-length': out.data.length });
  for (let o = 0; o < out.data.length; o += CHUNK) {
    if (!res.write(out.data.subarray(o, o + CHUNK))) await new Promise((r) => res.once('drain', r));
  }
  res.end();
}

async function handle(req, res) {
  const chunks = [];
  let size = 0;
  for await (const c of req) {
    size += c.length;
    if (size > MAX_BODY) refuse(400, 'malformed', 'body too large');
    chunks.push(c);
  }
  const m = /^\/avatars\/([A-Za-z0-9._-]{1,128})\/manifest$/.exec(req.url);
  if (req.method === 'POST' && req.url === '/avatar/representation')
    return representation(req, Buffer.concat(chunks));
  if (req.method === 'GET' && m) return manifest(m[1]);
  refuse(404, 'malformed', 'no such resource');
}

const server = https.createServer(
  {
    cert: file(cfg.cert),
    key: file(cfg.key),
    ca: caPem,
    requestCert: true,
    rejectUnauthorized: true, // a client certificate from another CA fails the handshake
    maxVersion: 'TLSv1.2', // the device's mbedTLS 2.28 speaks TLS 1.2
  },
  (req, res) => {
    handle(req, res)
      .then((out) => {
        process.stderr.write(`bar: ${req.method} ${req.url} -> 200 ${out.path} ${out.data.length} bytes\n`);
        return answer(res, out);
      })
      .catch((e) => {
        const r = e instanceof Refusal ? e : new Refusal(500, 'internal', 'internal error');
        if (!(e instanceof Refusal)) process.stderr.write(`bar: internal: ${e.stack || e}\n`);
        process.stderr.write(`bar: ${req.method} ${req.url} -> ${r.status} ${r.code} (${r.message})\n`);
        if (res.headersSent) return res.destroy();
        const body = JSON.stringify({ error: r.code, detail: r.message });
        res.writeHead(r.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
  },
);
server.on('tlsClientError', (e) => process.stderr.write(`bar: TLS client refused: ${e.code || e.message}\n`));
server.listen(0, opts.host, () => {
  writeFileSync(opts.port_file + '.tmp', String(server.address().port));
  renameSync(opts.port_file + '.tmp', opts.port_file);
  process.stderr.write(`bar: listening on ${opts.host}:${server.address().port} as ${cfg.bar_id}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
