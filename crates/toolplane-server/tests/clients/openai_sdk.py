"""The official `openai` Python SDK against `toolplane serve`.

Run by crates/toolplane-cli/tests/serve.rs with TOOLPLANE_URL, TOOLPLANE_KEY
(a member/approver/admin key) and TOOLPLANE_BROKE_KEY (a principal whose
token budget is 1, so every chat call is refused with 429).
"""
import json
import os
import sys

import openai

url = os.environ["TOOLPLANE_URL"] + "/v1"
key = os.environ["TOOLPLANE_KEY"]
client = openai.OpenAI(base_url=url, api_key=key, max_retries=0)

# Plain: the model field and the header name the expert that answered.
raw = client.chat.completions.with_raw_response.create(
    model="fast", messages=[{"role": "user", "content": "hello from the openai sdk"}]
)
completion = raw.parse()
assert raw.headers["x-toolplane-expert"] == "fast", raw.headers
assert raw.headers.get("x-request-id"), raw.headers
assert completion.model == "fast", completion.model
assert "hello from the openai sdk" in completion.choices[0].message.content
assert completion.choices[0].finish_reason == "stop"
assert completion.usage.total_tokens > 0

# Routed by the router.
routed = client.chat.completions.create(model="auto", messages=[{"role": "user", "content": "hi"}])
assert routed.model in ("fast", "careful"), routed.model

# Streamed, with the usage chunk at the end.
stream = client.chat.completions.create(
    model="careful",
    messages=[{"role": "user", "content": "stream me please"}],
    stream=True,
    stream_options={"include_usage": True},
)
text, usage, finish = "", None, None
for chunk in stream:
    if chunk.choices:
        text += chunk.choices[0].delta.content or ""
        finish = chunk.choices[0].finish_reason or finish
    if chunk.usage:
        usage = chunk.usage
assert "stream me please" in text, text
assert finish == "stop", finish
assert usage is not None and usage.completion_tokens > 0, usage

# A tool call round trip with the client's own tool.
tools = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}]
messages = [{"role": "user", "content": "use get_weather for Paris"}]
first = client.chat.completions.create(model="fast", messages=messages, tools=tools, tool_choice="auto", parallel_tool_calls=False)
assert first.choices[0].finish_reason == "tool_calls", first
call = first.choices[0].message.tool_calls[0]
assert call.function.name == "get_weather"
assert json.loads(call.function.arguments)["city"] == "Paris"
messages.append(first.choices[0].message)
messages.append({"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 C"})
second = client.chat.completions.create(model="fast", messages=messages, tools=tools)
assert "sunny, 21 C" in second.choices[0].message.content

# response_format passes through the parser.
structured = client.chat.completions.create(
    model="fast", messages=[{"role": "user", "content": "json please"}], response_format={"type": "json_object"}
)
assert structured.choices[0].message.content

# Errors are the SDK's own exception classes.
try:
    openai.OpenAI(base_url=url, api_key="tp-wrong", max_retries=0).chat.completions.create(
        model="fast", messages=[{"role": "user", "content": "x"}]
    )
    raise SystemExit("401 expected")
except openai.AuthenticationError as e:
    assert e.status_code == 401
    assert e.body["type"] == "authentication_error", e.body

try:
    client.chat.completions.create(model="fast", messages=[{"role": "robot", "content": "x"}])
    raise SystemExit("400 expected")
except openai.BadRequestError as e:
    assert e.status_code == 400
    assert e.body["param"] == "messages[0].role", e.body

try:
    client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    raise SystemExit("404 expected")
except openai.NotFoundError as e:
    assert e.body["code"] == "model_not_found", e.body

broke = openai.OpenAI(base_url=url, api_key=os.environ["TOOLPLANE_BROKE_KEY"], max_retries=0)
try:
    broke.chat.completions.create(model="fast", messages=[{"role": "user", "content": "x"}])
    raise SystemExit("429 expected")
except openai.RateLimitError as e:
    assert e.status_code == 429
    assert e.body["code"] == "budget_exceeded", e.body

models = [m.id for m in client.models.list()]
assert "fast" in models and "auto" in models, models
print("openai sdk", openai.__version__, ": 9 checks passed")
