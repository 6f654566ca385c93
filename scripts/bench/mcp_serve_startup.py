#!/usr/bin/env python3
"""Time from process start to the answer of the first `tools/list`, and peak
memory, for MCP servers on stdio, side by side.

    scripts/bench/mcp_serve_startup.py [--runs N] --server NAME CMD ARGS... [--server NAME CMD ARGS...]
    scripts/bench/mcp_serve_startup.py [--runs N] -- CMD ARGS...          # one server

Each run starts the server under `/usr/bin/time -f %M` (peak resident set
size), speaks raw JSON-RPC lines (initialize, notifications/initialized,
tools/list following `nextCursor`), so the figure is the server's and not a
client SDK's, then closes the server's stdin and waits for it to exit. With
several servers the runs alternate (A B A B ...), so a change in the machine's
load hits both. Prints one JSON object per server (median, min, max of the
time; median and max of the peak RSS; the tool count) and, with two servers,
the ratio of the median times (second / first).
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def once(cmd):
    fd, rss_file = tempfile.mkstemp(prefix="mcp-rss-")
    os.close(fd)
    start = time.perf_counter()
    p = subprocess.Popen(
        ["/usr/bin/time", "-f", "%M", "-o", rss_file, *cmd],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )

    def send(msg):
        p.stdin.write((json.dumps(msg) + "\n").encode())
        p.stdin.flush()

    def answer(want):
        while True:
            line = p.stdout.readline()
            if not line:
                raise RuntimeError(f"{cmd[0]} closed stdout before answering request {want}")
            try:
                msg = json.loads(line)
            except ValueError:
                continue  # a server that logs on stdout; not a JSON-RPC message
            if msg.get("id") == want:
                return msg

    send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}})
    answer(1)
    send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    tools, cursor, rid = 0, None, 2
    while True:
        params = {"cursor": cursor} if cursor else {}
        send({"jsonrpc": "2.0", "id": rid, "method": "tools/list", "params": params})
        r = answer(rid)["result"]
        tools += len(r["tools"])
        cursor = r.get("nextCursor")
        rid += 1
        if not cursor:
            break
    elapsed = time.perf_counter() - start
    # End of input ends a stdio MCP server; /usr/bin/time then writes %M.
    p.stdin.close()
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    with open(rss_file, encoding="utf-8") as f:
        lines = [l for l in f.read().split() if l.isdigit()]
    os.unlink(rss_file)
    rss_kb = int(lines[-1]) if lines else 0
    return elapsed, tools, rss_kb


def parse(args):
    runs = 5
    if args[:1] == ["--runs"]:
        runs, args = int(args[1]), args[2:]
    servers = []
    if args[:1] == ["--"]:
        servers.append(("server", args[1:]))
    else:
        while args[:1] == ["--server"] and len(args) >= 3:
            name, rest = args[1], args[2:]
            cut = rest.index("--server") if "--server" in rest else len(rest)
            servers.append((name, rest[:cut]))
            args = rest[cut:]
    if not servers or any(not cmd for _, cmd in servers) or (args and args[0] != "--server"):
        sys.exit(__doc__)
    return runs, servers


def main():
    runs, servers = parse(sys.argv[1:])
    results = {name: {"times": [], "rss": [], "tools": 0} for name, _ in servers}
    for _ in range(runs):
        for name, cmd in servers:
            t, tools, kb = once(cmd)
            r = results[name]
            r["times"].append(t)
            r["rss"].append(kb)
            r["tools"] = tools
    medians = []
    for name, cmd in servers:
        r = results[name]
        med = statistics.median(r["times"])
        medians.append(med)
        print(json.dumps({
            "server": name,
            "command": " ".join(cmd),
            "runs": runs,
            "tools": r["tools"],
            "first_tools_list_ms_median": round(med * 1000, 1),
            "first_tools_list_ms_min": round(min(r["times"]) * 1000, 1),
            "first_tools_list_ms_max": round(max(r["times"]) * 1000, 1),
            "first_tools_list_ms_all": [round(t * 1000, 1) for t in r["times"]],
            "peak_rss_mb_median": round(statistics.median(r["rss"]) / 1024, 1),
            "peak_rss_mb_max": round(max(r["rss"]) / 1024, 1),
        }))
    if len(servers) == 2 and medians[0] > 0:
        print(json.dumps({
            "ratio_of_medians": f"{servers[1][0]} / {servers[0][0]}",
            "value": round(medians[1] / medians[0], 1),
        }))


main()
