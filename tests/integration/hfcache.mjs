// The HF cache that `airlock checkout --hf-cache` wrote, read by the real
// @huggingface/hub with no network: scanCacheDir (its port of
// huggingface_hub's scan_cache_dir, which refuses a ref to a missing
// snapshot and a snapshot that is a file) and downloadFileToCacheDir by
// commit, whose fetch throws, so that only the cache can answer.
//
//   node hfcache.mjs CACHE REPO COMMIT PATH...
// prints the scan as JSON, then one line "PATH<TAB>FILE" per PATH: the
// file the client resolved, for the caller to compare byte for byte.
import { scanCacheDir, downloadFileToCacheDir } from "@huggingface/hub";
import { relative } from "node:path";

const [cache, repo, commit, ...paths] = process.argv.slice(2);
const offline = () => { throw new Error("network used while offline"); };

const scan = await scanCacheDir(cache);
const out = {
	warnings: scan.warnings.map(String),
	repos: scan.repos.map((r) => ({
		id: r.id.name, type: r.id.type, files: r.filesCount,
		revisions: r.revisions.map((v) => ({
			commit: v.commitOid, refs: v.refs, size: v.size,
			files: v.files.map((f) => relative(v.path, f.path)).sort(),
		})),
	})),
};
console.log(JSON.stringify(out));
for (const p of paths) {
	const got = await downloadFileToCacheDir({
		repo, path: p, revision: commit, cacheDir: cache,
		hubUrl: "http://127.0.0.1:9", fetch: offline,
	});
	console.log(`${p}\t${got}`);
}
