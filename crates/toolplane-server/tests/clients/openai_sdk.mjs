// The official `openai` npm package against `toolplane serve`.
// Run by crates/toolplane-cli/tests/serve.rs with TOOLPLANE_URL, TOOLPLANE_KEY,
// TOOLPLANE_BROKE_KEY and NODE_PATH pointing at the installed package.
import assert from "node:assert/strict";
import { createRequire } from "node:module";

const require = createRequire(process.env.NODE_PATH + "/");
const OpenAI = require("openai");
const baseURL = process.env.TOOLPLANE_URL + "/v1";
const client = new OpenAI({ baseURL, apiKey: process.env.TOOLPLANE_KEY, maxRetries: 0 });

const plain = await client.chat.completions.create({
  model: "fast",
  messages: [{ role: "user", content: "hello from node" }],
});
assert.equal(plain.model, "fast");
assert.match(plain.choices[0].message.content, /hello from node/);

const stream = await client.chat.completions.create({
  model: "careful",
  messages: [{ role: "user", content: "stream me please" }],
  stream: true,
  stream_options: { include_usage: true },
});
let text = "";
let usage = null;
for await (const chunk of stream) {
  if (chunk.choices.length) text += chunk.choices[0].delta.content ?? "";
  if (chunk.usage) usage = chunk.usage;
}
assert.match(text, /stream me please/);
assert.ok(usage && usage.completion_tokens > 0);

const tools = [{
  type: "function",
  function: {
    name: "get_weather",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
}];
const messages = [{ role: "user", content: "use get_weather for Paris" }];
const first = await client.chat.completions.create({ model: "fast", messages, tools });
assert.equal(first.choices[0].finish_reason, "tool_calls");
const call = first.choices[0].message.tool_calls[0];
messages.push(first.choices[0].message, { role: "tool", tool_call_id: call.id, content: "foggy" });
const second = await client.chat.completions.create({ model: "fast", messages, tools });
assert.match(second.choices[0].message.content, /foggy/);

await assert.rejects(
  new OpenAI({ baseURL, apiKey: "tp-wrong", maxRetries: 0 }).chat.completions.create({
    model: "fast", messages: [{ role: "user", content: "x" }],
  }),
  (e) => e instanceof OpenAI.AuthenticationError && e.status === 401,
);
await assert.rejects(
  client.chat.completions.create({ model: "fast", messages: [{ role: "robot", content: "x" }] }),
  (e) => e instanceof OpenAI.BadRequestError && e.status === 400,
);
await assert.rejects(
  new OpenAI({ baseURL, apiKey: process.env.TOOLPLANE_BROKE_KEY, maxRetries: 0 }).chat.completions.create({
    model: "fast", messages: [{ role: "user", content: "x" }],
  }),
  (e) => e instanceof OpenAI.RateLimitError && e.status === 429,
);
console.log("openai npm: 6 checks passed");
