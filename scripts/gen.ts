/**
 * Regenerates the committed generated files: controller/repository/model-config.generated.ts
 * (from protos/model_config.proto) and docs/modelpool.md (from the policy schema).
 * Run with `npm run gen`; tests fail while either is stale.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import protobuf from "protobufjs";
import { renderPolicyReference } from "../controller/policy/reference-doc.js";
import { renderTypeDeclarations } from "../controller/repository/pbtxt/codegen.js";
import { modelConfigRoot } from "../controller/repository/pbtxt/schema.js";
import { packageRoot } from "../controller/util/package-root.js";

function write(rel: string, text: string): void {
  const target = join(packageRoot, rel);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, text);
  console.log(`wrote ${rel}`);
}

const ns = modelConfigRoot().lookup("inference");
if (!(ns instanceof protobuf.Namespace)) {
  throw new Error("protos/model_config.proto has no package inference");
}
write(
  "controller/repository/model-config.generated.ts",
  renderTypeDeclarations(ns, "protos/model_config.proto"),
);
write("docs/modelpool.md", renderPolicyReference());
