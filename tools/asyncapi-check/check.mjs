// Parse an AsyncAPI document with the official parser and print its diagnostics as JSON.
// Usage: node check.mjs FILE   (exit 0 when the parser reports no errors)
import { readFileSync } from "node:fs";
import { Parser, DiagnosticSeverity } from "@asyncapi/parser";

const file = process.argv[2];
if (!file) {
  console.error("usage: node check.mjs FILE");
  process.exit(2);
}
const parser = new Parser();
const { document, diagnostics } = await parser.parse(readFileSync(file, "utf8"), {
  source: file,
});
const named = (d) => ({
  code: d.code,
  severity: ["error", "warning", "information", "hint"][d.severity] ?? String(d.severity),
  message: d.message,
  path: d.path,
});
const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
console.log(
  JSON.stringify({
    parsed: document !== undefined,
    errors: errors.map(named),
    warnings: diagnostics.filter((d) => d.severity !== DiagnosticSeverity.Error).map(named),
  }),
);
process.exit(errors.length === 0 && document !== undefined ? 0 : 1);
