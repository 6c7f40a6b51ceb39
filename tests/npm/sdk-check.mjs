// sdk-check.mjs — drive bt-mock's OpenAI side with the official openai
// package (tests/mock-openai-sdk.t): node sdk-check.mjs INPUT.jsonl
//
// OPENAI_BASE_URL and OPENAI_API_KEY say where and with what key.  Each
// step writes one line, [NAME, VALUE] as JSON, to standard output: the
// objects the SDK returned, for the test to check against the schemas.
// Any error the SDK throws that a step does not expect ends it with
// status 1.
import fs from 'node:fs';
import OpenAI from 'openai';

const input = process.argv[2];
const client = new OpenAI({ maxRetries: 0, timeout: 20000 });
const out = (name, value) => console.log(JSON.stringify([name, value]));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ended = ['completed', 'failed', 'expired', 'cancelled'];

async function until(id, statuses) {
	for (;;) {
		const b = await client.batches.retrieve(id);
		if (statuses.includes(b.status))
			return b;
		await sleep(100);
	}
}

const file = await client.files.create({ file: fs.createReadStream(input), purpose: 'batch' });
out('file', file);
out('file-retrieved', await client.files.retrieve(file.id));

const batch = await client.batches.create({
	input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h',
	metadata: { tag: 'sdk' },
});
out('created', batch);
const done = await until(batch.id, ended);
out('ended', done);
const content = await client.files.content(done.output_file_id);
out('output', await content.text());

for (let i = 0; i < 3; i++)
	out('more', await client.batches.create({
		input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h',
	}));
const listed = [];
for await (const b of client.batches.list({ limit: 2 }))
	listed.push(b.id);
out('listed', listed);

const last = await client.batches.create({
	input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h',
});
out('cancelling', await client.batches.cancel(last.id));
out('cancelled', await until(last.id, ended));

out('chat', await client.chat.completions.create({
	model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hello from the sdk' }],
}));
out('embeddings', await client.embeddings.create({
	model: 'text-embedding-3-small', input: ['a cat', 'a dog', 'a cat'],
}));

try {
	await client.batches.retrieve('batch_nope');
	out('not-found', null);
} catch (e) {
	out('not-found', { class: e.constructor.name, status: e.status, type: e.type });
}
out('deleted', await client.files.delete(file.id));
