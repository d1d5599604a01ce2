// capture.mjs records the SPQR bytes two libsignal-client 0.103.0 peers
// exchange, for braid's black-box tests (libsignal_test.go). Run from the
// repository root after `npm ci` in interop/node:
//
//   node internal/braid/testdata/libsignal/capture.mjs > internal/braid/testdata/libsignal/trace.json
//
// Alice processes Bob's bundle (Alice is A2B, the ek sender of epoch 1).
// Schedules: "AB" strict alternation, "AAB" (2:1) and "ABB" (1:2), 400
// messages each, every message decrypted at once; "A" one way, 12 messages
// (header parity chunks). For each run: the SPQR key (pqr_key, the braid's
// auth key) read from Alice's session record before any message, Bob's
// session record right after he sends his first Ct1 chunk (his braid is
// then in Ct1Sampled), and every message's sender and pq_ratchet field in
// hex. libsignal is used as a black box only.

import * as SignalClient from '../../../../interop/node/node_modules/@signalapp/libsignal-client/dist/index.js';

const {
  IdentityKeyPair, PrivateKey, PreKeyRecord, SignedPreKeyRecord, KEMKeyPair, KyberPreKeyRecord,
  PreKeyBundle, ProtocolAddress, SessionStore, IdentityKeyStore, PreKeyStore, SignedPreKeyStore,
  KyberPreKeyStore, SessionRecord, SignalMessage, PreKeySignalMessage, CiphertextMessageType,
  IdentityChange,
} = SignalClient;

class Sessions extends SessionStore {
  constructor() { super(); this.m = new Map(); }
  async saveSession(a, r) { this.m.set(a.toString(), r.serialize()); }
  async getSession(a) { const b = this.m.get(a.toString()); return b ? SessionRecord.deserialize(b) : null; }
  async getExistingSessions(as) { return as.map((a) => SessionRecord.deserialize(this.m.get(a.toString()))); }
}
class Identities extends IdentityKeyStore {
  constructor(kp, id) { super(); this.kp = kp; this.id = id; this.m = new Map(); }
  async getIdentityKey() { return this.kp.privateKey; }
  async getLocalRegistrationId() { return this.id; }
  async saveIdentity(a, k) { this.m.set(a.toString(), k); return IdentityChange.NewOrUnchanged; }
  async isTrustedIdentity() { return true; }
  async getIdentity(a) { return this.m.get(a.toString()) ?? null; }
}
class Keys extends PreKeyStore {
  constructor(dec) { super(); this.m = new Map(); this.dec = dec; }
  async savePreKey(id, r) { this.m.set(id, r.serialize()); }
  async getPreKey(id) { return this.dec(this.m.get(id)); }
  async removePreKey(id) { this.m.delete(id); }
  async saveSignedPreKey(id, r) { this.m.set(id, r.serialize()); }
  async getSignedPreKey(id) { return this.dec(this.m.get(id)); }
  async saveKyberPreKey(id, r) { this.m.set(id, r.serialize()); }
  async getKyberPreKey(id) { return this.dec(this.m.get(id)); }
  async markKyberPreKeyUsed() {}
}
// One class per store interface, sharing Keys' methods.
for (const [cls, base] of [['SPK', SignedPreKeyStore], ['KPK', KyberPreKeyStore]]) {
  Keys[cls] = class extends base {};
  for (const k of Object.getOwnPropertyNames(Keys.prototype)) {
    if (k !== 'constructor') Keys[cls].prototype[k] = Keys.prototype[k];
  }
}

function party(name, regId) {
  const kp = IdentityKeyPair.generate();
  const spk = new Keys.SPK(); spk.m = new Map(); spk.dec = (b) => SignedPreKeyRecord.deserialize(b);
  const kpk = new Keys.KPK(); kpk.m = new Map(); kpk.dec = (b) => KyberPreKeyRecord.deserialize(b);
  return {
    addr: ProtocolAddress.new(name, 1), kp, regId,
    sessions: new Sessions(), ids: new Identities(kp, regId),
    pre: new Keys((b) => PreKeyRecord.deserialize(b)), spk, kpk,
  };
}

// Minimal protobuf reading: the length-delimited fields of a message.
function fields(buf) {
  const out = [];
  let i = 0;
  const varint = () => {
    let v = 0n, s = 0n;
    for (;;) { const b = buf[i++]; v |= BigInt(b & 0x7f) << s; s += 7n; if (b < 0x80) return v; }
  };
  while (i < buf.length) {
    const key = Number(varint()), f = key >> 3, wt = key & 7;
    if (wt === 0) varint();
    else if (wt === 2) { const n = Number(varint()); out.push([f, buf.subarray(i, i + n)]); i += n; }
    else if (wt === 5) i += 4;
    else if (wt === 1) i += 8;
    else throw new Error(`wire type ${wt}`);
  }
  return out;
}
const field = (buf, f) => fields(buf).find(([n]) => n === f)?.[1];

// pqRatchet returns field 5 of a SignalMessage (version byte, protobuf,
// 8-byte MAC); a PreKeySignalMessage carries the SignalMessage in field 4.
function pqRatchet(type, ct) {
  let sm = ct;
  if (type === CiphertextMessageType.PreKey) sm = field(ct.subarray(1), 4);
  return field(sm.subarray(1, sm.length - 8), 5) ?? new Uint8Array(0);
}

// payloadType is the type byte of an SPQR V1 message: after the version
// byte and the epoch and index varints.
function payloadType(pq) {
  let i = 1;
  for (let v = 0; v < 2; v++) while (pq[i++] & 0x80);
  return pq[i];
}

async function run(pattern, total) {
  const alice = party('alice', 1111), bob = party('bob', 2222);
  const now = Date.now();
  const pk = PrivateKey.generate(), spk = PrivateKey.generate(), kyber = KEMKeyPair.generate();
  await bob.pre.savePreKey(1, PreKeyRecord.new(1, pk.getPublicKey(), pk));
  const spkSig = bob.kp.privateKey.sign(spk.getPublicKey().serialize());
  await bob.spk.saveSignedPreKey(2, SignedPreKeyRecord.new(2, now, spk.getPublicKey(), spk, spkSig));
  const kSig = bob.kp.privateKey.sign(kyber.getPublicKey().serialize());
  await bob.kpk.saveKyberPreKey(3, KyberPreKeyRecord.new(3, now, kyber, kSig));
  const bundle = PreKeyBundle.new(bob.regId, 1, 1, pk.getPublicKey(), 2, spk.getPublicKey(), spkSig,
    bob.kp.publicKey, 3, kyber.getPublicKey(), kSig);
  await SignalClient.processPreKeyBundle(bundle, bob.addr, alice.addr, alice.sessions, alice.ids, new Date());

  // RecordStructure.current_session (1) -> SessionStructure.pq_ratchet_state
  // (15) -> PqRatchetState.version_negotiation (1) -> auth_key (1).
  const rec = (await alice.sessions.getSession(bob.addr)).serialize();
  const authKey = field(field(field(field(rec, 1), 15), 1), 1);
  if (authKey?.length !== 32) throw new Error('no 32-byte auth key in the record');

  const messages = [];
  let bobRecord; // Bob's session record right after his first Ct1 chunk
  for (let n = 0; n < total; n++) {
    const fromA = pattern[n % pattern.length] === 'A';
    const [src, dst] = fromA ? [alice, bob] : [bob, alice];
    const msg = await SignalClient.signalEncrypt(Buffer.from(`m${n}`), dst.addr, src.addr, src.sessions, src.ids, new Date());
    const ct = msg.serialize();
    const pq = pqRatchet(msg.type(), ct);
    messages.push({ from: fromA ? 'A' : 'B', pq: Buffer.from(pq).toString('hex') });
    if (!fromA && bobRecord === undefined && payloadType(pq) === 5) {
      bobRecord = Buffer.from((await bob.sessions.getSession(alice.addr)).serialize()).toString('hex');
    }
    if (pattern === 'A') continue; // one way: Bob never decrypts
    if (msg.type() === CiphertextMessageType.PreKey) {
      await SignalClient.signalDecryptPreKey(PreKeySignalMessage.deserialize(ct), src.addr, dst.addr,
        dst.sessions, dst.ids, dst.pre, dst.spk, dst.kpk);
    } else {
      await SignalClient.signalDecrypt(SignalMessage.deserialize(ct), src.addr, dst.addr, dst.sessions, dst.ids);
    }
  }
  return { pattern, authKey: Buffer.from(authKey).toString('hex'), bobRecord, messages };
}

const runs = [];
for (const [p, n] of [['AB', 400], ['AAB', 400], ['ABB', 400], ['A', 12]]) runs.push(await run(p, n));
process.stdout.write(JSON.stringify({ libsignal: '0.103.0', runs }, null, 1) + '\n');
