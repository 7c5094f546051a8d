import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** PEM files for TLS tests, made fresh by `openssl` for each run (valid one day). */
export interface TestCerts {
  readonly caCert: Buffer;
  /** Serving certificate for 127.0.0.1 and localhost, signed by the CA. */
  readonly serverCert: Buffer;
  readonly serverKey: Buffer;
  /** A client certificate signed by the CA. */
  readonly clientCert: Buffer;
  readonly clientKey: Buffer;
  /** A client certificate signed by another CA (must be refused under mutual TLS). */
  readonly strangerCert: Buffer;
  readonly strangerKey: Buffer;
  /** The other CA (the stranger's issuer). */
  readonly otherCaCert: Buffer;
  /** A serving certificate for 127.0.0.1 and localhost signed by the other CA (a renewal). */
  readonly renewedServerCert: Buffer;
  readonly renewedServerKey: Buffer;
}

/** Why certificates cannot be made here, or undefined when `openssl` works. */
export function certsUnavailable(): string | undefined {
  const r = spawnSync("openssl", ["version"], { encoding: "utf8" });
  return r.status === 0 ? undefined : "openssl is not installed (Debian: apt-get install openssl)";
}

/** A CA, a server certificate, a client certificate and a stranger's, via `openssl`. */
export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), "tritonscale-certs-"));
  const run = (...args: string[]) => {
    const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
  };
  const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const ca = (name: string) =>
    run(
      "req",
      "-x509",
      ...key,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.crt`,
      "-days",
      "1",
      "-subj",
      `/CN=${name}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    );
  const leaf = (name: string, issuer: string, ext: string) => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    run("req", ...key, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
    run(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      `${issuer}.crt`,
      "-CAkey",
      `${issuer}.key`,
      "-CAcreateserial",
      "-out",
      `${name}.crt`,
      "-days",
      "1",
      "-extfile",
      `${name}.ext`,
    );
  };
  try {
    ca("ca");
    ca("other-ca");
    leaf(
      "server",
      "ca",
      "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    );
    leaf("client", "ca", "extendedKeyUsage=clientAuth\n");
    leaf("stranger", "other-ca", "extendedKeyUsage=clientAuth\n");
    leaf(
      "renewed",
      "other-ca",
      "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    );
    const read = (f: string) => readFileSync(join(dir, f));
    return {
      caCert: read("ca.crt"),
      serverCert: read("server.crt"),
      serverKey: read("server.key"),
      clientCert: read("client.crt"),
      clientKey: read("client.key"),
      strangerCert: read("stranger.crt"),
      strangerKey: read("stranger.key"),
      otherCaCert: read("other-ca.crt"),
      renewedServerCert: read("renewed.crt"),
      renewedServerKey: read("renewed.key"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
