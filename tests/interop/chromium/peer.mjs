// Headless Chromium as the independent data-channel peer of imsdc (tests/interop/chromium/
// dc_interop.sh). SDP goes through files: the offer or answer is written atomically (rename)
// and the peer's is awaited.
//   node peer.mjs offer  OUT_OFFER IN_ANSWER   Chromium offers, opens channel "imsdc-peer"
//                                              (DCEP), sends the messages, expects echoes
//   node peer.mjs answer IN_OFFER OUT_ANSWER   Chromium answers, echoes every message on
//                                              every channel imsdc opens
// Env SETUP=active|passive rewrites a=setup in Chromium's own offer before imsdc sees it.
// Prints one JSON line: {"ok":true,...} or {"ok":false,"error":"..."}; exit 0 only if ok.
// Chromium runs the page through headless.mjs (no automation library).
import { inChromium } from './headless.mjs';
import { readFileSync, writeFileSync, renameSync, existsSync } from 'node:fs';

const [mode, fileA, fileB] = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFile(path, ms) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50))
    if (existsSync(path)) return readFileSync(path, 'utf8');
  throw new Error(`no ${path} within ${ms} ms`);
}
function writeAtomic(path, text) {
  writeFileSync(path + '.tmp', text);
  renameSync(path + '.tmp', path);
}

let result;
try {
  result = await inChromium(async ({ mode, setup }) => {
    const pc = new RTCPeerConnection();
    const gathered = () => new Promise((r) => {
      if (pc.iceGatheringState === 'complete') return r();
      pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r());
    });
    const withTimeout = (p, ms, what) => Promise.race([p, new Promise((_, no) =>
      setTimeout(() => no(new Error(`timeout: ${what}`)), ms))]);
    // Text and binary messages, sizes across one SCTP chunk and beyond.
    const texts = ['hello imsdc', 'x'.repeat(5000)];
    const sizes = [1, 1200, 65536];
    const bin = (n, seed) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);
    const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
    if (mode === 'offer') {
      // One channel opened in band (DCEP) and one negotiated out of band on stream 1000,
      // which imsdc learns from the a=dcmap line added to the offer it reads (Chromium itself
      // keeps dcmap-free SDP).
      const chans = [pc.createDataChannel('imsdc-peer', { protocol: 'imsdc-peer' }),
        pc.createDataChannel('negotiated', { negotiated: true, id: 1000, protocol: 'imsdc-peer' })];
      const got = chans.map(() => []);
      chans.forEach((ch, i) => { ch.binaryType = 'arraybuffer'; ch.onmessage = (e) => got[i].push(e.data); });
      await pc.setLocalDescription(await pc.createOffer());
      await gathered();
      let sdp = pc.localDescription.sdp;
      if (setup) sdp = sdp.replace(/a=setup:actpass/g, `a=setup:${setup}`);
      sdp = sdp.replace(/(a=sctp-port:\d+\r\n)/,
        '$1a=dcmap:1000 label="negotiated";subprotocol="imsdc-peer"\r\n');
      await window.writeSdp(sdp);
      const answer = await window.readSdp();
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      for (const ch of chans)
        await withTimeout(new Promise((r) => { if (ch.readyState === 'open') r(); ch.onopen = r; }), 20000, `${ch.label} open`);
      for (const [c, ch] of chans.entries()) {
        for (const t of texts) ch.send(t);
        sizes.forEach((n, i) => ch.send(bin(n, i + c)));
      }
      const want = texts.length + sizes.length;
      await withTimeout((async () => { while (got.some((g) => g.length < want)) await new Promise((r) => setTimeout(r, 20)); })(), 20000, 'echoes');
      for (const [c, ch] of chans.entries()) {
        for (let i = 0; i < texts.length; ++i)
          if (got[c][i] !== texts[i]) return { ok: false, error: `${ch.label}: text echo ${i} differs` };
        for (let i = 0; i < sizes.length; ++i) {
          const g = got[c][texts.length + i];
          if (typeof g === 'string' || !same(new Uint8Array(g), bin(sizes[i], i + c)))
            return { ok: false, error: `${ch.label}: binary echo ${i} differs` };
        }
      }
      const stats = [...(await pc.getStats()).values()];
      const dtls = stats.find((s) => s.type === 'transport');
      chans.forEach((ch) => ch.close());
      pc.close();
      return { ok: true, echoed: got.map((g) => g.length), dtlsRole: dtls && dtls.dtlsRole, tls: dtls && dtls.tlsVersion };
    }
    // answer: echo everything on every channel imsdc opens in band; done when imsdc closes
    // one. When imsdc's offer negotiates bootstrap stream 0 (a=dcmap:0), Chromium opens it out
    // of band too, sends text and binary on it and checks imsdc's echoes.
    let received = 0;
    let closed;
    const closedOne = new Promise((r) => { closed = r; });
    pc.ondatachannel = (e) => {
      const ch = e.channel;
      ch.binaryType = 'arraybuffer';
      ch.onmessage = (m) => { received++; ch.send(m.data); };
      ch.onclose = () => closed();
    };
    const offer = await window.readSdp();
    await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    let boot = null;
    const bootGot = [];
    if (/a=dcmap:0 /.test(offer)) {
      boot = pc.createDataChannel('bootstrap', { negotiated: true, id: 0 });
      boot.binaryType = 'arraybuffer';
      boot.onmessage = (e) => bootGot.push(e.data);
    }
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered();
    // Chromium's answer carries no a=dcmap (it does not implement RFC 8864): the line a
    // dcmap-aware answerer would send for the channel it accepted is added here.
    let answerSdp = pc.localDescription.sdp;
    if (boot) answerSdp = answerSdp.replace(/(a=sctp-port:\d+\r\n)/, '$1a=dcmap:0 subprotocol="http"\r\n');
    await window.writeSdp(answerSdp);
    let bootOk = null;
    if (boot) {
      await withTimeout(new Promise((r) => { if (boot.readyState === 'open') r(); boot.onopen = r; }), 20000, 'bootstrap open');
      for (const t of texts) boot.send(t);
      sizes.forEach((n, i) => boot.send(bin(n, i + 7)));
      const want = texts.length + sizes.length;
      await withTimeout((async () => { while (bootGot.length < want) await new Promise((r) => setTimeout(r, 20)); })(), 20000, 'bootstrap echoes');
      bootOk = texts.every((t, i) => bootGot[i] === t) && sizes.every((n, i) => {
        const g = bootGot[texts.length + i];
        return typeof g !== 'string' && same(new Uint8Array(g), bin(n, i + 7));
      });
    }
    await withTimeout(closedOne, 30000, 'imsdc to close its channel');
    const stats = [...(await pc.getStats()).values()];
    const dtls = stats.find((s) => s.type === 'transport');
    pc.close();
    return { ok: received > 0 && bootOk !== false, echoed: received, bootstrap: bootOk,
      dtlsRole: dtls && dtls.dtlsRole };
  }, { mode, setup: process.env.SETUP || '' }, {
    writeSdp: (text) => writeAtomic(mode === 'offer' ? fileA : fileB, text),
    readSdp: () => waitFile(mode === 'offer' ? fileB : fileA, 20000),
  });
} catch (e) {
  result = { ok: false, error: String(e && e.message || e) };
}
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
