// The seeded openssl session of the openssl scenario: an administrator's work with the openssl command line (random
// data, digests, MACs, symmetric encryption and decryption, base64, key generation, self-signed and CA-signed
// certificates, signatures and their verification, PKCS#12, password hashes, and a TLS server on 127.0.0.1 with
// clients talking to it), drawn from a model of what exists so that every command is valid when it runs. The port
// is the placeholder {PORT}, filled in when the session runs. Pure: seed -> commands.

import type { SeededRandom } from "../models/random.js";
import { between, pick, planAttack, rngFor, weighted, word } from "./planning.js";
import type { ShellAction } from "./shellRecording.js";
import type { RecordingPlan, RecordingSpec } from "./types.js";

interface Key {
  file: string;
  alg: "ec" | "ed25519" | "rsa";
  pub: boolean;
}

interface Cert {
  file: string;
  /** The certified key. */
  key: Key;
  /** The self-signed certificate that issued it (itself when self-signed). */
  issuer: string;
}

interface SslState {
  rng: SeededRandom;
  n: number;
  data: string[];
  keys: Key[];
  certs: Cert[];
  encrypted: { file: string; cipher: string; pass: string }[];
  signatures: { file: string; data: string; key: Key }[];
  server: boolean;
}

const next = (s: SslState): number => ++s.n;

function newData(s: SslState): ShellAction {
  const file = `data-${next(s)}.bin`;
  s.data.push(file);
  if (s.rng.next() < 0.5) return { command: `openssl rand -out ${file} ${between(s.rng, 16, 65536)}` };
  return { command: `printf '%s\\n' ${word(s.rng)} ${word(s.rng)} ${word(s.rng)} > ${file}` };
}

function genKey(s: SslState): ShellAction {
  const alg = weighted(s.rng, [
    ["ec", 4],
    ["ed25519", 3],
    ["rsa", 1],
  ] as const);
  const key: Key = { file: `key-${next(s)}.pem`, alg, pub: false };
  s.keys.push(key);
  const opts = {
    ec: "-algorithm EC -pkeyopt ec_paramgen_curve:P-256",
    ed25519: "-algorithm ED25519",
    rsa: "-algorithm RSA -pkeyopt rsa_keygen_bits:2048",
  };
  return { command: `openssl genpkey ${opts[alg]} -out ${key.file}` };
}

function selfSigned(s: SslState, key: Key): ShellAction {
  const file = `cert-${next(s)}.pem`;
  s.certs.push({ file, key, issuer: file });
  return {
    command: `openssl req -new -x509 -key ${key.file} -subj /CN=host-${s.n}.example -days ${between(s.rng, 1, 365)} -out ${file}`,
  };
}

function caSigned(s: SslState, ca: Cert, key: Key): ShellAction {
  const n = next(s);
  s.certs.push({ file: `cert-${n}.pem`, key, issuer: ca.file });
  return {
    command:
      `openssl req -new -key ${key.file} -subj /CN=svc-${n}.example -out req-${n}.csr && ` +
      `openssl x509 -req -in req-${n}.csr -CA ${ca.file} -CAkey ${ca.key.file} -CAcreateserial -days 30 -out cert-${n}.pem`,
  };
}

function sign(s: SslState, key: Key, data: string): ShellAction {
  const file = `${data}.${next(s)}.sig`;
  s.signatures.push({ file, data, key });
  if (key.alg === "ed25519")
    return { command: `openssl pkeyutl -sign -inkey ${key.file} -rawin -in ${data} -out ${file}` };
  return { command: `openssl dgst -sha256 -sign ${key.file} -out ${file} ${data}` };
}

function verify(s: SslState): ShellAction {
  const sig = pick(s.rng, s.signatures);
  if (sig.key.alg === "ed25519") {
    return { command: `openssl pkeyutl -verify -inkey ${sig.key.file} -rawin -in ${sig.data} -sigfile ${sig.file}` };
  }
  return { command: `openssl dgst -sha256 -prverify ${sig.key.file} -signature ${sig.file} ${sig.data}` };
}

function encrypt(s: SslState, data: string): ShellAction {
  const cipher = pick(s.rng, ["aes-256-cbc", "aes-128-ctr", "chacha20"]);
  const pass = word(s.rng, 6, 12);
  const file = `${data}.${next(s)}.enc`;
  s.encrypted.push({ file, cipher, pass });
  return { command: `openssl enc -${cipher} -pbkdf2 -salt -pass pass:${pass} -in ${data} -out ${file}` };
}

/** Commands that only read what exists (or make nothing new that later commands rely on). */
function reader(s: SslState): ShellAction {
  const { rng } = s;
  const data = pick(rng, s.data);
  const options: ShellAction[] = [
    { command: `openssl dgst -${pick(rng, ["sha256", "sha512", "sha1", "md5", "sha3-256", "blake2b512"])} ${data}` },
    { command: `openssl mac -digest SHA256 -macopt hexkey:${between(rng, 4096, 65535).toString(16)} -in ${data} HMAC` },
    { command: `openssl base64 -in ${data} -out ${data}.b64 && openssl base64 -d -in ${data}.b64 -out ${data}.raw` },
    { command: pick(rng, [`openssl rand -hex ${between(rng, 8, 64)}`, `openssl rand -base64 ${between(rng, 8, 64)}`]) },
    { command: `openssl passwd -6 -salt ${word(rng, 8, 8)} ${word(rng)}` },
    { command: `openssl prime ${between(rng, 3, 2_000_000)}` },
    {
      command: pick(rng, [
        "openssl version -a",
        "openssl list -digest-algorithms",
        "openssl ciphers -s",
        "openssl list -cipher-algorithms",
      ]),
    },
  ];
  if (s.encrypted.length > 0) {
    const e = pick(rng, s.encrypted);
    options.push({
      command: `openssl enc -d -${e.cipher} -pbkdf2 -pass pass:${e.pass} -in ${e.file} -out ${e.file}.dec`,
    });
  }
  if (s.certs.length > 0) {
    const c = pick(rng, s.certs);
    options.push({ command: `openssl x509 -in ${c.file} -noout -subject -issuer -dates -fingerprint -sha256` });
    options.push({ command: `openssl verify -CAfile ${c.issuer} ${c.file}` });
  }
  if (s.keys.length > 0) options.push({ command: `openssl pkey -in ${pick(rng, s.keys).file} -noout -text` });
  return pick(rng, options);
}

type Move = "data" | "key" | "self" | "ca" | "sign" | "verify" | "enc" | "read" | "p12" | "serve" | "client" | "stop";

function moves(s: SslState): [Move, number][] {
  const m: [Move, number][] = [
    ["data", 2],
    ["key", 2],
    ["enc", 2],
    ["read", 8],
  ];
  if (s.keys.length > 0 && s.data.length > 0) m.push(["self", 2], ["sign", 2]);
  if (s.signatures.length > 0) m.push(["verify", 2]);
  if (s.certs.length > 0 && s.keys.length > 1) m.push(["ca", 1], ["p12", 1]);
  if (!s.server && s.certs.some((c) => c.key.alg === "ec")) m.push(["serve", 2]);
  if (s.server) m.push(["client", 5], ["stop", 1]);
  return m;
}

function move(s: SslState, kind: Move): ShellAction {
  const { rng } = s;
  switch (kind) {
    case "data":
      return newData(s);
    case "key":
      return genKey(s);
    case "self":
      return selfSigned(s, pick(rng, s.keys));
    case "ca":
      return caSigned(
        s,
        pick(
          rng,
          s.certs.filter((c) => c.issuer === c.file),
        ),
        pick(rng, s.keys),
      );
    case "sign":
      return sign(s, pick(rng, s.keys), pick(rng, s.data));
    case "verify":
      return verify(s);
    case "enc":
      return encrypt(s, pick(rng, s.data));
    case "read":
      return reader(s);
    case "p12": {
      const c = pick(rng, s.certs);
      const out = `bundle-${next(s)}.p12`;
      return {
        command:
          `openssl pkcs12 -export -in ${c.file} -inkey ${c.key.file} -out ${out} -passout pass:p12 && ` +
          `openssl pkcs12 -in ${out} -passin pass:p12 -nokeys -info -out ${out}.pem`,
      };
    }
    case "serve": {
      s.server = true;
      const c = pick(
        rng,
        s.certs.filter((x) => x.key.alg === "ec"),
      );
      return {
        command: `openssl s_server -accept 127.0.0.1:{PORT} -cert ${c.file} -key ${c.key.file} -www -quiet > server.log 2>&1 & SP=$!`,
        waitPort: true,
      };
    }
    case "client":
      return pick(rng, [
        { command: `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | openssl s_client -connect 127.0.0.1:{PORT} -quiet` },
        { command: "openssl s_client -connect 127.0.0.1:{PORT} -brief" },
        { command: `openssl s_client -connect 127.0.0.1:{PORT} -tls1_2 -brief` },
      ]);
    case "stop":
      s.server = false;
      return { command: `kill "$SP"; wait "$SP"; true` };
  }
}

/** The plan of one openssl session: first a data file, a key and a certificate, then seeded commands. */
export function planOpensslSession(spec: RecordingSpec): RecordingPlan<ShellAction> {
  const s: SslState = {
    rng: rngFor(spec),
    n: 0,
    data: [],
    keys: [],
    certs: [],
    encrypted: [],
    signatures: [],
    server: false,
  };
  const actions: ShellAction[] = [newData(s), genKey(s)];
  actions.push(selfSigned(s, s.keys[0]!));
  while (actions.length < spec.actions - 1) actions.push(move(s, weighted(s.rng, moves(s))));
  actions.push(s.server ? move(s, "stop") : reader(s));
  const attack = planAttack(spec);
  if (attack !== undefined) attack.at = Math.max(attack.at, 3);
  return { seed: spec.seed, actions, ...(attack !== undefined ? { attack } : {}) };
}
