// An example force system in Node.js, written from the published contract alone:
// contracts/asyncapi.json, contracts/schemas/envelope.schema.json and contracts/vectors/v1.
//
//   node force.mjs --vectors DIR
//       Check this implementation against the conformance vectors: canonical JSON, signing
//       (byte for byte), verification with the expected reason codes, and hub receipts.
//
//   node force.mjs --vectors DIR --nats-url URL --force KENT --key keys/KENT.key \
//       --trust trust.json [--creds creds/KENT.nk] [--anchor-kid KID] [--case-ref REF]
//       Then, against a running hub: open a case (signed, published on cf.in.KENT.<case>),
//       read the hub's receipt from the KENT_receipt consumer and verify its signature; then
//       send a copy edited after signing and expect a BAD_SIGNATURE rejection.
//       The key file's passphrase comes from CROSSFORCE_KEY_PASSPHRASE.
//
// Prints one JSON line per result and exits 0 only if every check held.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { connect, nkeyAuthenticator } from "nats";

import {
  HUB,
  Refusal,
  canonicalize,
  checkTrustStore,
  loadKeyFile,
  loadPrivateJwk,
  signDetached,
  signEnvelope,
  signingPayload,
  uuidv7,
  verifyEnvelope,
} from "./crossforce.mjs";

const { values: options } = parseArgs({
  options: {
    vectors: { type: "string" },
    "nats-url": { type: "string" },
    force: { type: "string" },
    key: { type: "string" },
    trust: { type: "string" },
    creds: { type: "string" },
    "anchor-kid": { type: "string" },
    "case-ref": { type: "string" },
    timeout: { type: "string", default: "30" },
  },
});

let failures = 0;
function report(check, ok, detail = {}) {
  if (!ok) failures += 1;
  console.log(JSON.stringify({ check, ok, ...detail }));
}

const readJson = (path) => JSON.parse(readFileSync(path, "utf8"));

function verdict(envelope, trust) {
  try {
    return { valid: true, kid: verifyEnvelope(envelope, trust).kid };
  } catch (error) {
    if (error instanceof Refusal) return { valid: false, reason_code: error.code };
    throw error;
  }
}

// -- the conformance vectors ---------------------------------------------------------------
function checkVectors(dir) {
  for (const c of readJson(join(dir, "canonical.json")).cases) {
    const produced = Buffer.from(canonicalize(JSON.parse(c.input)), "utf8");
    report(`canonical:${c.name}`, produced.toString("hex") === c.expected_utf8_hex);
  }
  const keys = readJson(join(dir, "keys.json"));
  const trust = checkTrustStore(keys.trust_store);
  for (const c of readJson(join(dir, "signatures.json")).cases) {
    const got = verdict(c.envelope, trust);
    const same = got.valid === c.expected.valid && (got.valid ? got.kid === c.expected.kid : got.reason_code === c.expected.reason_code);
    report(`signature:${c.name}`, same, { expected: c.expected, got });
    if (c.expected.valid) {
      // Ed25519 is deterministic: signing the same payload with the same key gives the same bytes.
      const key = loadPrivateJwk(keys.keys[c.key].force, keys.keys[c.key].private_jwk);
      const alg = JSON.parse(Buffer.from(c.protected_header, "base64url")).alg;
      const payload = signingPayload(c.envelope);
      report(`signing:${c.name}`, payload.toString("utf8") === c.signing_payload && signDetached(payload, key.privateKey, key.kid, alg) === c.envelope.signature);
    }
  }
  for (const c of readJson(join(dir, "receipts.json")).cases) {
    const got = verdict(c.envelope, trust);
    const data = c.envelope.data;
    const same = got.valid && got.kid === c.expected.kid && data.status === c.expected.status && (data.reason_code ?? null) === c.expected.reason_code && data.in_reply_to === c.expected.in_reply_to;
    report(`receipt:${c.name}`, same);
  }
}

// -- a case against a running hub ----------------------------------------------------------
function caseOpened(force, caseRef, recipients) {
  // A case received by this force; the applicant's home force (ESSEX) co-ordinates.
  const data = readJson(new URL("./case-opened.json", import.meta.url));
  // The applicant asked just now: the hub refuses an initial contact dated after the
  // message, or further back than the SLA policy allows.
  const now = new Date();
  return {
    specversion: "1.0",
    id: uuidv7(),
    source: `urn:uk:police:force:${force}`,
    type: "uk.police.dvds.case-opened.v1",
    time: now.toISOString(),
    subject: caseRef,
    dataschema: "urn:crossforce:schema:uk.police.dvds.case-opened.v1",
    datacontenttype: "application/json",
    caseref: caseRef,
    senderforce: force,
    recipients: recipients.join(","),
    jurisdiction: "england-wales",
    securitymarking: "OFFICIAL-SENSITIVE",
    purpose: "Domestic abuse disclosure scheme enquiry (DVDS / DSDAS)",
    lawfulbasis: "DPA 2018 Part 3 s.35 law enforcement processing; common law police power to disclose",
    data: {
      ...data,
      receiving_force: force,
      local_reference: `${force}-${caseRef}`,
      initial_contact_at: new Date(now.getTime() - 60_000).toISOString(),
    },
  };
}

async function runCase() {
  const force = options.force;
  const trust = checkTrustStore(readJson(options.trust), options["anchor-kid"]);
  const key = loadKeyFile(readFileSync(options.key, "utf8"), process.env.CROSSFORCE_KEY_PASSPHRASE ?? "");
  const caseRef = options["case-ref"] ?? `CF-NODE-${Date.now()}`;
  const timeout = Number(options.timeout) * 1000;

  const nc = await connect({
    servers: options["nats-url"].split(","),
    // A force may subscribe only to its own inbox (per-force NATS permissions).
    inboxPrefix: `_INBOX_${force}`,
    authenticator: options.creds ? nkeyAuthenticator(new TextEncoder().encode(readFileSync(options.creds, "utf8").trim())) : undefined,
    timeout: 10_000,
    maxReconnectAttempts: -1,
  });
  try {
    const js = nc.jetstream();
    const receipts = await js.consumers.get("CF_DELIVERY", `${force}_receipt`);

    async function send(envelope) {
      const started = performance.now();
      await js.publish(`cf.in.${force}.${envelope.caseref}`, Buffer.from(JSON.stringify(envelope)), { msgID: envelope.id });
      const deadline = Date.now() + timeout;
      while (Date.now() < deadline) {
        const msg = await receipts.next({ expires: 1000 });
        if (msg === null) continue;
        const receipt = JSON.parse(msg.string());
        const signedBy = verdict(receipt, trust);
        msg.ack();
        if (!signedBy.valid || receipt.senderforce !== HUB) {
          report("receipt-signature", false, { got: signedBy });
          continue;
        }
        if (receipt.data.in_reply_to === envelope.id) {
          return { receipt, ms: Math.round(performance.now() - started) };
        }
      }
      throw new Error(`no receipt for ${envelope.id} within ${timeout / 1000}s`);
    }

    const opened = signEnvelope(caseOpened(force, caseRef, ["ESSEX"]), key);
    const first = await send(opened);
    report("hub-accepts-a-signed-case", first.receipt.data.status === "accepted", {
      envelope: opened.id,
      status: first.receipt.data.status,
      reason_code: first.receipt.data.reason_code ?? null,
      receipt_verified: true,
      ms: first.ms,
    });

    // Edited after signing: the hub must refuse it with BAD_SIGNATURE, and say so.
    const signed = signEnvelope(caseOpened(force, `${caseRef}-T`, ["ESSEX"]), key);
    const tampered = { ...signed, recipients: "ESSEX,SURREY" };
    const second = await send(tampered);
    report("hub-rejects-a-tampered-envelope", second.receipt.data.status === "rejected" && second.receipt.data.reason_code === "BAD_SIGNATURE", {
      envelope: tampered.id,
      status: second.receipt.data.status,
      reason_code: second.receipt.data.reason_code ?? null,
      receipt_verified: true,
    });
  } finally {
    await nc.close();
  }
}

try {
  if (options.vectors) checkVectors(options.vectors);
  if (options["nats-url"]) await runCase();
} catch (error) {
  report("run", false, { error: String(error.message ?? error) });
}
process.exit(failures === 0 ? 0 : 1);
