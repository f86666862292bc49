// Validates airlock's bills of materials with what CycloneDX publishes:
//   cyclonedx FILE   the BOM against bom-1.6.schema.json (with its
//                    spdx and jsf subschemas), by @cyclonedx/cyclonedx-
//                    library's own strict validator (ajv, ajv-formats);
//   spdx-ids ID...   each SPDX licence id against spdx.schema.json, the
//                    SPDX licence list as CycloneDX ships it;
//   spdx SCHEMA FILE the document against SPDX's own JSON schema (JSON
//                    Schema 2020-12, ajv's 2020 dialect, ajv-formats).
// Prints the errors and exits 1 when invalid.  Run from beside the
// node_modules that npm installed.
const CDX = require('@cyclonedx/cyclonedx-library');
const Ajv = require('ajv');
const fs = require('fs');
const path = require('path');

async function cyclonedx(file) {
	const v = new CDX.Validation.JsonStrictValidator(CDX.Spec.Version.v1dot6);
	const errors = await v.validate(fs.readFileSync(file, 'utf8'));
	if (errors !== null) {
		console.log(JSON.stringify(errors, null, 1).slice(0, 4000));
		process.exit(1);
	}
}

function spdxIds(ids) {
	const dir = path.join(path.dirname(require.resolve(
	    '@cyclonedx/cyclonedx-library/package.json')), 'res', 'schema');
	const schema = JSON.parse(fs.readFileSync(path.join(dir,
	    'spdx.SNAPSHOT.schema.json'), 'utf8'));
	const check = new Ajv({ strict: false }).compile(schema);
	const bad = ids.filter((id) => !check(id));
	if (bad.length > 0) {
		console.log('not SPDX licence ids: ' + bad.join(' '));
		process.exit(1);
	}
}

function spdx(schemaFile, file) {
	const Ajv2020 = require('ajv/dist/2020');
	const addFormats = require('ajv-formats');
	const ajv = new Ajv2020({ strict: false, allErrors: true });
	addFormats(ajv);
	const check = ajv.compile(JSON.parse(fs.readFileSync(schemaFile, 'utf8')));
	if (!check(JSON.parse(fs.readFileSync(file, 'utf8')))) {
		// The schema's if/then branches repeat each real error.
		const errors = check.errors.filter((e) => e.keyword !== 'if');
		console.log(JSON.stringify(errors.slice(0, 20), null, 1));
		process.exit(1);
	}
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'cyclonedx')
	cyclonedx(args[0]).catch((e) => { console.log(String(e)); process.exit(2); });
else if (mode === 'spdx-ids')
	spdxIds(args);
else if (mode === 'spdx')
	spdx(args[0], args[1]);
else {
	console.log('usage: bom_validate.cjs cyclonedx FILE | spdx-ids ID... | spdx SCHEMA FILE');
	process.exit(2);
}
