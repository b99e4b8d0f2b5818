// The Crossforce wire contract in plain Node.js: RFC 8785 canonical JSON, the compact detached
// JWS (alg Ed25519, RFC 8037 / RFC 9864) over it, RFC 7638 key ids, and the signed trust
// store. Only Node's own crypto is used; see contracts/vectors/v1 for the cases it must pass.
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, verify } from "node:crypto";

export const ALGORITHM = "Ed25519";
// Crossforce verifiers also take EdDSA with an Ed25519 key (docs/decisions/0030).
export const ACCEPTED_ALGORITHMS = new Set(["Ed25519", "EdDSA"]);
export const HUB = "HUB";

// A refusal with one of the contract's stable reason codes (contracts/errors.py).
export class Refusal extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

// RFC 8785: JSON.stringify already writes strings and numbers as JCS requires (ECMAScript
// rules); objects need their members sorted by UTF-16 code units, which is how JS compares.
export function canonicalize(value) {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new Error("NaN and Infinity are not JSON");
    }
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map(canonicalize).join(",")}]`;
  }
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalize(value[key])}`).join(",")}}`;
}

export const b64url = (bytes) => Buffer.from(bytes).toString("base64url");
export const fromB64url = (text) => Buffer.from(text, "base64url");

// RFC 7638 thumbprint of an OKP key: SHA-256 over {crv, kty, x} in canonical form.
export function thumbprint(jwk) {
  const required = canonicalize({ crv: jwk.crv, kty: jwk.kty, x: jwk.x });
  return b64url(createHash("sha256").update(required, "utf8").digest());
}

// What a signature covers: the envelope without its `signature` member, exactly as written.
export function signingPayload(envelope) {
  const { signature: _ignored, ...body } = envelope;
  return Buffer.from(canonicalize(body), "utf8");
}

export function signDetached(payload, privateKey, kid, alg = ALGORITHM) {
  const header = b64url(canonicalize({ alg, kid }));
  const input = Buffer.from(`${header}.${b64url(payload)}`, "ascii");
  return `${header}..${b64url(sign(null, input, privateKey))}`;
}

export function signEnvelope(envelope, key) {
  const body = { ...envelope };
  delete body.signature;
  return { ...body, signature: signDetached(signingPayload(body), key.privateKey, key.kid) };
}

function readHeader(token) {
  const parts = String(token).split(".");
  if (parts.length !== 3 || parts[1] !== "") {
    throw new Refusal("BAD_SIGNATURE", "signature is not a compact detached JWS");
  }
  let header;
  try {
    header = JSON.parse(fromB64url(parts[0]).toString("utf8"));
  } catch {
    throw new Refusal("BAD_SIGNATURE", "JWS header is not valid JSON");
  }
  if (header === null || typeof header !== "object" || !ACCEPTED_ALGORITHMS.has(header.alg)) {
    throw new Refusal("BAD_SIGNATURE", "JWS alg must be Ed25519");
  }
  if (typeof header.kid !== "string") throw new Refusal("UNKNOWN_KEY", "JWS header has no kid");
  if ("crit" in header) throw new Refusal("BAD_SIGNATURE", "crit is not supported");
  return { header, encodedHeader: parts[0], signature: fromB64url(parts[2]) };
}

function verifyDetached(token, payload, publicJwk) {
  const { encodedHeader, signature } = readHeader(token);
  const input = Buffer.from(`${encodedHeader}.${b64url(payload)}`, "ascii");
  const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: publicJwk.x }, format: "jwk" });
  return verify(null, input, key, signature);
}

// Checks in the order the hub makes them; returns the key record that verified.
export function verifyEnvelope(envelope, trust) {
  if (!envelope.signature) throw new Refusal("MISSING_SIGNATURE", "envelope is not signed");
  const sender = envelope.senderforce;
  if (envelope.source !== `urn:uk:police:force:${sender}`) {
    throw new Refusal("SENDER_MISMATCH", `source does not match sender ${sender}`);
  }
  const { header } = readHeader(envelope.signature);
  const record = (trust.forces[sender]?.keys ?? []).find((k) => k.kid === header.kid);
  if (!record) {
    const owner = Object.values(trust.forces).find((set) => set.keys.some((k) => k.kid === header.kid));
    if (owner) throw new Refusal("SENDER_MISMATCH", `key belongs to ${owner.force}, not ${sender}`);
    throw new Refusal("UNKNOWN_KEY", `no trusted key ${header.kid} for ${sender}`);
  }
  if (!verifyDetached(envelope.signature, signingPayload(envelope), record)) {
    throw new Refusal("BAD_SIGNATURE", "signature does not verify: content altered");
  }
  const at = Date.parse(envelope.time);
  if (record.revoked_at && at >= Date.parse(record.revoked_at)) {
    throw new Refusal("REVOKED_KEY", `key ${record.kid} was revoked`);
  }
  if (at < Date.parse(record.nbf)) throw new Refusal("KEY_NOT_YET_VALID", `key ${record.kid} is not yet valid`);
  if (at >= Date.parse(record.exp)) throw new Refusal("EXPIRED_KEY", `key ${record.kid} has expired`);
  return record;
}

// The trust store is signed by the trust anchor; refuse it unless that holds (and the pin, if
// one is given, names the anchor).
export function checkTrustStore(store, pinnedAnchorKid) {
  const { signature, ...body } = store;
  if (!signature) throw new Refusal("UNTRUSTED_STORE", "trust store is not signed");
  const { header } = readHeader(signature);
  if (header.kid !== store.anchor.kid || thumbprint(store.anchor) !== store.anchor.kid) {
    throw new Refusal("UNTRUSTED_STORE", "trust store is not signed by its anchor");
  }
  if (pinnedAnchorKid && pinnedAnchorKid !== store.anchor.kid) {
    throw new Refusal("UNTRUSTED_STORE", "trust store anchor is not the pinned one");
  }
  if (!verifyDetached(signature, Buffer.from(canonicalize(body), "utf8"), store.anchor)) {
    throw new Refusal("UNTRUSTED_STORE", "trust store signature does not verify");
  }
  return store;
}

// A Crossforce key file (`crossforce keys new`): encrypted PKCS#8 inside a small JSON object.
export function loadKeyFile(text, passphrase) {
  const file = JSON.parse(text);
  const privateKey = createPrivateKey({ key: file.encrypted_pkcs8, format: "pem", passphrase });
  return keyFrom(file.force, privateKey);
}

// A private JWK ({kty: OKP, crv: Ed25519, x, d}), as in contracts/vectors/v1/keys.json.
export function loadPrivateJwk(force, jwk) {
  const { kty, crv, x, d } = jwk;
  return keyFrom(force, createPrivateKey({ key: { kty, crv, x, d }, format: "jwk" }));
}

function keyFrom(force, privateKey) {
  const jwk = createPublicKey(privateKey).export({ format: "jwk" });
  return { force, privateKey, kid: thumbprint(jwk) };
}

// RFC 9562 UUIDv7: 48 bits of Unix milliseconds, then random bits; time-ordered and unguessable.
export function uuidv7(now = Date.now()) {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
