/**
 * Lint rules for the model as a whole: `max_batch_size`, the model name against its
 * folder, and the platform / backend pair.
 *
 * Each rule is registered by name in `registry.ts`; see `rule.ts` for what a rule sees.
 */
import {
  BACKEND_DEFAULT_PLATFORM,
  ENSEMBLE,
  FILENAME_BACKEND,
  forModel,
  OFFICIAL_BACKENDS,
  PLATFORM_BACKEND,
  TYPED_BACKENDS,
} from "./common.js";
import type { Finding, LintContext } from "./rule.js";

/** core ValidateModelConfig: "'max_batch_size' must be non-negative value for X". */
export function* maxBatchSize(ctx: LintContext): Generator<Finding> {
  const m = ctx.config.max_batch_size ?? 0;
  if (m < 0) {
    yield {
      path: "max_batch_size",
      message: `'max_batch_size' must be non-negative value${forModel(ctx)} (got ${m}); use 0 for a model that does not batch, or the largest batch size it accepts`,
    };
  }
}

/**
 * core ModelRepositoryManager: "unexpected directory name 'D' for model 'N', directory
 * name must equal model name". A missing name is filled from the folder, which is fine.
 */
export function* modelNameDirectory(ctx: LintContext): Generator<Finding> {
  const name = ctx.config.name;
  if (ctx.modelFolder === undefined || !name || name === ctx.modelFolder) return;
  yield {
    path: "name",
    message: `unexpected directory name '${ctx.modelFolder}' for model '${name}', directory name must equal model name; rename the folder or set name: "${ctx.modelFolder}" (or drop name, which defaults to the folder)`,
  };
}

/**
 * core ValidateModelConfig + AutoCompleteBackendFields: a non-ensemble platform must be
 * one Triton knows unless a backend is given ("unexpected platform type 'P' for X"), and a
 * typed backend (tensorrt, tensorflow, onnxruntime, pytorch) must agree with the platform
 * ("unexpected 'platform' and 'backend' pair"). With neither set, Triton decides from the
 * model files, so nothing is checked.
 */
export function* platformBackend(ctx: LintContext): Generator<Finding> {
  const c = ctx.config;
  const platform = c.platform ?? "";
  if (platform === ENSEMBLE || platform === "") return;
  let backend = c.backend ?? "";
  if (backend === "") {
    if (PLATFORM_BACKEND[platform] !== undefined) return;
    const fromFile = c.default_model_filename
      ? FILENAME_BACKEND[c.default_model_filename]
      : undefined;
    if (fromFile === undefined) {
      const known = [...Object.keys(PLATFORM_BACKEND), ENSEMBLE];
      const hint = (OFFICIAL_BACKENDS as readonly string[]).includes(platform)
        ? `; "${platform}" is a backend name: write backend: "${platform}"${BACKEND_DEFAULT_PLATFORM[platform] ? ` or platform: "${BACKEND_DEFAULT_PLATFORM[platform]}"` : ""}`
        : ctx.didYouMean(platform, known);
      yield {
        path: "platform",
        message: `unexpected platform type '${platform}'${forModel(ctx)}: with no backend, platform must be one of ${known.join(", ")}${hint}`,
      };
      return;
    }
    backend = fromFile;
  }
  if (!TYPED_BACKENDS.has(backend) || PLATFORM_BACKEND[platform] === backend) return;
  const fits = Object.entries(PLATFORM_BACKEND)
    .filter(([, b]) => b === backend)
    .map(([p]) => p);
  yield {
    path: c.backend ? "backend" : "platform",
    message: `unexpected 'platform' and 'backend' pair, got:${platform}, ${backend}; backend "${backend}" takes platform ${fits.map((p) => `"${p}"`).join(" or ")} (or no platform)`,
  };
}

/**
 * Not a Triton load error: a backend name one typo away from an official backend makes
 * Triton look for a custom backend library that does not exist.
 */
export function* backendName(ctx: LintContext): Generator<Finding> {
  const backend = ctx.config.backend;
  if (!backend || (OFFICIAL_BACKENDS as readonly string[]).includes(backend)) return;
  const hint = ctx.didYouMean(backend, OFFICIAL_BACKENDS);
  if (hint === "") return;
  yield {
    path: "backend",
    message: `backend "${backend}" is not an official backend, so Triton will look for a custom backend library named libtriton_${backend}.so${hint}`,
  };
}
