// Runs one async function in a page of headless Chromium and returns what it returns; no
// browser-automation library (Chromium is driven only by the page it loads). The page comes
// from a node:http server on 127.0.0.1 (port 0) in this process, which also carries the
// page's calls back into Node:
//   inChromium(fn, arg, bridge) -> fn's result; inside the page fn(arg) runs with
//   window[name](...args) for every function of bridge (awaited in Node, result as JSON) and
//   console.log forwarded to stderr ("chromium: ...").
// A throw in the page, or no result within timeoutMs, rejects. Chromium (its whole process
// group) and its profile directory are gone when the promise settles.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--no-default-browser-check', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--disable-features=WebRtcHideLocalIpsWithMdns'];
const MAX_BODY = 1 << 20;

function page(fn, arg, names) {
  const bridge = names.map((n) => `window[${JSON.stringify(n)}] = (...a) => call(${JSON.stringify(n)}, a);`);
  return `<!doctype html><meta charset="utf-8"><title>imsdc peer</title><script>
const post = (path, v) => fetch(path, { method: 'POST', body: JSON.stringify(v) });
const call = async (name, args) => {
  const j = await (await post('/call/' + name, args)).json();
  if ('error' in j) throw new Error(j.error);
  return j.value;
};
${bridge.join('\n')}
console.log = (...a) => { post('/log', a.map(String).join(' ')); };
(async () => {
  let r;
  try { r = { value: await (${fn.toString()})(${JSON.stringify(arg)}) }; }
  catch (e) { r = { error: String((e && e.message) || e) }; }
  await post('/result', r);
})();
</script>`;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const parts = [];
    let n = 0;
    req.on('data', (c) => {
      n += c.length;
      if (n > MAX_BODY) req.destroy(new Error('request too large'));
      else parts.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

export async function inChromium(fn, arg, bridge = {}, timeoutMs = 90000) {
  const html = page(fn, arg, Object.keys(bridge));
  let settle;
  const done = new Promise((resolve, reject) => { settle = { resolve, reject }; });
  const server = http.createServer(async (req, res) => {
    const reply = (code, type, body) => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    try {
      if (req.method === 'GET' && req.url === '/') return reply(200, 'text/html', html);
      if (req.method !== 'POST') return reply(404, 'text/plain', 'not found');
      const body = JSON.parse(await readBody(req));
      if (req.url === '/log') {
        process.stderr.write(`chromium: ${body}\n`);
        return reply(204, 'text/plain', '');
      }
      if (req.url === '/result') {
        reply(204, 'text/plain', '');
        return 'error' in body ? settle.reject(new Error(body.error)) : settle.resolve(body.value);
      }
      const name = req.url.startsWith('/call/') ? req.url.slice(6) : '';
      if (!Object.hasOwn(bridge, name)) return reply(404, 'text/plain', 'not found');
      try {
        const value = await bridge[name](...body);
        return reply(200, 'application/json', JSON.stringify({ value: value ?? null }));
      } catch (e) {
        return reply(200, 'application/json', JSON.stringify({ error: String((e && e.message) || e) }));
      }
    } catch (e) {
      return reply(400, 'text/plain', String(e));
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const profile = mkdtempSync(join(tmpdir(), 'imsdc-chromium-'));
  const exe = process.env.CHROMIUM || '/usr/bin/chromium';
  const url = `http://127.0.0.1:${server.address().port}/`;
  const child = spawn(exe, [...FLAGS, `--user-data-dir=${profile}`, url],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (c) => { log = (log + c).slice(-4000); });
  child.on('exit', (code) => settle.reject(new Error(`chromium exited (${code}) before a result: ${log.trim()}`)));
  child.on('error', (e) => settle.reject(new Error(`cannot start ${exe}: ${e.message}`)));
  const timer = setTimeout(() => settle.reject(new Error(`no result from chromium within ${timeoutMs} ms`)), timeoutMs);
  try {
    return await done;
  } finally {
    clearTimeout(timer);
    child.removeAllListeners('exit');
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone already */ }
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', r)));
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
