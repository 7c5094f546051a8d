import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { renderPolicyReference } from "../../controller/policy/reference-doc.js";
import { projectRoot } from "../support/reference.js";

describe("docs/modelpool.md", () => {
  it("is in sync with the policy schema (run `npm run gen` if not)", () => {
    const committed = readFileSync(join(projectRoot, "docs", "modelpool.md"), "utf8");
    expect(committed).to.equal(renderPolicyReference());
  });

  it("documents every field with its type and default", () => {
    const doc = renderPolicyReference();
    expect(doc).to.contain(
      "| `spec.models[].imageSize` | integer (≥ 32, ≤ 4096, multiple of 32) |",
    );
    expect(doc).to.match(
      /\| `spec\.models\[\]\.precision` \| `fp32` \\\| `fp16` \\\| `int8` \| .*Default: fp16\./,
    );
    expect(doc).to.match(
      /\| `spec\.scaling\.idleWindow` \| duration \(1s to 24h, whole seconds\) \| .*Default: 10m\./,
    );
    expect(doc).to.contain("| `spec.monitoring.scrapeInterval` | duration (1s to 5m) |");
  });
});
