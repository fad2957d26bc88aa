// Two RTCPeerConnections in one headless Chromium page open a data channel to each other and
// print the offer, the answer and one message as JSON. Run inside a network namespace whose
// only routed interface is the test's veth (ENVIRONMENT_NOTES.md: Chromium gathers no loopback
// candidates). Used by capture.sh to record Chromium's SDP and DTLS ClientHello for test data.
import { inChromium } from './headless.mjs';

try {
  const result = await inChromium(async () => {
    const a = new RTCPeerConnection();
    const b = new RTCPeerConnection();
    a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
    b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
    const received = new Promise((resolve) => {
      b.ondatachannel = (e) => { e.channel.onmessage = (m) => resolve(m.data); };
    });
    const ch = a.createDataChannel('probe');
    const opened = new Promise((resolve) => { ch.onopen = resolve; });
    await a.setLocalDescription(await a.createOffer());
    await new Promise((r) => { a.onicegatheringstatechange = () => a.iceGatheringState === 'complete' && r(); if (a.iceGatheringState === 'complete') r(); });
    await b.setRemoteDescription(a.localDescription);
    await b.setLocalDescription(await b.createAnswer());
    await new Promise((r) => { b.onicegatheringstatechange = () => b.iceGatheringState === 'complete' && r(); if (b.iceGatheringState === 'complete') r(); });
    await a.setRemoteDescription(b.localDescription);
    await Promise.race([opened, new Promise((_, no) => setTimeout(() => no(new Error('channel did not open')), 15000))]);
    ch.send('hello from a');
    const msg = await received;
    const out = { offer: a.localDescription.sdp, answer: b.localDescription.sdp, message: msg,
      userAgent: navigator.userAgent };
    a.close();
    b.close();
    return out;
  });
  console.log(JSON.stringify(result));
} catch (e) {
  console.error(`loopback-pair: ${e.message}`);
  process.exit(1);
}
