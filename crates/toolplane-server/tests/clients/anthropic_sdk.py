"""The official `anthropic` Python SDK against `toolplane serve` (/v1/messages).

Run by crates/toolplane-cli/tests/serve.rs with TOOLPLANE_URL, TOOLPLANE_KEY
and TOOLPLANE_BROKE_KEY (see openai_sdk.py).
"""
import os

import anthropic

url = os.environ["TOOLPLANE_URL"]
key = os.environ["TOOLPLANE_KEY"]
client = anthropic.Anthropic(base_url=url, api_key=key, max_retries=0)

message = client.messages.create(
    model="fast", max_tokens=200, messages=[{"role": "user", "content": "hello from the anthropic sdk"}]
)
assert message.model == "fast", message.model
assert message.stop_reason == "end_turn", message.stop_reason
assert "hello from the anthropic sdk" in message.content[0].text
assert message.usage.output_tokens > 0

# Streamed.
with client.messages.stream(
    model="careful", max_tokens=200, messages=[{"role": "user", "content": "stream me please"}]
) as stream:
    text = "".join(stream.text_stream)
    final = stream.get_final_message()
assert "stream me please" in text, text
assert final.stop_reason == "end_turn"

# Tools and tool_result blocks.
tools = [{
    "name": "get_weather",
    "description": "Current weather in a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}]
messages = [{"role": "user", "content": "use get_weather for Paris"}]
first = client.messages.create(model="fast", max_tokens=200, tools=tools, messages=messages)
assert first.stop_reason == "tool_use", first
use = next(b for b in first.content if b.type == "tool_use")
assert use.name == "get_weather" and use.input["city"] == "Paris", use
messages.append({"role": "assistant", "content": first.content})
messages.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "rainy, 12 C"}]})
second = client.messages.create(model="fast", max_tokens=200, tools=tools, messages=messages)
assert "rainy, 12 C" in second.content[0].text, second

# Streamed tool use.
with client.messages.stream(model="fast", max_tokens=200, tools=tools, messages=messages[:1]) as stream:
    final = stream.get_final_message()
assert final.stop_reason == "tool_use"
assert next(b for b in final.content if b.type == "tool_use").input["city"] == "Paris"

try:
    anthropic.Anthropic(base_url=url, api_key="tp-wrong", max_retries=0).messages.create(
        model="fast", max_tokens=10, messages=[{"role": "user", "content": "x"}]
    )
    raise SystemExit("401 expected")
except anthropic.AuthenticationError as e:
    assert e.status_code == 401

try:
    client.messages.create(model="fast", max_tokens=10, messages=[{"role": "robot", "content": "x"}])
    raise SystemExit("400 expected")
except anthropic.BadRequestError as e:
    assert e.status_code == 400

broke = anthropic.Anthropic(base_url=url, api_key=os.environ["TOOLPLANE_BROKE_KEY"], max_retries=0)
try:
    broke.messages.create(model="fast", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    raise SystemExit("429 expected")
except anthropic.RateLimitError as e:
    assert e.status_code == 429
print("anthropic sdk", anthropic.__version__, ": 8 checks passed")
