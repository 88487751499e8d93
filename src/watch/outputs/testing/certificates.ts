// Certificates for the tests that speak TLS (https delivery, the fleet's NATS over TLS), made with the openssl
// command line: a self-signed certificate and its key, one day or two of validity, nothing kept after the test.

import { execFileSync } from "node:child_process";

/** Writes a self-signed RSA certificate for `subject` (e.g. "/CN=localhost") to `cert` and its key to `key`. */
export function selfSignedCertificate(key: string, cert: string, subject: string, extra: readonly string[] = []): void {
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "2",
      "-subj",
      subject,
      ...extra,
    ],
    { stdio: "ignore" },
  );
}
