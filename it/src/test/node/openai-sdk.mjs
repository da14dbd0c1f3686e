// The official OpenAI Node SDK against a specd server: completions and chat, whole and streamed,
// with logprobs, prompt arrays (strings and token ids) and the usage chunk. Run by
// it/OpenAiNodeSdkTest as `node openai-sdk.mjs <base URL> <model> <prompt token ids as JSON>`;
// prints one line per check passed and exits non-zero at the first that fails.
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const [baseURL, model, idsJson] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: 'unused', maxRetries: 0, timeout: 60_000 });
const ids = JSON.parse(idsJson);

async function check(name, body) {
  await body();
  console.log(`ok ${name}`);
}

/** Each streamed choice's text and logprob tokens, by index; the usage chunks seen. */
async function collect(stream, textOf, tokensOf) {
  const texts = [];
  const tokens = [];
  const usages = [];
  for await (const chunk of stream) {
    if (chunk.usage) {
      usages.push(chunk.usage);
    }
    for (const choice of chunk.choices) {
      texts[choice.index] = (texts[choice.index] ?? '') + (textOf(choice) ?? '');
      tokens[choice.index] = (tokens[choice.index] ?? []).concat(tokensOf(choice) ?? []);
    }
  }
  return { texts, tokens, usages };
}

const completionTokens = (choice) => choice.logprobs?.tokens;
const chatTokens = (choice) => choice.logprobs?.content?.map((entry) => entry.token);

await check('completion whole and streamed, with logprobs', async () => {
  const request = { model, prompt: 'Once upon a time', max_tokens: 8, temperature: 0, logprobs: 2 };
  const whole = await client.completions.create(request);
  const choice = whole.choices[0];
  assert.equal(choice.finish_reason, 'length');
  assert.equal(choice.logprobs.tokens.length, 8);
  assert.equal(choice.logprobs.tokens.join(''), choice.text);
  assert.ok(choice.logprobs.token_logprobs.every((logprob) => logprob <= 0));
  assert.equal(whole.usage.completion_tokens, 8);

  const streamed = await collect(
    await client.completions.create({ ...request, stream: true }),
    (c) => c.text,
    completionTokens,
  );
  assert.deepEqual(streamed.texts, [choice.text]);
  assert.deepEqual(streamed.tokens, [choice.logprobs.tokens]);
  assert.equal(streamed.usages.length, 0, 'no usage chunk unless asked');
});

await check('chat whole and streamed, with logprobs and the usage chunk', async () => {
  const request = {
    model,
    messages: [{ role: 'user', content: 'Tell me a story about a cat.' }],
    max_completion_tokens: 8,
    temperature: 0,
    logprobs: true,
    top_logprobs: 3,
  };
  const whole = await client.chat.completions.create(request);
  const choice = whole.choices[0];
  const content = choice.logprobs.content;
  assert.ok(content.length > 0);
  for (const entry of content) {
    assert.equal(entry.top_logprobs.length, 3);
    assert.equal(entry.top_logprobs[0].logprob, entry.logprob);
  }

  const streamed = await collect(
    await client.chat.completions.create({
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    }),
    (c) => c.delta.content,
    chatTokens,
  );
  assert.deepEqual(streamed.texts, [choice.message.content]);
  assert.deepEqual(streamed.tokens, [content.map((entry) => entry.token)]);
  assert.equal(streamed.usages.length, 1);
  assert.equal(streamed.usages[0].completion_tokens, whole.usage.completion_tokens);
});

await check('prompt arrays of strings and of token ids, whole and streamed', async () => {
  const request = { model, prompt: ['Once upon a time', 'The dog'], max_tokens: 8, temperature: 0 };
  const whole = await client.completions.create(request);
  assert.deepEqual(
    whole.choices.map((c) => c.index),
    [0, 1],
  );
  const texts = whole.choices.map((c) => c.text);
  const streamed = await collect(
    await client.completions.create({ ...request, stream: true }),
    (c) => c.text,
    completionTokens,
  );
  assert.deepEqual(streamed.texts, texts);

  const byIds = await client.completions.create({ ...request, prompt: [ids, ids] });
  assert.deepEqual(
    byIds.choices.map((c) => c.text),
    [texts[0], texts[0]],
  );
  const flat = await client.completions.create({ ...request, prompt: ids });
  assert.deepEqual(
    flat.choices.map((c) => c.text),
    [texts[0]],
  );
});

await check('an unknown model is a 404 model_not_found', async () => {
  await assert.rejects(
    client.completions.create({ model: 'gpt-4', prompt: 'x' }),
    (error) => error.status === 404 && error.code === 'model_not_found',
  );
});
