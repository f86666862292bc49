// Drives the real, unmodified @huggingface/hub and transformers.js against
// airlockd: the listings, a history, who a token is, and a tokenizer and
// a configuration loaded by transformers.js.
//
//   node hublist.mjs STEP HUB_URL ARG...
//
//   models EXPECT.json [TOKEN]   listModels: every model, once, with the
//                                fields EXPECT.json gives ({name: {...}})
//   many N                       listModels over more than one page of
//                                500: bench/mkrepos's N repositories once
//   datasets EXPECT.json         listDatasets, likewise
//   query OWNER TAG TASK WANT... listModels with search.owner, .tags and
//                                .task: exactly the names WANT
//   sorted FIELD WANT            listModels sorted by FIELD: WANT first
//   commits REPO WANT...         listCommits of main: the commit ids WANT,
//                                newest first, with dates and titles
//   whoami TOKEN NAME ROLE ORG.. whoAmI: its name, role and orgs
//   whoami-refused TOKEN         whoAmI throws a 401
//   transformers REPO DIR CACHE  AutoTokenizer and AutoConfig from
//                                airlockd, checked against DIR's files
// Exits 0 when everything checked out, 1 with a message otherwise.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as hub from "@huggingface/hub";

const [step, hubUrl, ...args] = process.argv.slice(2);

function fail(msg) {
	console.error(`not ok: ${msg}`);
	process.exit(1);
}

function same(got, want, what) {
	if (JSON.stringify(got) !== JSON.stringify(want))
		fail(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

async function collect(it) {
	const out = [];
	for await (const x of it)
		out.push(x);
	return out;
}

// Each listed repository once, with what the store says of it.
async function checkList(list, expectFile) {
	const expect = JSON.parse(await readFile(expectFile, "utf8"));
	const names = list.map((m) => m.name);
	same(names.length, new Set(names).size, "no repository twice");
	same([...names].sort(), Object.keys(expect).sort(), "the names");
	for (const m of list) {
		const e = expect[m.name];
		if (typeof m.id !== "string" || m.id.length !== 24)
			fail(`${m.name}: _id ${m.id}`);
		same(m.private, e.private, `${m.name}: private`);
		same(m.gated, false, `${m.name}: gated`);
		same(m.likes, 0, `${m.name}: likes`);
		same(m.downloads, e.downloads ?? 0, `${m.name}: downloads`);
		if (!(m.updatedAt instanceof Date) || isNaN(m.updatedAt))
			fail(`${m.name}: updatedAt ${m.updatedAt}`);
		if (e.task !== undefined)
			same(m.task, e.task, `${m.name}: task`);
		if (e.sha !== undefined)
			same(m.sha, e.sha, `${m.name}: sha`);
		if (e.tags !== undefined)
			for (const t of e.tags)
				if (!m.tags.includes(t))
					fail(`${m.name}: tag ${t} missing from ${m.tags}`);
	}
}

const credentials = (token) => (token ? { accessToken: token } : {});

switch (step) {
case "models": {
	const [expectFile, token] = args;
	await checkList(await collect(hub.listModels({ hubUrl,
	    additionalFields: ["sha", "tags", "author", "createdAt"],
	    ...credentials(token) })), expectFile);
	break;
}
case "many": {
	// bench/mkrepos's repositories: orgK/model-I, ten to an org.
	const n = Number(args[0]);
	const names = (await collect(hub.listModels({ hubUrl }))).map((m) => m.name);
	same(names.length, n, "how many");
	const want = new Set(Array.from({ length: n },
	    (_, i) => `org${Math.floor(i / 10)}/model-${i}`));
	for (const name of names)
		if (!want.delete(name))
			fail(`${name}: not made, or listed twice`);
	break;
}
case "datasets": {
	const [expectFile] = args;
	await checkList(await collect(hub.listDatasets({ hubUrl,
	    additionalFields: ["sha", "tags"] })), expectFile);
	break;
}
case "query": {
	const [owner, tag, task, ...want] = args;
	const search = {};
	if (owner !== "-")
		search.owner = owner;
	if (tag !== "-")
		search.tags = [tag];
	if (task !== "-")
		search.task = task;
	const list = await collect(hub.listModels({ hubUrl, search }));
	same(list.map((m) => m.name).sort(), want.sort(),
	    `owner ${owner}, tag ${tag}, task ${task}`);
	break;
}
case "sorted": {
	const [field, want] = args;
	const list = await collect(hub.listModels({ hubUrl, sort: field }));
	same(list[0]?.name, want, `the first by ${field}`);
	for (let i = 1; i < list.length; i++)
		if (field === "downloads" && list[i].downloads > list[i - 1].downloads)
			fail(`not from the most downloaded: ${list[i].name}`);
	break;
}
case "commits": {
	const [name, ...want] = args;
	const list = await collect(hub.listCommits({ repo: { type: "model", name },
	    hubUrl, batchSize: 2 }));
	same(list.map((c) => c.oid), want, "the commits, newest first");
	for (const c of list) {
		if (!(c.date instanceof Date) || isNaN(c.date))
			fail(`${c.oid}: date ${c.date}`);
		if (typeof c.title !== "string" || c.title === "")
			fail(`${c.oid}: no title`);
		if (c.authors.length !== 1 || typeof c.authors[0].username !== "string")
			fail(`${c.oid}: authors ${JSON.stringify(c.authors)}`);
	}
	for (let i = 1; i < list.length; i++)
		if (list[i].date > list[i - 1].date)
			fail(`${list[i].oid} is newer than the one before it`);
	break;
}
case "whoami": {
	const [token, name, role, ...orgs] = args;
	const me = await hub.whoAmI({ hubUrl, accessToken: token });
	same(me.type, "user", "type");
	same(me.name, name, "name");
	same(me.auth.accessToken.role, role, "role");
	same(me.orgs.map((o) => o.name).sort(), orgs.sort(), "orgs");
	break;
}
case "whoami-refused": {
	const [token] = args;
	try {
		await hub.whoAmI({ hubUrl, accessToken: token });
	} catch (e) {
		same(e.statusCode, 401, "the status");
		break;
	}
	fail("whoAmI answered an unknown token");
}
case "transformers": {
	const [name, dir, cache] = args;
	const tf = await import("@huggingface/transformers");
	tf.env.remoteHost = hubUrl + "/";
	tf.env.allowLocalModels = false;
	tf.env.allowRemoteModels = true;
	tf.env.useBrowserCache = false;
	tf.env.useFSCache = false;
	tf.env.cacheDir = cache;
	const want = JSON.parse(await readFile(join(dir, "config.json"), "utf8"));
	const config = await tf.AutoConfig.from_pretrained(name);
	for (const [k, v] of Object.entries(want))
		same(config[k], v, `config.${k}`);
	const tj = JSON.parse(await readFile(join(dir, "tokenizer.json"), "utf8"));
	const tok = await tf.AutoTokenizer.from_pretrained(name);
	// Word by word, lower-cased, as the file's normalizer and
	// pre-tokenizer say; a word not in the vocabulary is [UNK].
	const text = "Hello air GAP lock offline Registry zebra";
	const ids = text.toLowerCase().split(" ").map((w) =>
	    tj.model.vocab[w] ?? tj.model.vocab[tj.model.unk_token]);
	same(tok.encode(text, { add_special_tokens: false }), ids,
	    `the ids of "${text}"`);
	same(tok.model.vocab.length ?? tok.model.vocab.size,
	    Object.keys(tj.model.vocab).length, "the vocabulary's size");
	break;
}
default:
	fail(`unknown step ${step}`);
}
