"""FastMCP serving an OpenAPI description over stdio, the way its docs show
(`FastMCP.from_openapi`, every operation a tool), for the start-up comparison
in scripts/bench/mcp_startup.sh.

    python fastmcp_openapi.py SPEC.json [BASE_URL]
"""

import json
import sys

import httpx2
from fastmcp import FastMCP

with open(sys.argv[1], encoding="utf-8") as f:
    spec = json.load(f)
base_url = sys.argv[2] if len(sys.argv) > 2 else "http://127.0.0.1:9"
server = FastMCP.from_openapi(spec, client=httpx2.AsyncClient(base_url=base_url), name="github")
server.run(show_banner=False)
