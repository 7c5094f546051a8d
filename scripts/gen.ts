/**
 * Regenerates the committed generated files: controller/repository/model-config.generated.ts
 * (from protos/model_config.proto), docs/modelpool.md (from the policy schema) and
 * manifests/{crd,rbac,controller}.yaml (tritonscale's own install, from
 * controller/kube/install/). Run with `npm run gen`; tests fail while any is stale.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import protobuf from "protobufjs";
import { buildInstallFiles, MANIFESTS_HEADER } from "../controller/kube/install/index.js";
import { formatManifests } from "../controller/kube/yaml.js";
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
for (const file of buildInstallFiles()) {
  write(`manifests/${file.name}`, formatManifests(file.objects, { header: MANIFESTS_HEADER }));
}
