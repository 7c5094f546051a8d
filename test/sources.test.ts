import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { expect } from "chai";
import { projectRoot } from "./support/reference.js";

/** Every source file of controller/. */
function sources(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith(".ts")) out.push(path);
    }
  };
  walk(join(projectRoot, "controller"));
  return out.sort();
}

/**
 * Calls that spread an array into their arguments: `a.push(...b)`, `Math.max(...b)`. With
 * about 130,000 elements they throw RangeError (Maximum call stack size exceeded), which
 * `config lint` did on a config with many inputs. Returns the offset of each `...` that is
 * an argument of such a call (not inside an object or array literal among its arguments).
 */
function spreadArguments(text: string): number[] {
  const found: number[] = [];
  for (const m of text.matchAll(/\.(?:push|unshift|max|min|fromCharCode|fromCodePoint)\(/g)) {
    let depth = 0;
    for (let i = m.index + m[0].length; i < text.length; i++) {
      const c = text[i]!;
      if (c === '"' || c === "'" || c === "`") {
        // Skip the string (template expressions cannot hold a spread argument of this call).
        for (i++; i < text.length && text[i] !== c; i++) if (text[i] === "\\") i++;
      } else if (c === "(" || c === "[" || c === "{") depth++;
      else if (c === ")" || c === "]" || c === "}") {
        if (depth === 0) break;
        depth--;
      } else if (depth === 0 && text.startsWith("...", i)) found.push(i);
    }
  }
  return found;
}

describe("controller sources", () => {
  it("never spread an array into a call's arguments (loop instead)", () => {
    const offenders: string[] = [];
    for (const file of sources()) {
      const text = readFileSync(file, "utf8");
      for (const at of spreadArguments(text)) {
        const line = text.slice(0, at).split("\n").length;
        offenders.push(`${relative(projectRoot, file)}:${line}`);
      }
    }
    expect(offenders).to.deep.equal([]);
  });
});
