"""The official Python MCP SDK as a client of `toolplane mcp serve`.

    python py_client.py stdio SCENARIO_JSON -- CMD ARGS...
    python py_client.py http  SCENARIO_JSON URL [BEARER]

SCENARIO_JSON: {"calls": [{"tool": NAME, "arguments": {...}}], "elicit": "accept"|"decline"}
Prints one JSON object: server info, the number of tools, each call's result
(or the JSON-RPC error), and the elicitations the server sent.
"""

import asyncio
import json
import sys

import mcp.types as types
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


async def scenario(read, write, plan):
    elicitations = []

    async def on_elicit(context, params):
        elicitations.append({"message": params.message})
        if plan.get("elicit") == "accept":
            return types.ElicitResult(action="accept", content={"approve": True})
        return types.ElicitResult(action="decline")

    kwargs = {}
    if plan.get("elicit"):
        kwargs["elicitation_callback"] = on_elicit
    async with ClientSession(read, write, **kwargs) as session:
        init = await session.initialize()
        tools = []
        cursor = None
        while True:
            page = await session.list_tools(params=types.PaginatedRequestParams(cursor=cursor) if cursor else None)
            tools.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                break
        results = []
        for call in plan.get("calls", []):
            try:
                r = await session.call_tool(call["tool"], call.get("arguments", {}))
                results.append({
                    "is_error": bool(r.is_error),
                    "text": "".join(c.text for c in r.content if getattr(c, "type", "") == "text"),
                    "structured": r.structured_content,
                })
            except Exception as e:  # a JSON-RPC error
                results.append({"rpc_error": str(e)})
        return {
            "server": init.server_info.name,
            "protocol": init.protocol_version,
            "tools": len(tools),
            "tool_names": [t.name for t in tools][:2000],
            "results": results,
            "elicitations": elicitations,
        }


async def main():
    mode, plan = sys.argv[1], json.loads(sys.argv[2])
    if mode == "stdio":
        cmd = sys.argv[sys.argv.index("--") + 1:]
        params = StdioServerParameters(command=cmd[0], args=cmd[1:])
        async with stdio_client(params) as (read, write):
            out = await scenario(read, write, plan)
    else:
        url = sys.argv[3]
        headers = {"Authorization": f"Bearer {sys.argv[4]}"} if len(sys.argv) > 4 else None
        async with create_mcp_http_client(headers=headers) as http:
            async with streamable_http_client(url, http_client=http) as (read, write):
                out = await scenario(read, write, plan)
    print(json.dumps(out))


asyncio.run(main())
