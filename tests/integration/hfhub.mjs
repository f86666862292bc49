// Drives the real, unmodified @huggingface/hub against airlockd and checks
// what it gets against the store's own record of the revision.
//
//   node hfhub.mjs STEP HUB_URL TYPE REPO EXPECT.json [ARG]
//
// EXPECT.json is `airlock --json show` of the revision.  STEP is one of:
//   info      modelInfo / datasetInfo: name, sha, siblings
//   list      listFiles, recursive: every file with its size and hashes
//   dlinfo    fileDownloadInfo of every file: size and ETag
//   download  downloadFile of every file: every byte, by sha256
//   snapshot  snapshotDownload into the cache folder ARG: every byte
//   revision  modelInfo and listFiles at the revision ARG (e.g. refs/pr/1)
//   missing   a path that is not there: fileDownloadInfo gives null
//   header    parseSafetensorsMetadata: the header, read with ranges
//   private   ARG is a token: with it info works, without it a 401
// Exits 0 when everything checked out, 1 with a message otherwise.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as hub from "@huggingface/hub";

const [step, hubUrl, type, name, expectFile, arg] = process.argv.slice(2);
const expect = JSON.parse(await readFile(expectFile, "utf8"));
const repo = { type, name };
const files = new Map(expect.files.map((f) => [f.path, f]));

function fail(msg) {
	console.error(`not ok: ${msg}`);
	process.exit(1);
}

function same(got, want, what) {
	if (got !== want)
		fail(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

function sha256(buf) {
	return createHash("sha256").update(buf).digest("hex");
}

async function info(params = {}) {
	const fn = type === "model" ? hub.modelInfo : hub.datasetInfo;
	return fn({ name, hubUrl, additionalFields: ["sha", "siblings"], ...params });
}

async function listAll(params = {}) {
	const out = [];
	for await (const e of hub.listFiles({ repo, hubUrl, recursive: true, ...params }))
		out.push(e);
	return out;
}

function checkListing(entries) {
	const seen = new Set();
	for (const e of entries) {
		if (e.type === "directory") {
			if (typeof e.oid !== "string" || e.oid.length !== 40)
				fail(`${e.path}: directory without a tree oid`);
			continue;
		}
		same(e.type, "file", `${e.path}: type`);
		const f = files.get(e.path);
		if (!f)
			fail(`${e.path}: listed but not in the revision`);
		seen.add(e.path);
		same(e.size, f.size, `${e.path}: size`);
		same(e.oid, f.git_sha1, `${e.path}: oid`);
		if (f.lfs) {
			if (!e.lfs)
				fail(`${e.path}: LFS file listed without lfs`);
			same(e.lfs.oid, f.sha256, `${e.path}: lfs.oid`);
			same(e.lfs.size, f.size, `${e.path}: lfs.size`);
		} else if (e.lfs)
			fail(`${e.path}: not an LFS file, listed with lfs`);
		if ("xetHash" in e)
			fail(`${e.path}: xetHash sent`);
	}
	same(seen.size, files.size, "files listed");
}

async function checkBytes(path, buf) {
	const f = files.get(path);
	same(buf.length, f.size, `${path}: bytes received`);
	same(sha256(buf), f.sha256, `${path}: sha256 of the bytes`);
}

switch (step) {
case "info": {
	const i = await info();
	same(i.name, name, "name");
	same(i.sha, expect.commit, "sha");
	same(i.private, false, "private");
	if (typeof i.id !== "string" || i.id.length === 0)
		fail("no _id");
	const sib = (i.siblings ?? []).map((s) => s.rfilename).sort();
	same(JSON.stringify(sib), JSON.stringify([...files.keys()].sort()),
	    "siblings");
	if (!(i.updatedAt instanceof Date) || isNaN(i.updatedAt))
		fail("lastModified is not a date");
	if (!(await hub.repoExists({ repo, hubUrl })))
		fail("repoExists says no");
	break;
}
case "list":
	checkListing(await listAll());
	break;
case "dlinfo":
	for (const f of files.values()) {
		const d = await hub.fileDownloadInfo({ repo, path: f.path, hubUrl });
		if (!d)
			fail(`${f.path}: fileDownloadInfo gave null`);
		same(d.size, f.size, `${f.path}: size`);
		same(d.etag.replace(/^W\//, "").replaceAll('"', ""),
		    f.lfs ? f.sha256 : f.git_sha1, `${f.path}: etag`);
		if (d.xet)
			fail(`${f.path}: sent to Xet`);
	}
	break;
case "download":
	for (const f of files.values()) {
		const blob = await hub.downloadFile({ repo, path: f.path, hubUrl });
		if (!blob)
			fail(`${f.path}: downloadFile gave null`);
		await checkBytes(f.path, Buffer.from(await blob.arrayBuffer()));
	}
	break;
case "snapshot": {
	const dir = await hub.snapshotDownload({ repo, hubUrl, cacheDir: arg });
	if (!dir.endsWith(expect.commit))
		fail(`snapshot folder ${dir} is not named by the commit`);
	for (const f of files.values())
		await checkBytes(f.path, await readFile(join(dir, f.path)));
	break;
}
case "revision": {
	const i = await info({ revision: arg });
	same(i.sha, expect.commit, `sha at ${arg}`);
	checkListing(await listAll({ revision: arg }));
	for (const f of files.values()) {
		const blob = await hub.downloadFile({ repo, path: f.path,
		    revision: arg, hubUrl });
		await checkBytes(f.path, Buffer.from(await blob.arrayBuffer()));
	}
	break;
}
case "missing": {
	const d = await hub.fileDownloadInfo({ repo, path: "no/such/file.bin",
	    hubUrl });
	same(d, null, "fileDownloadInfo of a missing file");
	if (await hub.fileExists({ repo, path: "no/such/file.bin", hubUrl }))
		fail("fileExists says yes");
	break;
}
case "header": {
	const meta = await hub.parseSafetensorsMetadata({ repo, hubUrl });
	if (meta.sharded || !meta.header || !meta.header.weight)
		fail(`unexpected safetensors metadata ${JSON.stringify(meta)}`);
	break;
}
case "private": {
	const i = await info({ accessToken: arg });
	same(i.name, name, "name with a token");
	try {
		await info();
		fail("read a private repository without a token");
	} catch (e) {
		if (e.statusCode !== 401)
			fail(`without a token: ${e.statusCode} ${e.message}`);
	}
	try {
		await info({ accessToken: "hf_wrongwrongwrong" });
		fail("read a private repository with a wrong token");
	} catch (e) {
		if (e.statusCode !== 401)
			fail(`with a wrong token: ${e.statusCode} ${e.message}`);
	}
	const blob = await hub.downloadFile({ repo, path: "config.json", hubUrl,
	    accessToken: arg });
	await checkBytes("config.json", Buffer.from(await blob.arrayBuffer()));
	break;
}
default:
	fail(`unknown step ${step}`);
}
console.log(`ok: ${step}`);
