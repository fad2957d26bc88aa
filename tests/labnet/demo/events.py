#!/usr/bin/python3
"""The demo's event stream (samples/demo.sh): prints it live, waits on it, checks it.

Each imsdc process of the demo (imsdc mf, imsdc avatar-call) appends one JSON object per line
to a shared file, as things happen:
  {"t":EPOCH_MS,"who":"UE-A"|"UE-B"|"MF","step":NAME,"result":"ok"|"refused"|"failed"|"info",
   "path":"e2e"|"e2ae"|"sip"|"-","ms":DURATION_MS,"detail":"text"}

  events.py follow --events F --t0 MS --done FILE [--step-dir DIR] [--max-seconds S]
      Prints each event as one line the moment it is appended (time since t0, who, step,
      result, path, duration, what it means); "fetch"/"info"/"progress N/M" events become a
      progress bar when stdout is a terminal and are skipped otherwise. With --step-dir, each
      "pause" event waits for Enter (on /dev/tty, else stdin; EOF continues) and then creates
      DIR/next. Ends when FILE exists and everything appended has been printed, or after S
      seconds (default 3600).
  events.py wait --events F --who WHO --step STEP --pid PID [--timeout S]
      Waits for the first WHO/STEP event: exit 0 when its result is ok or info, 1 for another
      result, 2 after S seconds (default 30), 3 when process PID ended first.
  events.py check --events F --t0 MS --scenario main|wrong-avatar|tampered
                  [--rc WHO=CODE]... [--log WHO=FILE]... [--out WHO=DIR]... [--avatar FILE]
      Prints the summary table (one row per step: who, step, result, path, ms) and checks the
      scenario's expected (who, step, result) set, the exit codes and "exit" events, that no
      event failed, and the decrypted representations in each --out DIR (main: a byte-for-byte
      copy of --avatar; negative scenarios: nothing). A failure names the step, the peer and
      its log file, and prints the last lines of that log. Exit 0 when everything held, else 1.
  events.py selftest
      Runs the checker on hand-written event streams (good and bad) and exits 0 if it judges
      them as it should.
"""
import argparse
import json
import os
import re
import sys
import tempfile
import time

WHOS = ("UE-A", "UE-B", "MF")
SESSIONS = ("network", "sending-ue", "receiving-ue")
SESSION_TEXT = {
    "network": "network-centric: the MF fetches the representation with UE-A's attestation "
               "(TR 33.790 6.6.2.1)",
    "sending-ue": "sending-UE-centric: UE-A fetches and decrypts its own representation "
                  "(TR 33.790 6.6.2.2)",
    "receiving-ue": "receiving-UE-centric: UE-B fetches and decrypts UE-A's representation "
                    "(TR 33.790 6.6.2.3)",
}
# What each step means, shown next to the event.
WHAT = {
    "register": "registration through the eP-CSCF",
    "call": "INVITE to UE-B (through the MF)",
    "incoming": "incoming call",
    "caller-card": "verified caller card",
    "bootstrap": "bootstrap data channel with the MF",
    "app-channel": "application data channel UE-A <-> UE-B",
    "get-apps": "GET / on the bootstrap channel (DC application list)",
    "get-avatars": "GET /avatars (avatar ID list)",
    "session": "avatar session",
    "attest": "attestation signed with the device key",
    "epk": "UE-B's ephemeral public key to UE-A",
    "fetch": "fetch + decryption of the representation",
    "render": "avatar rendering",
    "frames-sent": "animation frames sent",
    "frames-received": "animation frames received",
    "leg": "SIP leg",
    "served": "bootstrap request answered",
    "relay": "representation request relayed to the BAR",
    "network-fetch": "fetch of the representation for network rendering",
    "hangup": "hang up",
    "ended": "call ended",
    "deregister": "de-registration",
    "pause": "paused",
    "exit": "process ends",
}
PROGRESS_RE = re.compile(r"^progress (\d+)/(\d+)$")
TAMPER_RE = re.compile(r"tag|tamper", re.I)


def now_ms():
    return int(time.time() * 1000)


def parse(line):
    """One event line -> dict, or None when it is not a JSON object."""
    try:
        ev = json.loads(line)
    except ValueError:
        return None
    return ev if isinstance(ev, dict) else None


def text(v):
    return "" if v is None else str(v)


def is_progress(ev):
    return (ev.get("step") == "fetch" and ev.get("result") == "info"
            and PROGRESS_RE.match(text(ev.get("detail"))) is not None)


def session_of(detail):
    m = re.search(r"receiving-ue|sending-ue|network", text(detail))
    return m.group(0) if m else None


class Follower:
    """Reads the complete lines appended to a file since the last call."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.partial = b""

    def lines(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        data = self.partial + data
        *complete, self.partial = data.split(b"\n")
        return [c.decode("utf-8", "replace") for c in complete if c.strip()]


class Style:
    def __init__(self, tty):
        self.tty = tty

    def color(self, result, s):
        if not self.tty:
            return s
        code = {"ok": "32", "refused": "33", "failed": "31;1", "info": "36"}.get(result)
        return "\033[%sm%s\033[0m" % (code, s) if code else s


def fmt_ms(v):
    return "%d ms" % v if isinstance(v, (int, float)) and not isinstance(v, bool) else "-"


def event_line(ev, t0, style):
    t = ev.get("t")
    rel = "%7d" % (t - t0) if isinstance(t, (int, float)) else "      ?"
    result = text(ev.get("result")) or "?"
    step = text(ev.get("step")) or "?"
    detail = text(ev.get("detail"))
    what = WHAT.get(step, "")
    if step == "session":
        what = ""
    tail = what if not detail else (what + ": " + detail if what else detail)
    return "[%s ms] %-5s %-15s %s %-5s %9s  %s" % (
        rel, text(ev.get("who")) or "?", step, style.color(result, "%-8s" % result),
        text(ev.get("path")) or "-", fmt_ms(ev.get("ms")), tail)


def cmd_follow(a):
    style = Style(sys.stdout.isatty())
    out = sys.stdout
    f = Follower(a.events)
    deadline = time.monotonic() + a.max_seconds
    bar_on = False
    session_no = 0

    def clear_bar():
        nonlocal bar_on
        if bar_on:
            out.write("\r\033[K")
            bar_on = False

    def wait_enter(ev):
        clear_bar()
        out.write("           [--step] press Enter for UE-A's next step ")
        out.flush()
        line = ""
        try:
            with open("/dev/tty") as tty:
                line = tty.readline()
        except OSError:
            try:
                line = sys.stdin.readline()
            except (OSError, ValueError):
                line = ""
        if not line:
            out.write("(no input: continuing)\n")
        os.makedirs(a.step_dir, exist_ok=True)
        tmp = os.path.join(a.step_dir, ".next")
        open(tmp, "w").close()
        os.replace(tmp, os.path.join(a.step_dir, "next"))

    while True:
        done = os.path.exists(a.done)  # before reading: what follows is then complete
        lines = f.lines()
        for line in lines:
            ev = parse(line)
            if ev is None:
                clear_bar()
                out.write("[      ? ms] unparsable event line: %s\n" % line[:120])
                continue
            if is_progress(ev):
                if style.tty:
                    n, m = (int(x) for x in PROGRESS_RE.match(ev["detail"]).groups())
                    frac = min(1.0, n / m) if m else 0.0
                    width = 30
                    fill = int(frac * width)
                    out.write("\r\033[K           %-5s download [%s%s] %3d%%  %d/%d bytes" % (
                        text(ev.get("who")), "#" * fill, "." * (width - fill), frac * 100, n, m))
                    bar_on = True
                    out.flush()
                continue
            clear_bar()
            if ev.get("step") == "session":
                s = session_of(ev.get("detail"))
                session_no += 1
                out.write("\n           ---- avatar session %d/3: %s ----\n" % (
                    session_no, SESSION_TEXT.get(s, text(ev.get("detail")))))
            out.write(event_line(ev, a.t0, style) + "\n")
            out.flush()
            if ev.get("step") == "pause" and a.step_dir:
                wait_enter(ev)
        out.flush()
        if done and not lines:
            break
        if time.monotonic() > deadline:
            clear_bar()
            out.write("events.py: stopped following after %d s\n" % a.max_seconds)
            break
        time.sleep(0.05)
    clear_bar()
    out.flush()
    return 0


def pid_running(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return False


def cmd_wait(a):
    f = Follower(a.events)
    deadline = time.monotonic() + a.timeout
    while True:
        for line in f.lines():
            ev = parse(line)
            if ev and ev.get("who") == a.who and ev.get("step") == a.step:
                return 0 if ev.get("result") in ("ok", "info") else 1
        if not pid_running(a.pid):
            # It may have written its last events just before it ended.
            for line in f.lines():
                ev = parse(line)
                if ev and ev.get("who") == a.who and ev.get("step") == a.step:
                    return 0 if ev.get("result") in ("ok", "info") else 1
            return 3
        if time.monotonic() > deadline:
            return 2
        time.sleep(0.05)


# --- expectations ---------------------------------------------------------------------------
class Exp:
    """An event that must be there: who (one of), step, result (one of), in a session window
    (or anywhere), optionally a path and a detail pattern."""

    def __init__(self, who, step, results, session=None, path=None, detail=None, note="",
                 count=1):
        self.count = count
        self.who = (who,) if isinstance(who, str) else tuple(who)
        self.step = step
        self.results = (results,) if isinstance(results, str) else tuple(results)
        self.session = session
        self.path = path
        self.detail = detail
        self.note = note

    def matches(self, ev, ignore_result=False):
        return (ev.get("who") in self.who and ev.get("step") == self.step
                and (ignore_result or ev.get("result") in self.results)
                and (self.session is None or ev.get("_session") == self.session)
                and (ignore_result or self.path is None or ev.get("path") == self.path)
                and (ignore_result or self.detail is None
                     or self.detail.search(text(ev.get("detail")))))

    def describe(self):
        s = "%s %s %s" % ("|".join(self.who), self.step, "|".join(self.results))
        if self.path:
            s += " on an %s path" % self.path
        if self.detail is not None:
            s += " (detail matching /%s/)" % self.detail.pattern
        if self.session:
            s += " in the %s session" % self.session
        if self.count > 1:
            s += " (%d times)" % self.count
        if self.note:
            s += " [%s]" % self.note
        return s


UES = ("UE-A", "UE-B")


def expectations(scenario):
    """-> (required, forbidden): lists of Exp.

    Session windows are only reliable for the events of the process that writes the session
    markers (UE-A): the other processes' events interleave with them a little late. So UE-A's
    events are checked per session, the others by who they are: the MF fetches and receives
    frames only for network rendering, UE-B fetches only in the receiving-ue session and
    receives frames in the sending-ue and receiving-ue sessions."""
    req = [
        Exp("MF", "register", "ok"), Exp("UE-B", "register", "ok"), Exp("UE-A", "register", "ok"),
        Exp("UE-A", "call", "ok"), Exp("UE-B", "incoming", "ok"),
        Exp("UE-B", "caller-card", "ok"),
        Exp("UE-A", "bootstrap", "ok", path="e2ae"), Exp("UE-B", "bootstrap", "ok", path="e2ae"),
        Exp(UES, "app-channel", "ok", path="e2e"),
        Exp(UES, "get-apps", "ok"), Exp("UE-A", "get-avatars", "ok"),
    ]
    req += [Exp("UE-A", "session", ("ok", "info"), session=s) for s in SESSIONS]
    req += [Exp("UE-A", "hangup", "ok"), Exp("UE-B", "ended", "ok"),
            Exp("UE-A", "deregister", "ok"), Exp("UE-B", "deregister", "ok")]
    forbidden = []
    if scenario == "main":
        req += [Exp("MF", "network-fetch", "ok"),
                Exp("UE-A", "fetch", "ok", session="sending-ue"),
                Exp("UE-B", "fetch", "ok")]
        req += [Exp("UE-A", "frames-sent", "ok", session=s) for s in SESSIONS]
        req += [Exp("MF", "frames-received", "ok", note="network session"),
                Exp("UE-B", "frames-received", "ok", count=2,
                    note="sending-ue and receiving-ue sessions")]
    elif scenario == "wrong-avatar":
        req += [Exp("MF", "network-fetch", "refused"),
                Exp("UE-A", "fetch", "refused", session="sending-ue"),
                Exp("UE-B", "fetch", "refused")]
        forbidden += [Exp(WHOS, "frames-sent", "ok", note="no frames without an avatar"),
                      Exp(WHOS, "frames-received", "ok", note="no frames without an avatar"),
                      Exp("MF", "network-fetch", "ok", note="another subscriber's avatar"),
                      Exp("UE-A", "fetch", "ok", session="sending-ue",
                          note="another subscriber's avatar"),
                      Exp("UE-B", "fetch", "ok", note="another subscriber's avatar")]
    elif scenario == "tampered":
        req += [Exp("MF", "network-fetch", "ok"),
                Exp("UE-A", "fetch", "refused", session="sending-ue", detail=TAMPER_RE),
                Exp("UE-B", "fetch", "refused", detail=TAMPER_RE)]
        forbidden += [Exp("UE-A", "render", "ok", session="sending-ue",
                          note="UE-A must not render a tampered representation"),
                      Exp("UE-B", "render", "ok",
                          note="UE-B must not render a tampered representation"),
                      Exp("UE-A", "fetch", "ok", session="sending-ue",
                          note="the BAR's answer was tampered with"),
                      Exp("UE-B", "fetch", "ok", note="the BAR's answer was tampered with")]
    else:
        raise SystemExit("events.py: unknown scenario %r" % scenario)
    return req, forbidden


def load(path):
    """-> (events in file order, each with "_session": the avatar session it belongs to, for
    the events of the process that writes the session markers; unparsable lines)."""
    evs, bad = [], []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = [line for line in f.read().split("\n") if line.strip()]
    except FileNotFoundError:
        lines = []
    current, marker_who = None, None
    for line in lines:
        ev = parse(line)
        if ev is None:
            bad.append(line)
            continue
        if ev.get("step") == "session":
            current, marker_who = session_of(ev.get("detail")), ev.get("who")
        elif ev.get("step") in ("hangup", "ended") and ev.get("who") == marker_who:
            current = None
        # Only the marker writer's own events are ordered with its markers.
        ev["_session"] = current if ev.get("who") == marker_who else None
        evs.append(ev)
    return evs, bad


def kv(items):
    out = {}
    for item in items or []:
        k, sep, v = item.partition("=")
        if not sep:
            raise SystemExit("events.py: expected WHO=VALUE, got %r" % item)
        out[k] = v
    return out


def tail(path, n=12):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()[-n:]
    except OSError as e:
        return ["(cannot read: %s)" % e.strerror]


def summary(evs, t0, out):
    rows = [e for e in evs if not is_progress(e) and e.get("step") != "pause"]
    out.write("  %8s  %-5s %-15s %-8s %-5s %9s  %s\n" % (
        "t (ms)", "who", "step", "result", "path", "ms", "detail"))
    for e in rows:
        t = e.get("t")
        rel = "%8d" % (t - t0) if isinstance(t, (int, float)) else "       ?"
        detail = text(e.get("detail"))
        if len(detail) > 60:
            detail = detail[:57] + "..."
        out.write("  %s  %-5s %-15s %-8s %-5s %9s  %s\n" % (
            rel, text(e.get("who")), text(e.get("step")), text(e.get("result")),
            text(e.get("path")) or "-", fmt_ms(e.get("ms")), detail))


def out_files(d):
    if not d or not os.path.isdir(d):
        return []
    files = []
    for root, _, names in os.walk(d):
        files += [os.path.join(root, n) for n in names]
    return sorted(files)


def same_bytes(a, b):
    try:
        if os.path.getsize(a) != os.path.getsize(b):
            return False
        with open(a, "rb") as fa, open(b, "rb") as fb:
            while True:
                x, y = fa.read(1 << 16), fb.read(1 << 16)
                if x != y:
                    return False
                if not x:
                    return True
    except OSError:
        return False


def check(a, out):
    evs, bad = load(a.events)
    rcs, logs, outs = kv(a.rc), kv(a.log), kv(a.out)
    required, forbidden = expectations(a.scenario)
    not_started = {w for w, rc in rcs.items() if rc == "-"}
    # (rank, who, step, message): failed steps first (in time order), then the processes'
    # exits, then what is missing or unexpected; so the first line is the likely cause.
    failures = []

    for line in bad:
        failures.append((2, "-", "-", "unparsable event line: %s" % line[:100]))
    for e in evs:
        if e.get("result") == "failed":
            failures.append((0, e.get("who"), e.get("step"), "step failed: %s" % (
                text(e.get("detail")) or "(no detail)")))
    for who in WHOS:
        if who not in rcs:
            continue
        if who in not_started:
            failures.append((3, who, "-", "not started (an earlier step failed)"))
            continue
        problems = []
        rc = rcs[who]
        if rc != "0":
            why = {"124": " (ended by the demo's time limit)", "137": " (killed)",
                   "143": " (terminated)"}.get(rc, "")
            problems.append("the process exited with %s%s" % (rc, why))
        exits = [e for e in evs if e.get("who") == who and e.get("step") == "exit"]
        if not exits:
            problems.append("no exit event")
        elif exits[-1].get("result") not in ("ok", "failed"):  # failed: reported above
            problems.append("exit event %s: %s" % (
                exits[-1].get("result"), text(exits[-1].get("detail"))))
        if problems:
            failures.append((1, who, "exit", "; ".join(problems)))
    for exp in required:
        if (sum(1 for e in evs if exp.matches(e)) >= exp.count
                or set(exp.who) <= not_started):
            continue
        seen = [e for e in evs if exp.matches(e, ignore_result=True)]
        if any(e.get("result") == "failed" for e in seen):
            continue  # reported as a failed step
        if seen:
            got = "; ".join("%s %s %s%s" % (
                e.get("who"), e.get("result"), e.get("path") or "-",
                (' "%s"' % text(e.get("detail"))) if e.get("detail") else "") for e in seen[:3])
            msg = "expected %s; got: %s" % (exp.describe(), got)
        else:
            msg = "expected %s; no such event" % exp.describe()
        who = next((w for w in exp.who if w not in not_started), exp.who[0])
        failures.append((2, who, exp.step, msg))
    for exp in forbidden:
        for e in evs:
            if exp.matches(e):
                failures.append((2, e.get("who"), e.get("step"), "unexpected %s %s%s (%s)" % (
                    e.get("step"), e.get("result"),
                    " in the %s session" % e["_session"] if e.get("_session") else "", exp.note)))
    for who, d in outs.items():
        if who in not_started:
            continue
        files = out_files(d)
        if a.scenario == "main":
            if not a.avatar or not any(same_bytes(f, a.avatar) for f in files):
                failures.append((2, who, "fetch", "no byte-for-byte copy of %s in %s (%d file(s))"
                                 % (os.path.basename(a.avatar or "?"), d, len(files))))
        elif files:
            failures.append((2, who, "fetch", "a refused representation left %s" % files[0]))

    out.write("summary, scenario %s (%d events)\n" % (a.scenario, len(evs)))
    summary(evs, a.t0, out)
    if not failures:
        out.write("scenario %s: every step behaved as expected\n" % a.scenario)
        return 0
    failures.sort(key=lambda f: f[0])  # stable: time order within a rank
    out.write("scenario %s: %d problem(s); the first:\n" % (a.scenario, len(failures)))
    _, who, step, msg = failures[0]
    out.write("FAILED  step %s, peer %s: %s\n" % (step, who, msg))
    if logs.get(who):
        out.write("        read %s; its last lines:\n" % logs[who])
        for line in tail(logs[who]):
            out.write("        | %s\n" % line)
    rest = failures[1:]
    # After a failed step or a failed process, what did not happen is its consequence:
    # counted, not listed (the summary table shows what did happen).
    consequences = [f for f in rest if f[0] >= 2] if failures[0][0] < 2 else []
    listed = [f for f in rest if f not in consequences]
    if listed:
        out.write("also:\n")
    for _, who, step, msg in listed:
        out.write("FAILED  step %s, peer %s: %s%s\n" % (
            step, who, msg, " (%s)" % logs[who] if logs.get(who) else ""))
    if consequences:
        out.write("and %d expected step(s) did not happen as a consequence (not listed; the "
                  "summary above shows what did)\n" % len(consequences))
    return 1


def cmd_check(a):
    return check(a, sys.stdout)


# --- self-test ------------------------------------------------------------------------------
def synthetic(scenario, t0):
    """A stream as the real processes should write it for SCENARIO."""
    t = [t0]

    def ev(who, step, result="ok", path="-", ms=5, detail=""):
        t[0] += 7
        return {"t": t[0], "who": who, "step": step, "result": result, "path": path, "ms": ms,
                "detail": detail}

    evs = [ev("MF", "register", path="sip", detail="digest"),
           ev("UE-B", "register", path="sip"), ev("UE-A", "register", path="sip"),
           ev("UE-A", "call", path="sip"), ev("MF", "leg", path="sip", detail="A"),
           ev("MF", "leg", path="sip", detail="B"), ev("UE-B", "incoming", path="sip"),
           ev("UE-B", "caller-card", detail="+15551110001 verified_e2e"),
           ev("UE-A", "bootstrap", path="e2ae"), ev("UE-B", "bootstrap", path="e2ae"),
           ev("UE-A", "app-channel", path="e2e"), ev("UE-B", "app-channel", path="e2e"),
           ev("UE-A", "get-apps", path="e2ae"), ev("MF", "served", path="e2ae", detail="GET /"),
           ev("UE-A", "get-avatars", path="e2ae", detail="av-alice")]
    for s in SESSIONS:
        evs.append(ev("UE-A", "session", "info", detail=s))
        evs.append(ev("UE-A", "attest", detail=s))
        if s == "receiving-ue":
            evs.append(ev("UE-B", "epk", path="e2e"))
        fetcher, step = {"network": ("MF", "network-fetch"), "sending-ue": ("UE-A", "fetch"),
                         "receiving-ue": ("UE-B", "fetch")}[s]
        if step == "fetch":
            for n in (65536, 131072, 327680):
                evs.append(ev(fetcher, "fetch", "info", detail="progress %d/327680" % n))
        if scenario == "main" or (scenario == "tampered" and s == "network"):
            evs.append(ev(fetcher, step, path="e2e" if step == "fetch" else "-"))
            evs.append(ev(fetcher, "render"))
            evs.append(ev("UE-A", "frames-sent", detail="50 frames"))
            evs.append(ev("UE-B" if s != "network" else "MF", "frames-received", detail="48"))
        elif scenario == "wrong-avatar":
            evs.append(ev(fetcher, step, "refused", detail="BAR: not_owner"))
        else:
            evs.append(ev(fetcher, step, "refused", detail="auth_failed: GCM tag mismatch"))
    evs += [ev("UE-A", "hangup", path="sip"), ev("UE-B", "ended", path="sip"),
            ev("UE-A", "deregister", path="sip"), ev("UE-B", "deregister", path="sip"),
            ev("UE-A", "exit"), ev("UE-B", "exit"), ev("MF", "exit")]
    return evs


def cmd_selftest(_a):
    t0 = now_ms()
    cases = []  # (name, scenario, events, rcs, expect_ok)
    for s in ("main", "wrong-avatar", "tampered"):
        cases.append(("good " + s, s, synthetic(s, t0), None, True))
    main = synthetic("main", t0)
    cases.append(("main judged as wrong-avatar", "wrong-avatar", main, None, False))
    cases.append(("wrong-avatar judged as main", "main", synthetic("wrong-avatar", t0), None,
                  False))
    cases.append(("missing UE-B fetch", "main",
                  [e for e in main if not (e["who"] == "UE-B" and e["step"] == "fetch")], None,
                  False))
    cases.append(("a failed event", "main",
                  main + [dict(main[0], step="relay", result="failed", who="MF")], None, False))
    cases.append(("bootstrap on the wrong path", "main",
                  [dict(e, path="e2e") if e["step"] == "bootstrap" else e for e in main], None,
                  False))
    moved = []
    for e in main:  # UE-A's fetch in the network session instead of the sending-ue one
        if not (e["who"] == "UE-A" and e["step"] == "fetch" and e["result"] == "ok"):
            moved.append(e)
        if e["step"] == "session" and e["detail"] == "network":
            moved.append(dict(e, who="UE-A", step="fetch", result="ok", detail=""))
    cases.append(("UE-A fetch in the wrong session", "main", moved, None, False))
    late = []  # the MF reports its frames after UE-A's next session marker (as it happens)
    held = None
    for e in main:
        if e["who"] == "MF" and e["step"] == "frames-received":
            held = e
            continue
        late.append(e)
        if held and e["step"] == "session":
            late.append(held)
            held = None
    cases.append(("the MF's frames reported in the next session", "main", late, None, True))
    cases.append(("UE-B received frames once only", "main",
                  [e for e in main if e is not main[-8]], None, False))
    cases.append(("process exit code 1", "main", main, {"MF": "1"}, False))
    cases.append(("no exit event", "main", [e for e in main if e["step"] != "exit"], None, False))
    tam = synthetic("tampered", t0)
    cases.append(("tampered without the tag reason", "tampered",
                  [dict(e, detail="BAR: bad") if e["step"] == "fetch" and e["result"] ==
                   "refused" else e for e in tam], None, False))
    cases.append(("tampered but rendered", "tampered",
                  tam[:-7] + [dict(tam[0], who="UE-B", step="render")] + tam[-7:], None, False))
    bad = 0
    with tempfile.TemporaryDirectory() as d:
        for name, scenario, evs, rcs, expect_ok in cases:
            p = os.path.join(d, "events.jsonl")
            with open(p, "w") as f:
                for e in evs:
                    f.write(json.dumps({k: v for k, v in e.items() if not k.startswith("_")})
                            + "\n")
            rc_items = ["%s=%s" % (w, (rcs or {}).get(w, "0")) for w in WHOS]
            a = argparse.Namespace(events=p, t0=t0, scenario=scenario, rc=rc_items, log=[],
                                   out=[], avatar=None)
            sink = open(os.devnull, "w")
            got_ok = check(a, sink) == 0
            sink.close()
            verdict = "ok  " if got_ok == expect_ok else "BAD "
            bad += got_ok != expect_ok
            print("%s %s: judged %s" % (verdict, name, "passing" if got_ok else "failing"))
    print("%d case(s) misjudged" % bad)
    return 1 if bad else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("follow")
    f.add_argument("--events", required=True)
    f.add_argument("--t0", type=int, required=True)
    f.add_argument("--done", required=True)
    f.add_argument("--step-dir")
    f.add_argument("--max-seconds", type=int, default=3600)
    w = sub.add_parser("wait")
    w.add_argument("--events", required=True)
    w.add_argument("--who", required=True)
    w.add_argument("--step", required=True)
    w.add_argument("--pid", type=int, required=True)
    w.add_argument("--timeout", type=float, default=30)
    c = sub.add_parser("check")
    c.add_argument("--events", required=True)
    c.add_argument("--t0", type=int, required=True)
    c.add_argument("--scenario", required=True, choices=("main", "wrong-avatar", "tampered"))
    c.add_argument("--rc", action="append")
    c.add_argument("--log", action="append")
    c.add_argument("--out", action="append")
    c.add_argument("--avatar")
    sub.add_parser("selftest")
    a = p.parse_args()
    return {"follow": cmd_follow, "wait": cmd_wait, "check": cmd_check,
            "selftest": cmd_selftest}[a.cmd](a)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
