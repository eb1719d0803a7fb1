// Validate AsyncAPI documents with the official parser (@asyncapi/parser): exit 1 when any has
// an error-level diagnostic. Usage: node validate.mjs <document.json>...
import { readFile } from "node:fs/promises";
import { Parser, DiagnosticSeverity } from "@asyncapi/parser";

const parser = new Parser();
let failed = false;
for (const path of process.argv.slice(2)) {
  const { document, diagnostics } = await parser.parse(await readFile(path, "utf8"));
  const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
  for (const d of errors) {
    console.error(`${path}: ${d.code} at ${d.path.join(".") || "(root)"}: ${d.message}`);
  }
  if (document === undefined || errors.length > 0) {
    failed = true;
  } else {
    console.log(`${path}: valid AsyncAPI ${document.version()}`);
  }
}
if (process.argv.length < 3) {
  console.error("usage: node validate.mjs <document.json>...");
  failed = true;
}
process.exit(failed ? 1 : 0);
