import { join, relative } from "node:path";
import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import type { Problem } from "../diagnostics/problem.js";
import { didYouMean } from "../diagnostics/suggest.js";
import { unknownTemplateMessage } from "../policy/rules.js";
import type { FileReader } from "./file-reader.js";

/**
 * Model templates: folders in `repo-templates/` with a `template.yaml` and protobuf
 * text-format configs with `{{placeholders}}`. See repo-templates/README.md.
 */

/** YOLO families, by the layout of their raw detection head. */
export const FAMILIES = ["yolov5", "yolov8", "yolo11"] as const;
export type Family = (typeof FAMILIES)[number];

/** What a template generates. */
export const TEMPLATE_KINDS = ["onnx", "tensorrt_plan", "end2end", "ensemble"] as const;
export type TemplateKind = (typeof TEMPLATE_KINDS)[number];

/** The models a template kind generates, by role; the detector is the one the pool's batching applies to. */
export const ROLES_BY_KIND: Readonly<Record<TemplateKind, readonly TemplateRole[]>> = {
  onnx: ["detector"],
  tensorrt_plan: ["detector"],
  end2end: ["detector"],
  ensemble: ["ensemble", "preprocess", "detector", "postprocess"],
};
export type TemplateRole = "detector" | "ensemble" | "preprocess" | "postprocess";

/** A source file of a template, kept with the path it was read from for error messages. */
export interface TemplateFile {
  readonly file: string;
  readonly text: string;
}

/** A loaded template: its metadata and, per role, the config text and any Python model. */
export interface Template {
  readonly name: string;
  readonly description: string;
  readonly family: Family;
  readonly kind: TemplateKind;
  readonly configs: ReadonlyMap<TemplateRole, TemplateFile>;
  /** `model.py` for Python-backend roles (preprocess, postprocess). */
  readonly pythonModels: ReadonlyMap<TemplateRole, TemplateFile>;
}

/** Names of the templates in `dir` (folders with a template.yaml), sorted. */
export function listTemplates(reader: FileReader, dir: string): string[] {
  return reader
    .list(dir)
    .filter(
      (name) =>
        !name.startsWith("_") &&
        reader.kind(join(dir, name)) === "directory" &&
        reader.kind(join(dir, name, "template.yaml")) === "file",
    );
}

/** Where the shared config of a role lives for a kind, relative to `_base/`. */
function baseConfigPath(kind: TemplateKind, role: TemplateRole): string {
  if (kind === "ensemble")
    return role === "detector" ? "onnx.pbtxt" : join("ensemble", `${role}.pbtxt`);
  return `${kind}.pbtxt`;
}

/**
 * Loads template `name` from `dir`. A template folder may hold its own `config.pbtxt`
 * (or `ensemble/<role>.pbtxt`, `ensemble/<role>.py`) to override the shared one in `_base/`.
 * Returns problems (file:line:col) instead of throwing when the template is malformed.
 */
export function loadTemplate(
  reader: FileReader,
  dir: string,
  name: string,
): { template?: Template; problems: Problem[] } {
  const folder = join(dir, name);
  const metaFile = join(folder, "template.yaml");
  const shown = (f: string) => relative(process.cwd(), f) || f;
  if (reader.kind(metaFile) !== "file") {
    return {
      problems: [
        {
          file: shown(metaFile),
          line: 0,
          col: 0,
          path: "",
          message: unknownTemplateMessage(name, listTemplates(reader, dir), dir),
        },
      ],
    };
  }
  const problems: Problem[] = [];
  const lc = new LineCounter();
  const doc = parseDocument(reader.readText(metaFile), { lineCounter: lc });
  const at = (offset: number | undefined) => lc.linePos(offset ?? 0);
  for (const e of doc.errors) {
    const p = at(e.pos[0]);
    problems.push({
      file: shown(metaFile),
      line: p.line,
      col: p.col,
      path: "",
      message: e.message,
    });
  }
  if (problems.length > 0) return { problems };
  const meta: Record<string, string> = {};
  if (isMap(doc.contents)) {
    for (const item of doc.contents.items) {
      const key = isScalar(item.key) ? String(item.key.value) : "";
      const value = isScalar(item.value) ? item.value.value : undefined;
      const pos = at(isScalar(item.key) ? item.key.range?.[0] : undefined);
      if (!["description", "family", "kind"].includes(key)) {
        problems.push({
          file: shown(metaFile),
          ...pos,
          path: key,
          message: `unknown field${didYouMean(key, ["description", "family", "kind"])}; valid fields: description, family, kind`,
        });
      } else if (typeof value !== "string") {
        problems.push({ file: shown(metaFile), ...pos, path: key, message: "must be a string" });
      } else {
        meta[key] = value;
      }
    }
  } else if (doc.errors.length === 0) {
    problems.push({
      file: shown(metaFile),
      line: 1,
      col: 1,
      path: "",
      message: "must be a mapping with description, family and kind",
    });
  }
  const family = meta.family as Family | undefined;
  const kind = meta.kind as TemplateKind | undefined;
  if (!family || !FAMILIES.includes(family)) {
    problems.push({
      file: shown(metaFile),
      line: 1,
      col: 1,
      path: "family",
      message: `must be one of ${FAMILIES.join(", ")} (got ${JSON.stringify(meta.family ?? null)})`,
    });
  }
  if (!kind || !TEMPLATE_KINDS.includes(kind)) {
    problems.push({
      file: shown(metaFile),
      line: 1,
      col: 1,
      path: "kind",
      message: `must be one of ${TEMPLATE_KINDS.join(", ")} (got ${JSON.stringify(meta.kind ?? null)})`,
    });
  }
  if (problems.length > 0 || !family || !kind) return { problems };

  const configs = new Map<TemplateRole, TemplateFile>();
  const pythonModels = new Map<TemplateRole, TemplateFile>();
  const pick = (own: string, base: string): string | undefined => {
    if (reader.kind(join(folder, own)) === "file") return join(folder, own);
    if (reader.kind(join(dir, "_base", base)) === "file") return join(dir, "_base", base);
    return undefined;
  };
  for (const role of ROLES_BY_KIND[kind]) {
    const own = kind === "ensemble" ? join("ensemble", `${role}.pbtxt`) : "config.pbtxt";
    const file = pick(own, baseConfigPath(kind, role));
    if (!file) {
      problems.push({
        file: shown(folder),
        line: 0,
        col: 0,
        path: role,
        message: `no ${own} in the template and no shared _base/${baseConfigPath(kind, role)}`,
      });
      continue;
    }
    configs.set(role, { file: shown(file), text: reader.readText(file) });
    if (role === "preprocess" || role === "postprocess") {
      const py = pick(join("ensemble", `${role}.py`), join("ensemble", `${role}.py`));
      if (!py) {
        problems.push({
          file: shown(folder),
          line: 0,
          col: 0,
          path: role,
          message: `no ensemble/${role}.py for the Python ${role} model`,
        });
        continue;
      }
      pythonModels.set(role, { file: shown(py), text: reader.readText(py) });
    }
  }
  if (problems.length > 0) return { problems };
  return {
    template: { name, description: meta.description ?? "", family, kind, configs, pythonModels },
    problems,
  };
}
