import * as grpc from "@grpc/grpc-js";
import type { Problem } from "../diagnostics/problem.js";
import type { Clock } from "../loop/ports.js";
import { fileProblem, type InputReader } from "../util/input.js";

/** PEM contents for the external scaler's TLS. */
export interface KedaTls {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** CA that client certificates must chain to: mutual TLS (a client without one is refused). */
  readonly clientCa?: Buffer;
}

/** Paths as the `controller` command takes them (`--tls-cert`, `--tls-key`, `--client-ca`). */
export interface KedaTlsFiles {
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly clientCa?: string;
}

/** The TLS material (undefined: plaintext), or every problem with the flags and files. */
export type KedaTlsResult =
  | { readonly ok: true; readonly tls: KedaTls | undefined }
  | { readonly ok: false; readonly problems: readonly Problem[] };

/** A problem with a flag's combination: no file, the flag as the path. */
function flagProblem(flag: string, message: string): Problem {
  return { file: "", line: 0, col: 0, path: flag, message };
}

/**
 * Reads the PEM files named by `--tls-cert/--tls-key/--client-ca` through the one input
 * reader. Certificate and key go together; a client CA (mutual TLS) needs both. A file
 * that holds no PEM block is refused here, before gRPC would fail on it at start-up.
 */
export async function readKedaTls(
  files: KedaTlsFiles,
  reader: InputReader,
): Promise<KedaTlsResult> {
  const { tlsCert, tlsKey, clientCa } = files;
  if (tlsCert === undefined && tlsKey === undefined) {
    if (clientCa === undefined) return { ok: true, tls: undefined };
    return {
      ok: false,
      problems: [
        flagProblem("--client-ca", "needs --tls-cert and --tls-key (mutual TLS is TLS first)"),
      ],
    };
  }
  if (tlsCert === undefined || tlsKey === undefined) {
    const [has, lacks] =
      tlsCert === undefined ? ["--tls-key", "--tls-cert"] : ["--tls-cert", "--tls-key"];
    return { ok: false, problems: [flagProblem(has, `needs ${lacks} too (they go together)`)] };
  }
  const read = async (path: string, what: string): Promise<Buffer | Problem[]> => {
    const r = await reader.readText(path);
    if (!r.ok) return [...r.problems];
    if (!r.input.text.includes("-----BEGIN ")) {
      return [fileProblem(r.input.file, `not PEM: expected ${what} ("-----BEGIN ...")`)];
    }
    return Buffer.from(r.input.text, "utf8");
  };
  const [cert, key, ca] = await Promise.all([
    read(tlsCert, "a certificate chain"),
    read(tlsKey, "a private key"),
    clientCa === undefined ? undefined : read(clientCa, "CA certificates"),
  ]);
  // In flag order, whichever read finished first.
  const problems = [cert, key, ca].flatMap((x) => (Array.isArray(x) ? x : []));
  if (!Buffer.isBuffer(cert) || !Buffer.isBuffer(key) || Array.isArray(ca)) {
    return { ok: false, problems };
  }
  return { ok: true, tls: ca === undefined ? { cert, key } : { cert, key, clientCa: ca } };
}

/**
 * Server credentials whose certificates can be replaced while serving (cert-manager renews
 * a serving certificate long before it expires; the controller re-reads the files and calls
 * {@link KedaCredentials.update}). New handshakes use the new certificates; open
 * connections keep theirs.
 */
export interface KedaCredentials {
  readonly credentials: grpc.ServerCredentials;
  /** Replaces the certificate, key and client CA. Mutual TLS cannot be turned on or off. */
  update(tls: KedaTls): void;
}

/**
 * A certificate provider held in memory: grpc-js's CertificateProvider interface, told new
 * PEM contents by {@link KedaCredentials.update}.
 */
class MemoryCertificates implements grpc.experimental.CertificateProvider {
  #identity: grpc.experimental.IdentityCertificateUpdate;
  #ca: grpc.experimental.CaCertificateUpdate | null;
  readonly #identityListeners = new Set<grpc.experimental.IdentityCertificateUpdateListener>();
  readonly #caListeners = new Set<grpc.experimental.CaCertificateUpdateListener>();

  constructor(tls: KedaTls) {
    this.#identity = { certificate: tls.cert, privateKey: tls.key };
    this.#ca = tls.clientCa === undefined ? null : { caCertificate: tls.clientCa };
  }

  set(tls: KedaTls): void {
    this.#identity = { certificate: tls.cert, privateKey: tls.key };
    this.#ca = tls.clientCa === undefined ? null : { caCertificate: tls.clientCa };
    for (const l of this.#identityListeners) l(this.#identity);
    for (const l of this.#caListeners) l(this.#ca);
  }

  addCaCertificateListener(l: grpc.experimental.CaCertificateUpdateListener): void {
    this.#caListeners.add(l);
    // Later, as grpc-js's own providers do: the server registers its watcher after this.
    process.nextTick(() => this.#caListeners.has(l) && l(this.#ca));
  }
  removeCaCertificateListener(l: grpc.experimental.CaCertificateUpdateListener): void {
    this.#caListeners.delete(l);
  }
  addIdentityCertificateListener(l: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.#identityListeners.add(l);
    process.nextTick(() => this.#identityListeners.has(l) && l(this.#identity));
  }
  removeIdentityCertificateListener(l: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.#identityListeners.delete(l);
  }
}

/** TLS, or mutual TLS with a client CA (a client without a certificate from it is refused). */
export function createKedaCredentials(tls: KedaTls): KedaCredentials {
  const mutual = tls.clientCa !== undefined;
  const certs = new MemoryCertificates(tls);
  // grpc-js 1.14 hands its first argument to the credentials as the identity provider and
  // its second as the CA provider (the declared names say the opposite); one provider for
  // both under mutual TLS, and the TLS test (test/integration/keda.test.ts) pins the rest.
  const credentials = grpc.experimental.createCertificateProviderServerCredentials(
    certs,
    mutual ? certs : null,
    mutual,
  );
  return {
    credentials,
    update: (next) => {
      if ((next.clientCa !== undefined) !== mutual) {
        throw new Error(
          `cannot turn mutual TLS ${mutual ? "off" : "on"} while serving: restart with${mutual ? "out" : ""} --client-ca`,
        );
      }
      certs.set(next);
    },
  };
}

/** Whether two sets of TLS material are the same bytes. */
function sameTls(a: KedaTls, b: KedaTls): boolean {
  const ca = (t: KedaTls) => t.clientCa ?? Buffer.alloc(0);
  return a.cert.equals(b.cert) && a.key.equals(b.key) && ca(a).equals(ca(b));
}

/** Options of {@link watchKedaTls}. */
export interface WatchKedaTlsOptions {
  readonly files: KedaTlsFiles;
  readonly reader: InputReader;
  readonly clock: Clock;
  /** Seconds between re-reads. */
  readonly intervalSeconds: number;
  /** Ends the watch. */
  readonly signal: AbortSignal;
  /** What is served now. */
  readonly current: KedaTls;
  /** Serves new connections with `tls` (the KEDA server's `updateTls`); may throw. */
  update(tls: KedaTls): void;
  onReloaded(): void;
  /** The files could not be read, or `update` refused them: the previous TLS stays. */
  onFailed(why: string): void;
}

/**
 * Re-reads the TLS files every `intervalSeconds` until `signal` aborts and hands changed
 * contents to `update`, so that certificates renewed in place (cert-manager rotating a
 * mounted Secret) are served without a restart. Files that cannot be read keep the
 * previous certificate in service.
 */
export async function watchKedaTls(options: WatchKedaTlsOptions): Promise<void> {
  let served = options.current;
  const { signal } = options;
  while (!signal.aborted) {
    await options.clock.sleep(options.intervalSeconds, signal);
    if (signal.aborted) return;
    const next = await readKedaTls(options.files, options.reader);
    if (!next.ok || next.tls === undefined) {
      options.onFailed(
        next.ok
          ? "no certificate"
          : next.problems.map((p) => `${p.file || p.path}: ${p.message}`).join("; "),
      );
      continue;
    }
    if (sameTls(next.tls, served)) continue;
    try {
      options.update(next.tls);
      served = next.tls;
      options.onReloaded();
    } catch (e) {
      options.onFailed(e instanceof Error ? e.message : String(e));
    }
  }
}
