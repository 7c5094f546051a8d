import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { packageRoot } from "../../../controller/util/package-root.js";
import {
  clone,
  deepMerge,
  isObject,
  type JsonObject,
  jsonEqual,
  recordUpdate,
  serverSideApply,
} from "./apply.js";
import { admitBuiltin } from "./builtin.js";
import {
  apiVersionOf,
  BUILTIN_RESOURCES,
  discoveryDocuments,
  type ResourceType,
} from "./resources.js";
import { parseFieldSelector, parseLabelSelector, SelectorError } from "./selectors.js";
import {
  type Cause,
  type CompiledSchema,
  checkCustomResource,
  compileSchema,
  type FieldValidation,
  microTimeError,
  nameError,
} from "./validate.js";

/** What a fault rule and the request log see of one request. */
export interface RequestInfo {
  readonly method: string;
  /** URL path without the query. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Kubernetes verb: get list watch create update patch delete deletecollection, or discovery. */
  readonly verb: string;
  readonly group?: string;
  readonly version?: string;
  /** Resource plural (`deployments`), when the path names a resource. */
  readonly resource?: string;
  readonly kind?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: string;
  readonly contentType?: string;
  /** The bearer token the request carried (tests give each client its own, to tell them apart). */
  readonly user?: string;
}

/** A logged request and the status it got. */
export interface LoggedRequest extends RequestInfo {
  readonly status: number;
}

/** A fault to inject into the next matching requests. */
export interface FaultRule {
  /** Which requests (default: every request except discovery). */
  readonly match?: (r: RequestInfo) => boolean;
  /** How many matching requests get it (default 1; Infinity for all until removed). */
  readonly times?: number;
  /** Answer with this status (a Status body) instead of serving the request. */
  readonly status?: number;
  /** Status reason (default from the code: InternalError, Conflict, TooManyRequests, Expired...). */
  readonly reason?: string;
  readonly message?: string;
  /** `Retry-After` header (seconds) on the error. */
  readonly retryAfterSeconds?: number;
  /** Wait this long before answering (or before serving the request normally). */
  readonly delayMs?: number;
  /** Drop the connection without an answer (the client sees a socket error). */
  readonly reset?: boolean;
}

/** A fault rule as injected: `remaining` counts down as requests match. */
export interface Fault extends FaultRule {
  remaining: number;
  /** Requests it answered. */
  hits: number;
}

/** Options of {@link startFakeKube}. */
export interface FakeKubeOptions {
  /**
   * CustomResourceDefinitions to serve (their custom resources are checked against the
   * served version's openAPIV3Schema). @default the ModelPool CRD in manifests/crd.yaml
   */
  readonly crds?: readonly unknown[];
  /** Clock for creationTimestamp and managedFields times. @default () => new Date() */
  readonly now?: () => Date;
  /** Watch events kept for resuming watches; older resourceVersions get 410 Gone. @default 10000 */
  readonly historyLimit?: number;
  /** Keep a log of every request in {@link FakeKube.requests}. @default true */
  readonly logRequests?: boolean;
}

interface Stored {
  readonly type: ResourceType;
  obj: JsonObject;
}

interface WatchEvent {
  readonly rv: number;
  readonly type: ResourceType;
  readonly kind: "ADDED" | "MODIFIED" | "DELETED";
  readonly obj: JsonObject;
  readonly old?: JsonObject;
}

interface Watcher {
  readonly type: ResourceType;
  readonly namespace?: string;
  readonly labels: (l: Record<string, string>) => boolean;
  readonly fields: (o: unknown) => boolean;
  readonly res: ServerResponse;
  readonly bookmarks: boolean;
}

/** An API error, answered as a Status object. */
class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: JsonObject,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const REASONS: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  409: "Conflict",
  410: "Expired",
  415: "UnsupportedMediaType",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
  504: "Timeout",
};

function statusBody(code: number, reason: string, message: string, details?: JsonObject) {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

const APPLY = "application/apply-patch+yaml";
const MERGE = "application/merge-patch+json";
const STRATEGIC = "application/strategic-merge-patch+json";
const JSON_PATCH = "application/json-patch+json";

/** The served (storage) version's schema of each CRD, by `group/version/plural`. */
function loadCrds(crds: readonly unknown[]): {
  types: ResourceType[];
  schemas: Map<string, CompiledSchema>;
} {
  const types: ResourceType[] = [];
  const schemas = new Map<string, CompiledSchema>();
  for (const crd of crds) {
    if (!isObject(crd) || !isObject(crd.spec)) continue;
    const spec = crd.spec as JsonObject;
    const names = spec.names as JsonObject;
    for (const v of (spec.versions as JsonObject[]) ?? []) {
      if (v.served !== true) continue;
      const type: ResourceType = {
        group: String(spec.group),
        version: String(v.name),
        kind: String(names.kind),
        plural: String(names.plural),
        singular: String(names.singular ?? String(names.kind).toLowerCase()),
        namespaced: spec.scope === "Namespaced",
        status: isObject(v.subresources) && isObject(v.subresources.status),
        ...(Array.isArray(names.shortNames) ? { shortNames: names.shortNames as string[] } : {}),
      };
      types.push(type);
      const schema = isObject(v.schema) ? v.schema.openAPIV3Schema : undefined;
      if (schema !== undefined) schemas.set(typeKey(type), compileSchema(schema));
    }
  }
  return { types, schemas };
}

function typeKey(t: Pick<ResourceType, "group" | "version" | "plural">): string {
  return `${t.group}/${t.version}/${t.plural}`;
}

/** The CRDs `npm run gen` writes (manifests/crd.yaml). */
export function generatedCrds(): unknown[] {
  const text = readFileSync(join(packageRoot, "manifests", "crd.yaml"), "utf8");
  return parseAllDocuments(text).map((d) => d.toJS());
}

/** A running fake API server; see index.ts for what it models. */
export class FakeKube {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Every request served, in order (when logRequests). */
  readonly requests: LoggedRequest[] = [];
  /** TCP connections accepted so far (a client reusing connections opens few). */
  connections = 0;
  private readonly objects = new Map<string, Stored>();
  private readonly history: WatchEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly faults: Fault[] = [];
  private rv = 0;
  /** Watches from a resourceVersion below this get 410 Gone. */
  private compactedRv = 0;
  private readonly byPath = new Map<string, ResourceType>();
  private readonly byKind = new Map<string, ResourceType>();
  private readonly discovery: Map<string, unknown>;

  constructor(
    private readonly server: Server,
    readonly types: readonly ResourceType[],
    private readonly schemas: Map<string, CompiledSchema>,
    private readonly options: FakeKubeOptions,
  ) {
    const addr = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${addr.port}`;
    for (const t of types) {
      this.byPath.set(typeKey(t), t);
      this.byKind.set(`${apiVersionOf(t)}/${t.kind}`, t);
    }
    this.discovery = discoveryDocuments(types);
  }

  /**
   * A KubeConfig for the real client: this server, skipTLSVerify, a bearer token (`token`:
   * any works; the request log shows it as `user`, so clients can be told apart).
   */
  kubeConfig(namespace = "default", token = "fake-token"): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "fake", server: this.url, skipTLSVerify: true }],
      users: [{ name: "fake", token }],
      contexts: [{ name: "fake", cluster: "fake", user: "fake", namespace }],
      currentContext: "fake",
    });
    return kc;
  }

  /** The kubeconfig file text for the same (for kubectl). */
  kubeConfigYaml(namespace = "default"): string {
    return this.kubeConfig(namespace).exportConfig();
  }

  /** The current resourceVersion (the last write's). */
  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Injects a fault; it applies to the next `times` matching requests. */
  inject(rule: FaultRule): Fault {
    const f: Fault = { ...rule, remaining: rule.times ?? 1, hits: 0 };
    this.faults.push(f);
    return f;
  }

  /** Removes every fault not yet used up. */
  clearFaults(): void {
    this.faults.length = 0;
  }

  /**
   * Ends every open watch stream (of the types `match` accepts): cleanly, as the server
   * does at a watch timeout (a client resumes from its last resourceVersion), or with
   * `abrupt` as a broken connection (the client sees an error). Returns how many.
   */
  dropWatches(match?: (t: ResourceType) => boolean, opts: { abrupt?: boolean } = {}): number {
    let n = 0;
    for (const w of [...this.watchers]) {
      if (match && !match(w.type)) continue;
      this.watchers.delete(w);
      if (opts.abrupt) w.res.destroy();
      else w.res.end();
      n++;
    }
    return n;
  }

  /** Open watch streams (for tests waiting on an informer to connect). */
  get watchCount(): number {
    return this.watchers.size;
  }

  /**
   * Forgets the event history, like an etcd compaction: the resourceVersion advances by
   * one and a watch resuming from any earlier one gets 410 Gone (a fresh list works).
   */
  compact(): void {
    this.history.length = 0;
    this.rv++;
    this.compactedRv = this.rv;
  }

  /** Sends a BOOKMARK with the current resourceVersion to watches that asked for them. */
  bookmark(): void {
    for (const w of this.watchers) {
      if (!w.bookmarks) continue;
      const o = { apiVersion: apiVersionOf(w.type), kind: w.type.kind };
      w.res.write(
        `${JSON.stringify({ type: "BOOKMARK", object: { ...o, metadata: { resourceVersion: String(this.rv) } } })}\n`,
      );
    }
  }

  /** The stored object, or undefined. */
  get(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
  ): JsonObject | undefined {
    const t = this.typeOfKind(apiVersion, kind);
    const s = this.objects.get(this.key(t, namespace, name));
    return s ? clone(s.obj) : undefined;
  }

  /** Every stored object of a kind (all namespaces), sorted by namespace and name. */
  list(apiVersion: string, kind: string, namespace?: string): JsonObject[] {
    const t = this.typeOfKind(apiVersion, kind);
    return this.itemsOf(t, namespace).map((s) => clone(s.obj));
  }

  /** Every stored object, as `apiVersion/kind namespace/name` (sorted), for tests. */
  inventory(): string[] {
    return [...this.objects.values()]
      .map((s) => {
        const m = s.obj.metadata as JsonObject;
        return `${apiVersionOf(s.type)}/${s.type.kind} ${m.namespace ? `${m.namespace}/` : ""}${m.name}`;
      })
      .sort();
  }

  /** Creates or replaces an object directly (no checks, bumps resourceVersion, notifies watches). */
  seed(obj: JsonObject): JsonObject {
    const t = this.typeOfKind(String(obj.apiVersion), String(obj.kind));
    const meta = (obj.metadata ?? {}) as JsonObject;
    const key = this.key(t, meta.namespace as string | undefined, String(meta.name));
    const old = this.objects.get(key)?.obj;
    const next = clone(obj);
    next.metadata = {
      uid: randomUUID(),
      creationTimestamp: this.timestamp(),
      generation: 1,
      ...(old?.metadata as JsonObject),
      ...meta,
    };
    this.write(t, key, next, old);
    return clone(next);
  }

  /** Stops serving: ends watches and closes every connection. */
  async close(): Promise<void> {
    this.dropWatches(undefined, { abrupt: true });
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // ------------------------------------------------------------------------------------

  private typeOfKind(apiVersion: string, kind: string): ResourceType {
    const t = this.byKind.get(`${apiVersion}/${kind}`);
    if (!t) throw new Error(`fake-kube does not serve ${apiVersion} ${kind}`);
    return t;
  }

  private key(t: ResourceType, namespace: string | undefined, name: string): string {
    return `${typeKey(t)}|${t.namespaced ? (namespace ?? "") : ""}|${name}`;
  }

  private itemsOf(t: ResourceType, namespace?: string): Stored[] {
    const prefix = `${typeKey(t)}|${namespace !== undefined && t.namespaced ? `${namespace}|` : ""}`;
    const out: Stored[] = [];
    for (const [k, s] of this.objects) if (k.startsWith(prefix)) out.push(s);
    return out.sort((a, b) => {
      const ma = a.obj.metadata as JsonObject;
      const mb = b.obj.metadata as JsonObject;
      return `${ma.namespace ?? ""}/${ma.name}`.localeCompare(`${mb.namespace ?? ""}/${mb.name}`);
    });
  }

  private timestamp(): string {
    return `${(this.options.now?.() ?? new Date()).toISOString().slice(0, 19)}Z`;
  }

  /** Stores `obj` under a new resourceVersion and tells the watches. */
  private write(t: ResourceType, key: string, obj: JsonObject, old: JsonObject | undefined): void {
    this.rv++;
    (obj.metadata as JsonObject).resourceVersion = String(this.rv);
    this.objects.set(key, { type: t, obj });
    this.emit({
      rv: this.rv,
      type: t,
      kind: old ? "MODIFIED" : "ADDED",
      obj,
      ...(old ? { old } : {}),
    });
  }

  private remove(t: ResourceType, key: string): JsonObject | undefined {
    const s = this.objects.get(key);
    if (!s) return undefined;
    this.objects.delete(key);
    this.rv++;
    const obj = clone(s.obj);
    (obj.metadata as JsonObject).resourceVersion = String(this.rv);
    this.emit({ rv: this.rv, type: t, kind: "DELETED", obj });
    // Garbage collection: dependents whose owner is gone (background propagation, at once).
    const uid = (obj.metadata as JsonObject).uid;
    for (const [k, dep] of [...this.objects]) {
      const refs = (dep.obj.metadata as JsonObject).ownerReferences;
      if (Array.isArray(refs) && refs.some((r) => isObject(r) && r.uid === uid)) {
        this.remove(dep.type, k);
      }
    }
    return obj;
  }

  private emit(e: WatchEvent): void {
    this.history.push(e);
    const limit = this.options.historyLimit ?? 10_000;
    if (this.history.length > limit) {
      const dropped = this.history.splice(0, this.history.length - limit);
      this.compactedRv = dropped[dropped.length - 1]!.rv;
    }
    for (const w of this.watchers) this.deliver(w, e);
  }

  private deliver(w: Watcher, e: WatchEvent): void {
    if (typeKey(w.type) !== typeKey(e.type)) return;
    const ns = (e.obj.metadata as JsonObject).namespace;
    if (w.namespace !== undefined && w.type.namespaced && ns !== w.namespace) return;
    const matches = (o: JsonObject | undefined) =>
      o !== undefined &&
      w.labels(((o.metadata as JsonObject).labels ?? {}) as Record<string, string>) &&
      w.fields(o);
    const now = matches(e.obj);
    let kind: string = e.kind;
    if (e.kind === "MODIFIED" && e.old) {
      const before = matches(e.old);
      if (!before && !now) return;
      if (before && !now) {
        kind = "DELETED";
      } else if (!before) kind = "ADDED";
    } else if (!now) return;
    w.res.write(`${JSON.stringify({ type: kind, object: e.obj })}\n`);
  }

  // ------------------------------------------------------------------------------------

  /** Serves one request. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const body = await readBody(req);
    let info: RequestInfo = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: url.searchParams,
      verb: "discovery",
      ...(req.headers["content-type"] ? { contentType: req.headers["content-type"] } : {}),
      ...(/^Bearer /i.test(req.headers.authorization ?? "")
        ? { user: req.headers.authorization!.slice(7) }
        : {}),
    };
    let status = 200;
    const send = (code: number, payload: unknown, headers: Record<string, string> = {}) => {
      status = code;
      res.writeHead(code, { "Content-Type": "application/json", ...headers });
      res.end(JSON.stringify(payload));
    };
    try {
      const route = this.route(url.pathname);
      if (route)
        info = { ...info, ...route.info, verb: verbOf(info.method, route, url.searchParams) };
      const fault = this.faultFor(info);
      if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      if (fault?.reset) {
        fault.hits++;
        status = 0;
        req.socket.destroy();
        return;
      }
      if (fault?.status !== undefined) {
        fault.hits++;
        const code = fault.status;
        const reason = fault.reason ?? REASONS[code] ?? "Unknown";
        const message = fault.message ?? `injected fault: ${code} ${reason}`;
        const headers: Record<string, string> = fault.retryAfterSeconds
          ? { "Retry-After": String(fault.retryAfterSeconds) }
          : {};
        if (info.verb === "watch" && code === 410) {
          status = 200;
          res.writeHead(200, { "Content-Type": "application/json" });
          res.end(
            `${JSON.stringify({ type: "ERROR", object: statusBody(410, "Expired", message) })}\n`,
          );
        } else {
          send(code, statusBody(code, reason, message), headers);
        }
        return;
      }
      if (!route) {
        const doc = this.discovery.get(url.pathname.replace(/\/$/, ""));
        if (doc !== undefined && info.method === "GET") send(200, doc);
        else
          throw new StatusError(
            404,
            "NotFound",
            `the server could not find the requested resource (${info.method} ${url.pathname})`,
          );
        return;
      }
      if (info.verb === "watch") {
        this.watch(route.type, route.info.namespace, url.searchParams, res);
        return;
      }
      const out = this.serve(route.type, info, body, req);
      send(out.code, out.body, out.headers);
    } catch (err) {
      if (err instanceof StatusError) {
        send(err.code, statusBody(err.code, err.reason, err.message, err.details), err.headers);
      } else {
        send(500, statusBody(500, "InternalError", `fake-kube: ${(err as Error).stack ?? err}`));
      }
    } finally {
      if (this.options.logRequests !== false) this.requests.push({ ...info, status });
    }
  }

  private faultFor(info: RequestInfo): Fault | undefined {
    for (const f of this.faults) {
      if (f.remaining <= 0) continue;
      const match = f.match ? f.match(info) : info.verb !== "discovery";
      if (!match) continue;
      f.remaining--;
      return f;
    }
    return undefined;
  }

  private route(
    path: string,
  ): { type: ResourceType; info: Partial<RequestInfo>; collection: boolean } | undefined {
    const segs = path.split("/").filter((s) => s !== "");
    let group: string;
    let version: string;
    let rest: string[];
    if (segs[0] === "api" && segs.length >= 3) {
      group = "";
      version = segs[1]!;
      rest = segs.slice(2);
    } else if (segs[0] === "apis" && segs.length >= 4) {
      group = segs[1]!;
      version = segs[2]!;
      rest = segs.slice(3);
    } else return undefined;
    let namespace: string | undefined;
    if (rest[0] === "namespaces" && rest.length >= 3) {
      const t = this.byPath.get(`${group}/${version}/${rest[2]}`);
      if (t?.namespaced) {
        namespace = rest[1];
        rest = rest.slice(2);
      }
    }
    const type = this.byPath.get(`${group}/${version}/${rest[0]}`);
    if (!type || rest.length > 3) return undefined;
    const name = rest[1];
    const subresource = rest[2];
    if (subresource !== undefined && !(subresource === "status" && type.status)) return undefined;
    return {
      type,
      collection: name === undefined,
      info: {
        group,
        version,
        resource: type.plural,
        kind: type.kind,
        ...(namespace !== undefined ? { namespace } : {}),
        ...(name !== undefined ? { name } : {}),
        ...(subresource !== undefined ? { subresource } : {}),
      },
    };
  }

  private selectors(q: URLSearchParams) {
    try {
      return {
        labels: parseLabelSelector(q.get("labelSelector") ?? ""),
        fields: parseFieldSelector(q.get("fieldSelector") ?? ""),
      };
    } catch (e) {
      if (e instanceof SelectorError) throw new StatusError(400, "BadRequest", e.message);
      throw e;
    }
  }

  private watch(
    t: ResourceType,
    namespace: string | undefined,
    q: URLSearchParams,
    res: ServerResponse,
  ): void {
    const { labels, fields } = this.selectors(q);
    const from = q.get("resourceVersion") ?? "";
    res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
    res.flushHeaders();
    const w: Watcher = {
      type: t,
      ...(namespace !== undefined ? { namespace } : {}),
      labels,
      fields,
      res,
      bookmarks: q.get("allowWatchBookmarks") === "true",
    };
    if (from === "" || from === "0") {
      for (const s of this.itemsOf(t, namespace)) {
        this.deliver(w, { rv: this.rv, type: t, kind: "ADDED", obj: s.obj });
      }
    } else {
      const n = Number(from);
      if (!Number.isInteger(n) || n < this.compactedRv) {
        res.end(
          `${JSON.stringify({ type: "ERROR", object: statusBody(410, "Expired", `too old resource version: ${from} (${this.compactedRv})`) })}\n`,
        );
        return;
      }
      for (const e of this.history) if (e.rv > n) this.deliver(w, e);
    }
    this.watchers.add(w);
    res.on("close", () => this.watchers.delete(w));
    const timeout = Number(q.get("timeoutSeconds") ?? "0");
    if (timeout > 0) {
      setTimeout(() => {
        this.watchers.delete(w);
        res.end();
      }, timeout * 1000).unref();
    }
  }

  private serve(
    t: ResourceType,
    info: RequestInfo,
    raw: string,
    req: IncomingMessage,
  ): { code: number; body: unknown; headers?: Record<string, string> } {
    const q = info.query;
    const ns = t.namespaced ? info.namespace : undefined;
    const dryRun = q.get("dryRun") === "All";
    switch (info.verb) {
      case "list": {
        const { labels, fields } = this.selectors(q);
        const items = this.itemsOf(t, ns)
          .map((s) => s.obj)
          .filter(
            (o) =>
              labels(((o.metadata as JsonObject).labels ?? {}) as Record<string, string>) &&
              fields(o),
          );
        return {
          code: 200,
          body: {
            apiVersion: apiVersionOf(t),
            kind: `${t.kind}List`,
            metadata: { resourceVersion: String(this.rv) },
            items,
          },
        };
      }
      case "get": {
        const s = this.mustGet(t, ns, info.name!);
        return { code: 200, body: s.obj };
      }
      case "delete": {
        this.mustGet(t, ns, info.name!);
        const obj = dryRun
          ? this.objects.get(this.key(t, ns, info.name!))!.obj
          : this.remove(t, this.key(t, ns, info.name!))!;
        return { code: 200, body: obj };
      }
      case "deletecollection": {
        const { labels, fields } = this.selectors(q);
        for (const s of this.itemsOf(t, ns)) {
          const m = s.obj.metadata as JsonObject;
          if (labels((m.labels ?? {}) as Record<string, string>) && fields(s.obj) && !dryRun) {
            this.remove(t, this.key(t, ns, String(m.name)));
          }
        }
        return {
          code: 200,
          body: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success" },
        };
      }
      case "create":
        return this.create(t, ns, this.decode(t, raw, info.contentType), q, req, dryRun);
      case "update":
        return this.update(t, ns, info, this.decode(t, raw, info.contentType), q, req, dryRun);
      case "patch":
        return this.patch(t, ns, info, raw, q, req, dryRun);
    }
    throw new StatusError(
      405,
      "MethodNotAllowed",
      `the server does not allow this method on the requested resource (${info.method})`,
    );
  }

  private mustGet(t: ResourceType, ns: string | undefined, name: string): Stored {
    const s = this.objects.get(this.key(t, ns, name));
    if (!s) {
      throw new StatusError(
        404,
        "NotFound",
        `${t.plural}${t.group ? `.${t.group}` : ""} "${name}" not found`,
        {
          name,
          ...(t.group ? { group: t.group } : {}),
          kind: t.plural,
        },
      );
    }
    return s;
  }

  /** A POST/PUT body: JSON or YAML, or 415. */
  private decode(t: ResourceType, raw: string, contentType: string | undefined): JsonObject {
    const ct = (contentType ?? "application/json").split(";")[0]!.trim();
    let v: unknown;
    try {
      if (ct === "application/json") v = JSON.parse(raw);
      else if (ct === "application/yaml") v = parseYaml(raw);
      else
        throw new StatusError(
          415,
          "UnsupportedMediaType",
          `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`,
        );
    } catch (e) {
      if (e instanceof StatusError) throw e;
      throw new StatusError(
        400,
        "BadRequest",
        `the body of the request could not be decoded as ${t.kind}: ${(e as Error).message}`,
      );
    }
    if (!isObject(v))
      throw new StatusError(
        400,
        "BadRequest",
        `the body of the request must be an object (a ${t.kind})`,
      );
    const mt = microTimeError(t.kind, v);
    if (mt !== undefined) throw new StatusError(400, "BadRequest", mt);
    return v;
  }

  private checkIdentity(t: ResourceType, ns: string | undefined, obj: JsonObject): void {
    if (obj.apiVersion !== apiVersionOf(t) || obj.kind !== t.kind) {
      throw new StatusError(
        400,
        "BadRequest",
        `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersionOf(t)}), or the kind (${String(obj.kind)}) is not ${t.kind}`,
      );
    }
    const meta = isObject(obj.metadata) ? obj.metadata : {};
    if (t.namespaced && meta.namespace !== undefined && meta.namespace !== ns) {
      throw new StatusError(
        400,
        "BadRequest",
        "the namespace of the provided object does not match the namespace sent on the request",
      );
    }
  }

  private manager(q: URLSearchParams, req: IncomingMessage): string {
    const m = q.get("fieldManager");
    if (m) return m;
    const ua = req.headers["user-agent"] ?? "unknown";
    return ua.split("/")[0]!.slice(0, 128);
  }

  /** Custom-resource schema, generation and object checks before a write. 422 on failure. */
  private admit(
    t: ResourceType,
    obj: JsonObject,
    q: URLSearchParams,
    old: JsonObject | undefined,
  ): Record<string, string> {
    const name = (obj.metadata as JsonObject).name;
    const nameErr = nameError(name);
    const causes: Cause[] = [];
    if (nameErr)
      causes.push({ reason: "FieldValueInvalid", field: "metadata.name", message: nameErr });
    causes.push(...admitBuiltin(t.group, t.kind, obj, old));
    const schema = this.schemas.get(typeKey(t));
    const headers: Record<string, string> = {};
    if (schema && causes.length === 0) {
      const mode = (q.get("fieldValidation") ?? "Warn") as FieldValidation;
      const meta = obj.metadata;
      const check = checkCustomResource(schema, obj, mode);
      obj.metadata = meta;
      causes.push(...check.causes);
      if (check.unknown.length > 0 && mode === "Warn") {
        headers.Warning = check.unknown.map((f) => `299 - "unknown field \\"${f}\\""`).join(", ");
      }
    }
    if (causes.length > 0) {
      const group = t.group ? `.${t.group}` : "";
      throw new StatusError(
        422,
        "Invalid",
        `${t.kind}${group} "${String(name)}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(", ")}`,
        {
          name: String(name),
          ...(t.group ? { group: t.group } : {}),
          kind: t.kind,
          causes: [...causes],
        },
      );
    }
    return headers;
  }

  /** Generation: +1 when anything but metadata and status changed. */
  private nextGeneration(old: JsonObject, next: JsonObject): number {
    const strip = (o: JsonObject) => {
      const { metadata: _m, status: _s, ...rest } = o;
      return rest;
    };
    const g = Number((old.metadata as JsonObject).generation ?? 1);
    return jsonEqual(strip(old), strip(next)) ? g : g + 1;
  }

  private create(
    t: ResourceType,
    ns: string | undefined,
    obj: JsonObject,
    q: URLSearchParams,
    req: IncomingMessage,
    dryRun: boolean,
  ) {
    this.checkIdentity(t, ns, obj);
    const meta: JsonObject = { ...(isObject(obj.metadata) ? obj.metadata : {}) };
    if (!meta.name && typeof meta.generateName === "string") {
      meta.name = `${meta.generateName}${randomUUID().slice(0, 5)}`;
    }
    const key = this.key(t, ns, String(meta.name));
    if (this.objects.has(key)) {
      throw new StatusError(
        409,
        "AlreadyExists",
        `${t.plural}${t.group ? `.${t.group}` : ""} "${String(meta.name)}" already exists`,
        {
          name: String(meta.name),
          kind: t.plural,
        },
      );
    }
    const next: JsonObject = { ...obj };
    if (t.status) delete next.status;
    next.metadata = {
      ...meta,
      ...(t.namespaced ? { namespace: ns } : {}),
      uid: randomUUID(),
      creationTimestamp: this.timestamp(),
      generation: 1,
    };
    delete (next.metadata as JsonObject).resourceVersion;
    delete (next.metadata as JsonObject).managedFields;
    const headers = this.admit(t, next, q, undefined);
    recordUpdate(undefined, next, {
      manager: this.manager(q, req),
      apiVersion: apiVersionOf(t),
      now: this.timestamp(),
      part: "all",
    });
    if (!dryRun) this.write(t, key, next, undefined);
    return { code: 201, body: next, headers };
  }

  private update(
    t: ResourceType,
    ns: string | undefined,
    info: RequestInfo,
    obj: JsonObject,
    q: URLSearchParams,
    req: IncomingMessage,
    dryRun: boolean,
  ) {
    this.checkIdentity(t, ns, obj);
    const meta = isObject(obj.metadata) ? obj.metadata : {};
    if (meta.name !== info.name) {
      throw new StatusError(
        400,
        "BadRequest",
        `the name of the object (${String(meta.name)}) does not match the name on the URL (${info.name})`,
      );
    }
    const cur = this.mustGet(t, ns, info.name!);
    const curMeta = cur.obj.metadata as JsonObject;
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== curMeta.resourceVersion) {
      throw this.conflict(t, info.name!);
    }
    return this.commit(t, ns, info, cur.obj, obj, q, req, dryRun, (next) => {
      recordUpdate(cur.obj, next, {
        manager: this.manager(q, req),
        apiVersion: apiVersionOf(t),
        now: this.timestamp(),
        part: info.subresource === "status" ? "status" : "main",
      });
    });
  }

  private conflict(t: ResourceType, name: string): StatusError {
    return new StatusError(
      409,
      "Conflict",
      `Operation cannot be fulfilled on ${t.plural}${t.group ? `.${t.group}` : ""} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      { name, ...(t.group ? { group: t.group } : {}), kind: t.plural },
    );
  }

  /**
   * The object after a write of `incoming` over `current`: the main resource keeps the
   * stored status (when there is a status subresource), /status keeps everything but
   * status; server metadata is kept; generation bumps on a spec change. Stored unless the
   * result equals what is stored (a no-op write keeps its resourceVersion).
   */
  private commit(
    t: ResourceType,
    ns: string | undefined,
    info: RequestInfo,
    current: JsonObject,
    incoming: JsonObject,
    q: URLSearchParams,
    _req: IncomingMessage,
    dryRun: boolean,
    own: (next: JsonObject) => void,
  ) {
    const curMeta = current.metadata as JsonObject;
    let next: JsonObject;
    if (info.subresource === "status") {
      next = { ...clone(current), status: clone(incoming.status) };
      if (incoming.status === undefined) delete next.status;
    } else {
      next = clone(incoming);
      if (t.status) {
        if (current.status === undefined) delete next.status;
        else next.status = clone(current.status);
      }
      const m = isObject(next.metadata) ? next.metadata : {};
      next.metadata = {
        ...m,
        name: curMeta.name,
        ...(t.namespaced ? { namespace: ns } : {}),
        uid: curMeta.uid,
        creationTimestamp: curMeta.creationTimestamp,
        managedFields: curMeta.managedFields,
      };
    }
    (next.metadata as JsonObject).resourceVersion = curMeta.resourceVersion;
    (next.metadata as JsonObject).generation = (current.metadata as JsonObject).generation;
    const headers = this.admit(t, next, q, current);
    // After admission: defaults filled in must not count as a change. A write to /status
    // never bumps it (a seeded object without its defaults must not look changed).
    if (info.subresource !== "status") {
      (next.metadata as JsonObject).generation = this.nextGeneration(current, next);
    }
    own(next);
    const key = this.key(t, ns, info.name!);
    if (jsonEqual(next, current) || dryRun)
      return { code: 200, body: dryRun ? next : current, headers };
    this.write(t, key, next, current);
    return { code: 200, body: next, headers };
  }

  private patch(
    t: ResourceType,
    ns: string | undefined,
    info: RequestInfo,
    raw: string,
    q: URLSearchParams,
    req: IncomingMessage,
    dryRun: boolean,
  ) {
    const ct = (info.contentType ?? "").split(";")[0]!.trim();
    const custom = this.schemas.has(typeKey(t)) || !BUILTIN_GROUPS.has(t.group);
    const accepted = custom ? [JSON_PATCH, MERGE, APPLY] : [JSON_PATCH, MERGE, STRATEGIC, APPLY];
    if (!accepted.includes(ct)) {
      throw new StatusError(
        415,
        "UnsupportedMediaType",
        `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}`,
      );
    }
    const force = q.get("force");
    if (ct !== APPLY && force !== null) {
      throw new StatusError(
        422,
        "Invalid",
        `PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch`,
      );
    }
    if (ct === APPLY) return this.apply(t, ns, info, raw, q, dryRun);
    const cur = this.mustGet(t, ns, info.name!);
    let patch: unknown;
    try {
      patch = JSON.parse(raw);
    } catch (e) {
      throw new StatusError(400, "BadRequest", `error decoding patch: ${(e as Error).message}`);
    }
    let patched: JsonObject;
    if (ct === JSON_PATCH) {
      if (!Array.isArray(patch)) {
        throw new StatusError(
          400,
          "BadRequest",
          `the server rejected our request due to an error in our request: json: cannot unmarshal object into Go value of type jsonpatch.Patch`,
        );
      }
      patched = applyJsonPatch(cur.obj, patch);
    } else {
      if (!isObject(patch))
        throw new StatusError(400, "BadRequest", "a merge patch must be a JSON object");
      patched = mergePatch(cur.obj, patch) as JsonObject;
    }
    const mt = microTimeError(t.kind, patched);
    if (mt !== undefined) throw new StatusError(400, "BadRequest", mt);
    const pm = isObject(patched.metadata) ? patched.metadata : {};
    const curMeta = cur.obj.metadata as JsonObject;
    if (pm.resourceVersion !== curMeta.resourceVersion) throw this.conflict(t, info.name!);
    return this.commit(t, ns, info, cur.obj, patched, q, req, dryRun, (next) => {
      recordUpdate(cur.obj, next, {
        manager: this.manager(q, req),
        apiVersion: apiVersionOf(t),
        now: this.timestamp(),
        part: info.subresource === "status" ? "status" : "main",
      });
    });
  }

  private apply(
    t: ResourceType,
    ns: string | undefined,
    info: RequestInfo,
    raw: string,
    q: URLSearchParams,
    dryRun: boolean,
  ) {
    const manager = q.get("fieldManager");
    if (!manager) {
      throw new StatusError(
        422,
        "Invalid",
        `PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch`,
      );
    }
    let applied: unknown;
    try {
      // JSON is YAML; JSON.parse is the fast path for clients that send JSON (client-node).
      applied = raw.trimStart().startsWith("{") ? JSON.parse(raw) : parseYaml(raw);
    } catch (e) {
      throw new StatusError(400, "BadRequest", `error decoding YAML: ${(e as Error).message}`);
    }
    if (!isObject(applied))
      throw new StatusError(400, "BadRequest", "an apply patch must be an object");
    const mt = microTimeError(t.kind, applied);
    if (mt !== undefined) throw new StatusError(400, "BadRequest", mt);
    this.checkIdentity(t, ns, applied);
    const meta = isObject(applied.metadata) ? applied.metadata : {};
    if (meta.name !== info.name) {
      throw new StatusError(
        400,
        "BadRequest",
        `the name of the object (${String(meta.name)}) does not match the name on the URL (${info.name})`,
      );
    }
    const key = this.key(t, ns, info.name!);
    const cur = this.objects.get(key)?.obj;
    if (
      meta.resourceVersion !== undefined &&
      meta.resourceVersion !== (cur?.metadata as JsonObject | undefined)?.resourceVersion
    ) {
      throw this.conflict(t, info.name!);
    }
    const part = info.subresource === "status" ? "status" : "main";
    if (!cur && part === "status") this.mustGet(t, ns, info.name!);
    const outcome = serverSideApply(cur, applied, {
      manager,
      force: q.get("force") === "true",
      apiVersion: apiVersionOf(t),
      now: this.timestamp(),
      part: t.status ? part : "main",
    });
    if (!t.status && part === "main" && isObject(applied.status)) {
      outcome.object.status = deepMerge(
        (outcome.object.status as JsonObject) ?? {},
        applied.status,
      );
    }
    if (outcome.conflicts.length > 0) {
      const list = outcome.conflicts.map((c) => `conflict with "${c.manager}": ${c.path}`);
      throw new StatusError(
        409,
        "Conflict",
        `Apply failed with ${list.length} conflict${list.length > 1 ? "s" : ""}: ${list.join("\n")}`,
        {
          name: info.name!,
          ...(t.group ? { group: t.group } : {}),
          kind: t.plural,
          causes: outcome.conflicts.map((c) => ({
            reason: "FieldManagerConflict",
            message: `conflict with "${c.manager}"`,
            field: c.path,
          })),
        },
      );
    }
    const next = outcome.object;
    if (!cur) {
      next.metadata = {
        ...(next.metadata as JsonObject),
        name: info.name,
        ...(t.namespaced ? { namespace: ns } : {}),
        uid: randomUUID(),
        creationTimestamp: this.timestamp(),
        generation: 1,
      };
      if (t.status) delete next.status;
      next.apiVersion = apiVersionOf(t);
      next.kind = t.kind;
      const headers = this.admit(t, next, q, undefined);
      if (!dryRun) this.write(t, key, next, undefined);
      return { code: 201, body: next, headers };
    }
    next.apiVersion = apiVersionOf(t);
    next.kind = t.kind;
    const headers = this.admit(t, next, q, cur);
    // After admission: defaults filled in must not count as a change.
    (next.metadata as JsonObject).generation = this.nextGeneration(cur, next);
    if (jsonEqual(next, cur) || dryRun) return { code: 200, body: dryRun ? next : cur, headers };
    this.write(t, key, next, cur);
    return { code: 200, body: next, headers };
  }
}

/** Groups whose types are built into the API server (strategic merge patch allowed). */
const BUILTIN_GROUPS = new Set([
  "",
  "apps",
  "policy",
  "autoscaling",
  "coordination.k8s.io",
  "discovery.k8s.io",
  "events.k8s.io",
  "apiextensions.k8s.io",
]);

function verbOf(
  method: string,
  route: { collection: boolean; info: Partial<RequestInfo> },
  q: URLSearchParams,
): string {
  const watch = q.get("watch");
  switch (method) {
    case "GET":
      if (route.collection) return watch === "true" || watch === "1" ? "watch" : "list";
      return "get";
    case "POST":
      return route.collection ? "create" : "unknown";
    case "PUT":
      return route.collection ? "unknown" : "update";
    case "PATCH":
      return route.collection ? "unknown" : "patch";
    case "DELETE":
      return route.collection ? "deletecollection" : "delete";
    default:
      return "unknown";
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** RFC 6902 JSON patch (add, remove, replace, test, copy, move). 422 when an op fails. */
export function applyJsonPatch(doc: JsonObject, ops: unknown[]): JsonObject {
  const root: { v: unknown } = { v: clone(doc) };
  const parse = (p: string) =>
    p === ""
      ? []
      : p
          .split("/")
          .slice(1)
          .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  const fail = (msg: string) =>
    new StatusError(422, "Invalid", `the server rejected the JSON patch: ${msg}`);
  const parentOf = (path: string[]): [Record<string, unknown> | unknown[], string] => {
    let cur: unknown = root.v;
    for (const seg of path.slice(0, -1)) {
      if (Array.isArray(cur)) cur = cur[Number(seg)];
      else if (isObject(cur)) cur = cur[seg];
      else throw fail(`path /${path.join("/")} does not exist`);
    }
    if (!Array.isArray(cur) && !isObject(cur)) throw fail(`path /${path.join("/")} does not exist`);
    return [cur, path[path.length - 1]!];
  };
  const getAt = (path: string[]) => {
    let cur: unknown = root.v;
    for (const seg of path) {
      if (Array.isArray(cur)) cur = cur[Number(seg)];
      else if (isObject(cur)) cur = cur[seg];
      else return undefined;
    }
    return cur;
  };
  const put = (path: string[], value: unknown, insert: boolean) => {
    if (path.length === 0) {
      root.v = value;
      return;
    }
    const [parent, last] = parentOf(path);
    if (Array.isArray(parent)) {
      const i = last === "-" ? parent.length : Number(last);
      if (insert) parent.splice(i, 0, value);
      else parent[i] = value;
    } else parent[last] = value;
  };
  const del = (path: string[]) => {
    const [parent, last] = parentOf(path);
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else if (last in parent) delete parent[last];
    else throw fail(`path /${path.join("/")} does not exist`);
  };
  for (const op of ops) {
    if (!isObject(op)) throw fail("an operation must be an object");
    const path = parse(String(op.path));
    switch (op.op) {
      case "add":
        put(path, clone(op.value), true);
        break;
      case "replace":
        if (getAt(path) === undefined) throw fail(`path ${String(op.path)} does not exist`);
        put(path, clone(op.value), false);
        break;
      case "remove":
        del(path);
        break;
      case "test":
        if (!jsonEqual(getAt(path), op.value)) throw fail(`test failed at ${String(op.path)}`);
        break;
      case "copy":
        put(path, clone(getAt(parse(String(op.from)))), true);
        break;
      case "move": {
        const from = parse(String(op.from));
        const v = getAt(from);
        del(from);
        put(path, v, true);
        break;
      }
      default:
        throw fail(`unknown op ${JSON.stringify(op.op)}`);
    }
  }
  if (!isObject(root.v)) throw fail("the patched document is not an object");
  return root.v;
}

/** Starts a fake API server on 127.0.0.1 (a free port). */
export async function startFakeKube(options: FakeKubeOptions = {}): Promise<FakeKube> {
  const { types: crdTypes, schemas } = loadCrds(options.crds ?? generatedCrds());
  const types = [...BUILTIN_RESOURCES, ...crdTypes];
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const fake = new FakeKube(server, types, schemas, options);
  server.on("connection", () => {
    fake.connections++;
  });
  server.on("request", (req, res) => {
    void fake.handle(req, res);
  });
  return fake;
}
