#!/usr/bin/env python3
"""UDP impairment relay for the data-channel tests (this kernel has no tc netem).

usage: impair_relay.py --offer-in F --offer-out F --answer-in F --answer-out F
                       [--loss PCT] [--delay MS] [--jitter MS] [--seed N] [--stats F]

Sits between two `imsdc dc peer` processes on 127.0.0.1: waits for the offer, rewrites its
candidate and c= addresses to a relay port facing the answerer, and writes it (by rename) for
the answerer; does the same with the answer, towards the offerer. Then forwards every datagram
each way, dropping --loss percent and delaying each by --delay +/- --jitter ms (which also
reorders them). Runs until killed (SIGTERM); writes packet counts to --stats on exit.
"""
import argparse, asyncio, os, random, re, signal, socket, sys, time

ap = argparse.ArgumentParser()
for f in ("offer-in", "offer-out", "answer-in", "answer-out"):
    ap.add_argument("--" + f, required=True)
ap.add_argument("--loss", type=float, default=0)
ap.add_argument("--delay", type=float, default=0)
ap.add_argument("--jitter", type=float, default=0)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--stats")
args = ap.parse_args()
rng = random.Random(args.seed)
stats = {"forwarded": 0, "dropped": 0}

CAND = re.compile(r"^(a=candidate:\S+ \d+ \S+ \d+ )(\S+) (\d+)( typ host.*)$", re.M)


def wait_file(path, seconds=30):
    end = time.time() + seconds
    while not os.path.exists(path):
        if time.time() > end:
            sys.exit(f"impair_relay: no {path}")
        time.sleep(0.02)
    return open(path).read()


def rewrite(sdp, port):
    """The peer's real (address, port) from its host candidate, and the SDP pointing at us."""
    m = CAND.search(sdp)
    if not m:
        sys.exit("impair_relay: no host candidate in the SDP")
    real = (m.group(2), int(m.group(3)))
    out = CAND.sub(lambda c: f"{c.group(1)}127.0.0.1 {port}{c.group(4)}", sdp)
    out = re.sub(r"^c=IN IP[46] \S+", "c=IN IP4 127.0.0.1", out, flags=re.M)
    out = re.sub(r"^(m=application )\d+", rf"\g<1>{port}", out, flags=re.M)
    return real, out


def write_atomic(path, text):
    open(path + ".tmp", "w").write(text)
    os.replace(path + ".tmp", path)


def main():
    # to_answerer: the offerer's face towards the answerer; to_offerer: the reverse.
    to_answerer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    to_offerer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for s in (to_answerer, to_offerer):
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
    offerer, offer = rewrite(wait_file(args.offer_in), to_answerer.getsockname()[1])
    write_atomic(args.offer_out, offer)
    answerer, answer = rewrite(wait_file(args.answer_in), to_offerer.getsockname()[1])
    write_atomic(args.answer_out, answer)

    loop = asyncio.new_event_loop()

    def send_later(sock, data, dest):
        if rng.random() * 100 < args.loss:
            stats["dropped"] += 1
            return
        stats["forwarded"] += 1
        delay = max(0.0, args.delay + rng.uniform(-args.jitter, args.jitter)) / 1000
        loop.call_later(delay, lambda: sock.sendto(data, dest))

    def pump(src, out, dest):
        while True:
            try:
                data, _ = src.recvfrom(65536)
            except BlockingIOError:
                return
            send_later(out, data, dest)

    # From the answerer (arrives on to_answerer) goes out of to_offerer to the offerer, and back.
    loop.add_reader(to_answerer, pump, to_answerer, to_offerer, offerer)
    loop.add_reader(to_offerer, pump, to_offerer, to_answerer, answerer)
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.run_forever()
    if args.stats:
        open(args.stats, "w").write(f"forwarded {stats['forwarded']} dropped {stats['dropped']}\n")


main()
