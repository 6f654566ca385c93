#!/usr/bin/env python3
"""Time from process start to the answer of the first `tools/list`, and peak memory,
for an MCP server on stdio (`toolplane mcp serve SPEC` by default).

    scripts/bench/mcp_serve_startup.py [--runs N] -- CMD ARGS...

Speaks raw JSON-RPC lines (initialize, notifications/initialized, tools/list,
following `nextCursor`), so the figure is the server's, not a client SDK's.
Prints the median and the spread over the runs, the tool count, and the
server's peak resident memory (VmHWM) when the answer arrived.
"""

import json
import statistics
import subprocess
import sys
import time


def once(cmd):
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def send(msg):
        p.stdin.write((json.dumps(msg) + "\n").encode())
        p.stdin.flush()

    def answer(want):
        while True:
            line = p.stdout.readline()
            if not line:
                raise RuntimeError("the server closed stdout")
            msg = json.loads(line)
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
    hwm_kb = 0
    try:
        with open(f"/proc/{p.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    hwm_kb = int(line.split()[1])
    except OSError:
        pass
    p.stdin.close()
    p.terminate()
    p.wait()
    return elapsed, tools, hwm_kb


def main():
    args = sys.argv[1:]
    runs = 5
    if args and args[0] == "--runs":
        runs, args = int(args[1]), args[2:]
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        sys.exit(__doc__)
    times, mems, tools = [], [], 0
    for _ in range(runs):
        t, tools, kb = once(args)
        times.append(t)
        mems.append(kb)
    print(json.dumps({
        "command": " ".join(args),
        "runs": runs,
        "tools": tools,
        "first_tools_list_ms_median": round(statistics.median(times) * 1000, 1),
        "first_tools_list_ms_min": round(min(times) * 1000, 1),
        "first_tools_list_ms_max": round(max(times) * 1000, 1),
        "peak_rss_mb_max": round(max(mems) / 1024, 1),
    }))


main()
