/**
 * Regenerates controller/repository/model-config.generated.ts from protos/model_config.proto.
 * Run with `npm run gen`.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import protobuf from "protobufjs";
import { renderTypeDeclarations } from "../controller/repository/pbtxt/codegen.js";
import { modelConfigRoot } from "../controller/repository/pbtxt/schema.js";
import { packageRoot } from "../controller/util/package-root.js";

const target = join(packageRoot, "controller", "repository", "model-config.generated.ts");
const ns = modelConfigRoot().lookup("inference");
if (!(ns instanceof protobuf.Namespace))
  throw new Error("protos/model_config.proto has no package inference");
const text = renderTypeDeclarations(ns, "protos/model_config.proto");
writeFileSync(target, text);
console.log(`wrote ${target}`);
