import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import protobuf from "protobufjs";
import { renderTypeDeclarations } from "../../controller/repository/pbtxt/codegen.js";
import { modelConfigRoot } from "../../controller/repository/pbtxt/schema.js";
import { projectRoot } from "../support/reference.js";

describe("model-config.generated.ts", () => {
  it("is in sync with protos/model_config.proto (run `npm run gen` if not)", () => {
    const ns = modelConfigRoot().lookup("inference");
    expect(ns).to.be.instanceOf(protobuf.Namespace);
    const fresh = renderTypeDeclarations(ns as protobuf.Namespace, "protos/model_config.proto");
    const committed = readFileSync(
      join(projectRoot, "controller", "repository", "model-config.generated.ts"),
      "utf8",
    );
    expect(committed).to.equal(fresh);
    expect(committed).to.contain("export interface ModelConfig {");
  });
});
