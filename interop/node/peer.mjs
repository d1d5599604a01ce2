// Interop peer for Sotto's cross-implementation tests, backed by
// @signalapp/libsignal-client (pinned in package.json).
//
// Speaks the line-delimited JSON protocol described in ../PROTOCOL.md:
// one request object per line on stdin, exactly one response line per
// request on stdout, in order. Nothing else is ever written to stdout;
// diagnostics go to stderr.
//
// Run `npm ci` in this directory first.

import { createInterface } from 'node:readline';
import * as SignalClient from '@signalapp/libsignal-client';

const {
  CiphertextMessageType,
  Fingerprint,
  IdentityChange,
  IdentityKeyPair,
  IdentityKeyStore,
  KEMKeyPair,
  KEMPublicKey,
  KEMSecretKey,
  KyberPreKeyRecord,
  KyberPreKeyStore,
  LibSignalErrorBase,
  PreKeyBundle,
  PreKeyRecord,
  PreKeySignalMessage,
  PreKeyStore,
  PrivateKey,
  ProtocolAddress,
  PublicKey,
  SessionRecord,
  SessionStore,
  SignalMessage,
  SignedPreKeyRecord,
  SignedPreKeyStore,
  ErrorCode,
} = SignalClient;

const IMPLEMENTATION = 'libsignal-client';

function log(...args) {
  process.stderr.write(`[node-peer ${process.pid}] ${args.join(' ')}\n`);
}

// ---------------------------------------------------------------------------
// Errors and argument decoding

// RequestError marks a malformed request (as opposed to a libsignal failure).
class RequestError extends Error {}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function b64decode(value, field) {
  if (typeof value !== 'string' || !BASE64_RE.test(value)) {
    throw new RequestError(`field ${field}: expected standard base64 string`);
  }
  const buf = Buffer.from(value, 'base64');
  // Copy into a fresh Uint8Array backed by its own ArrayBuffer, as the
  // libsignal typings ask for Uint8Array<ArrayBuffer>.
  return new Uint8Array(buf);
}

function b64encode(bytes) {
  return Buffer.from(bytes).toString('base64');
}

function uint(value, field, { min = 0, max = 0xffffffff } = {}) {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RequestError(`field ${field}: expected integer in [${min}, ${max}]`);
  }
  return value;
}

function str(value, field) {
  if (typeof value !== 'string' || value === '') {
    throw new RequestError(`field ${field}: expected non-empty string`);
  }
  return value;
}

function obj(value, field) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new RequestError(`field ${field}: expected object`);
  }
  return value;
}

function address(value, field) {
  obj(value, field);
  return ProtocolAddress.new(
    str(value.name, `${field}.name`),
    uint(value.deviceId, `${field}.deviceId`, { min: 1, max: 127 })
  );
}

function addrKey(addr) {
  return `${addr.name()}.${addr.deviceId()}`;
}

// ecPublic decodes a serialized EC public key (33 bytes, 0x05 || u).
function ecPublic(value, field) {
  const bytes = b64decode(value, field);
  if (bytes.length !== 33 || bytes[0] !== 0x05) {
    throw new RequestError(`field ${field}: expected a 33-byte 0x05 EC public key`);
  }
  return PublicKey.deserialize(bytes);
}

// ecPrivate decodes a 32-byte EC private key and checks that it belongs to
// pub.
function ecPrivate(value, field, pub) {
  const bytes = b64decode(value, field);
  if (bytes.length !== 32) {
    throw new RequestError(`field ${field}: expected a 32-byte EC private key`);
  }
  const priv = PrivateKey.deserialize(bytes);
  if (!Buffer.from(priv.getPublicKey().serialize()).equals(Buffer.from(pub.serialize()))) {
    throw new RequestError(`field ${field}: private key does not match its public key`);
  }
  return priv;
}

// signature decodes a 64-byte XEdDSA signature and verifies it over message
// with identityPublic.
function signature(value, field, identityPublic, message) {
  const sig = b64decode(value, field);
  if (sig.length !== 64) {
    throw new RequestError(`field ${field}: expected a 64-byte signature`);
  }
  if (!identityPublic.verify(message, sig)) {
    throw new RequestError(`field ${field}: signature does not verify under identityPublic`);
  }
  return sig;
}

// Minimal protobuf encoding, for kyberPreKeyRecord.
function pbVarint(n) {
  const out = [];
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) {
      b |= 0x80;
    }
    out.push(b);
  } while (v !== 0n);
  return Buffer.from(out);
}

function pbBytes(field, bytes) {
  return Buffer.concat([pbVarint((field << 3) | 2), pbVarint(bytes.length), Buffer.from(bytes)]);
}

// kyberPreKeyRecord builds a KyberPreKeyRecord from raw key bytes. libsignal
// has no KEMKeyPair constructor from bytes, but KyberPreKeyRecord.deserialize
// reads a SignedPreKeyRecordStructure {1: id (varint), 2: public key,
// 3: secret key (both serialized, type byte included), 4: signature,
// 5: timestamp (fixed64)}.
function kyberPreKeyRecord(id, pub, secret, sig, timestamp) {
  const ts = Buffer.alloc(8);
  ts.writeBigUInt64LE(BigInt(timestamp));
  const bytes = Buffer.concat([
    pbVarint((1 << 3) | 0),
    pbVarint(id),
    pbBytes(2, pub),
    pbBytes(3, secret),
    pbBytes(4, sig),
    pbVarint((5 << 3) | 1),
    ts,
  ]);
  return KyberPreKeyRecord.deserialize(new Uint8Array(bytes));
}

// ---------------------------------------------------------------------------
// In-memory stores. Records are kept serialized so that no native object is
// shared between libsignal calls.

class MemSessionStore extends SessionStore {
  constructor() {
    super();
    this.sessions = new Map();
  }
  async saveSession(name, record) {
    this.sessions.set(addrKey(name), record.serialize());
  }
  async getSession(name) {
    const bytes = this.sessions.get(addrKey(name));
    return bytes === undefined ? null : SessionRecord.deserialize(bytes);
  }
  async getExistingSessions(addresses) {
    return addresses.map((a) => {
      const bytes = this.sessions.get(addrKey(a));
      if (bytes === undefined) {
        throw new Error(`no session for ${addrKey(a)}`);
      }
      return SessionRecord.deserialize(bytes);
    });
  }
}

// Trust on first use: an unknown identity is trusted; once an identity is
// known for an address, only that same key is trusted (in both directions).
class MemIdentityStore extends IdentityKeyStore {
  constructor(identityKeyPair, registrationId) {
    super();
    this.identityKeyPair = identityKeyPair;
    this.registrationId = registrationId;
    this.known = new Map();
  }
  async getIdentityKey() {
    return this.identityKeyPair.privateKey;
  }
  async getLocalRegistrationId() {
    return this.registrationId;
  }
  async saveIdentity(name, key) {
    const k = addrKey(name);
    const prev = this.known.get(k);
    this.known.set(k, key.serialize());
    if (prev !== undefined && !Buffer.from(prev).equals(Buffer.from(key.serialize()))) {
      return IdentityChange.ReplacedExisting;
    }
    return IdentityChange.NewOrUnchanged;
  }
  async isTrustedIdentity(name, key, _direction) {
    const prev = this.known.get(addrKey(name));
    if (prev === undefined) {
      return true;
    }
    return Buffer.from(prev).equals(Buffer.from(key.serialize()));
  }
  async getIdentity(name) {
    const prev = this.known.get(addrKey(name));
    return prev === undefined ? null : PublicKey.deserialize(prev);
  }
}

class MemPreKeyStore extends PreKeyStore {
  constructor() {
    super();
    this.keys = new Map();
  }
  async savePreKey(id, record) {
    this.keys.set(id, record.serialize());
  }
  async getPreKey(id) {
    const bytes = this.keys.get(id);
    if (bytes === undefined) {
      throw new Error(`no one-time prekey with id ${id}`);
    }
    return PreKeyRecord.deserialize(bytes);
  }
  async removePreKey(id) {
    this.keys.delete(id);
  }
}

class MemSignedPreKeyStore extends SignedPreKeyStore {
  constructor() {
    super();
    this.keys = new Map();
  }
  async saveSignedPreKey(id, record) {
    this.keys.set(id, record.serialize());
  }
  async getSignedPreKey(id) {
    const bytes = this.keys.get(id);
    if (bytes === undefined) {
      throw new Error(`no signed prekey with id ${id}`);
    }
    return SignedPreKeyRecord.deserialize(bytes);
  }
}

// Kyber prekeys are treated as "last resort" keys: marking one used does not
// delete it (Signal clients keep last-resort Kyber keys; one-time Kyber keys
// would be deleted). The uses are recorded for diagnostics only.
class MemKyberPreKeyStore extends KyberPreKeyStore {
  constructor() {
    super();
    this.keys = new Map();
    this.used = [];
  }
  async saveKyberPreKey(id, record) {
    this.keys.set(id, record.serialize());
  }
  async getKyberPreKey(id) {
    const bytes = this.keys.get(id);
    if (bytes === undefined) {
      throw new Error(`no kyber prekey with id ${id}`);
    }
    return KyberPreKeyRecord.deserialize(bytes);
  }
  async markKyberPreKeyUsed(id, signedPreKeyId, baseKey) {
    this.used.push({ id, signedPreKeyId, baseKey: b64encode(baseKey.serialize()) });
  }
}

// ---------------------------------------------------------------------------
// Peer state

let state = null; // set by init

function requireInit(op) {
  if (state === null) {
    throw new RequestError(`${op} before init`);
  }
  return state;
}

function randomRegistrationId() {
  // Signal registration ids are 14-bit, non-zero.
  const buf = new Uint16Array(1);
  do {
    crypto.getRandomValues(buf);
  } while ((buf[0] & 0x3fff) === 0);
  return buf[0] & 0x3fff;
}

const ops = {
  async init(req) {
    const addr = address(req.address, 'address');
    const identity = IdentityKeyPair.generate();
    const registrationId = randomRegistrationId();
    state = {
      address: addr,
      identity,
      registrationId,
      sessions: new MemSessionStore(),
      identities: new MemIdentityStore(identity, registrationId),
      preKeys: new MemPreKeyStore(),
      signedPreKeys: new MemSignedPreKeyStore(),
      kyberPreKeys: new MemKyberPreKeyStore(),
    };
    return {
      identityPublic: b64encode(identity.publicKey.serialize()),
      registrationId,
    };
  },

  // importKeys is init with given keys: it discards all state and installs
  // the identity key pair, registration id and prekeys it is handed (keys
  // made by another implementation, e.g. a test vector's responder), so
  // that messages encrypted to those keys can be decrypted here. Every key
  // is checked (private halves against public halves, signatures against
  // the identity key) before anything changes.
  async importKeys(req) {
    const addr = address(req.address, 'address');
    const identityPublic = ecPublic(req.identityPublic, 'identityPublic');
    const identityPrivate = ecPrivate(req.identityPrivate, 'identityPrivate', identityPublic);
    const identity = new IdentityKeyPair(identityPublic, identityPrivate);
    const registrationId = uint(req.registrationId, 'registrationId', { min: 1 });
    const now = Date.now();

    let preKey = null;
    if (req.preKey !== undefined && req.preKey !== null) {
      const pk = obj(req.preKey, 'preKey');
      const id = uint(pk.id, 'preKey.id', { max: 0xffffff });
      const pub = ecPublic(pk.public, 'preKey.public');
      const priv = ecPrivate(pk.private, 'preKey.private', pub);
      preKey = { id, record: PreKeyRecord.new(id, pub, priv) };
    }

    const spk = obj(req.signedPreKey, 'signedPreKey');
    const spkId = uint(spk.id, 'signedPreKey.id', { max: 0xffffff });
    const spkPub = ecPublic(spk.public, 'signedPreKey.public');
    const spkPriv = ecPrivate(spk.private, 'signedPreKey.private', spkPub);
    const spkSig = signature(spk.signature, 'signedPreKey.signature', identityPublic, spkPub.serialize());
    const signedPreKey = { id: spkId, record: SignedPreKeyRecord.new(spkId, now, spkPub, spkPriv, spkSig) };

    const kpk = obj(req.kyberPreKey, 'kyberPreKey');
    const kyberId = uint(kpk.id, 'kyberPreKey.id', { max: 0xffffff });
    const kyberPub = b64decode(kpk.public, 'kyberPreKey.public');
    const kyberSecret = b64decode(kpk.secret, 'kyberPreKey.secret');
    if (kyberPub.length !== 1569 || kyberPub[0] !== 0x08) {
      throw new RequestError('field kyberPreKey.public: expected a 1569-byte Kyber1024 (0x08) public key');
    }
    if (kyberSecret.length !== 3169 || kyberSecret[0] !== 0x08) {
      throw new RequestError('field kyberPreKey.secret: expected a 3169-byte Kyber1024 (0x08) secret key');
    }
    // A Kyber1024 secret key embeds its public key (after the 1536-byte
    // IND-CPA secret): the two must be halves of one key pair.
    if (!Buffer.from(kyberSecret.subarray(1 + 1536, 1 + 1536 + 1568)).equals(Buffer.from(kyberPub.subarray(1)))) {
      throw new RequestError('field kyberPreKey.secret: secret key does not match kyberPreKey.public');
    }
    // Parse both halves on their own first, for precise errors.
    KEMPublicKey.deserialize(kyberPub);
    KEMSecretKey.deserialize(kyberSecret);
    const kyberSig = signature(kpk.signature, 'kyberPreKey.signature', identityPublic, kyberPub);
    const kyberRecord = kyberPreKeyRecord(kyberId, kyberPub, kyberSecret, kyberSig, now);
    if (
      !Buffer.from(kyberRecord.publicKey().serialize()).equals(Buffer.from(kyberPub)) ||
      !Buffer.from(kyberRecord.secretKey().serialize()).equals(Buffer.from(kyberSecret)) ||
      kyberRecord.id() !== kyberId
    ) {
      throw new RequestError('field kyberPreKey: the imported record does not hold these keys');
    }

    const next = {
      address: addr,
      identity,
      registrationId,
      sessions: new MemSessionStore(),
      identities: new MemIdentityStore(identity, registrationId),
      preKeys: new MemPreKeyStore(),
      signedPreKeys: new MemSignedPreKeyStore(),
      kyberPreKeys: new MemKyberPreKeyStore(),
    };
    if (preKey !== null) {
      await next.preKeys.savePreKey(preKey.id, preKey.record);
    }
    await next.signedPreKeys.saveSignedPreKey(signedPreKey.id, signedPreKey.record);
    await next.kyberPreKeys.saveKyberPreKey(kyberId, kyberRecord);
    state = next;
    return {};
  },

  async generatePreKeys(req) {
    const s = requireInit('generatePreKeys');
    const signedPreKeyId = uint(req.signedPreKeyId, 'signedPreKeyId', { max: 0xffffff });
    const kyberPreKeyId = uint(req.kyberPreKeyId, 'kyberPreKeyId', { max: 0xffffff });
    const now = Date.now();
    const identityPriv = s.identity.privateKey;

    const bundle = {
      registrationId: s.registrationId,
      deviceId: s.address.deviceId(),
    };

    if (req.preKeyId !== undefined && req.preKeyId !== null) {
      const preKeyId = uint(req.preKeyId, 'preKeyId', { max: 0xffffff });
      const priv = PrivateKey.generate();
      const pub = priv.getPublicKey();
      await s.preKeys.savePreKey(preKeyId, PreKeyRecord.new(preKeyId, pub, priv));
      bundle.preKeyId = preKeyId;
      bundle.preKeyPublic = b64encode(pub.serialize());
    }

    const spkPriv = PrivateKey.generate();
    const spkPub = spkPriv.getPublicKey();
    const spkSig = identityPriv.sign(spkPub.serialize());
    await s.signedPreKeys.saveSignedPreKey(
      signedPreKeyId,
      SignedPreKeyRecord.new(signedPreKeyId, now, spkPub, spkPriv, spkSig)
    );

    const kyberPair = KEMKeyPair.generate();
    const kyberPub = kyberPair.getPublicKey();
    const kyberSig = identityPriv.sign(kyberPub.serialize());
    await s.kyberPreKeys.saveKyberPreKey(
      kyberPreKeyId,
      KyberPreKeyRecord.new(kyberPreKeyId, now, kyberPair, kyberSig)
    );

    bundle.signedPreKeyId = signedPreKeyId;
    bundle.signedPreKeyPublic = b64encode(spkPub.serialize());
    bundle.signedPreKeySignature = b64encode(spkSig);
    bundle.identityKey = b64encode(s.identity.publicKey.serialize());
    bundle.kyberPreKeyId = kyberPreKeyId;
    bundle.kyberPreKeyPublic = b64encode(kyberPub.serialize());
    bundle.kyberPreKeySignature = b64encode(kyberSig);
    return { bundle };
  },

  async processBundle(req) {
    const s = requireInit('processBundle');
    const remote = address(req.remote, 'remote');
    const b = obj(req.bundle, 'bundle');
    const hasPreKeyId = b.preKeyId !== undefined && b.preKeyId !== null;
    const hasPreKey = b.preKeyPublic !== undefined && b.preKeyPublic !== null;
    if (hasPreKeyId !== hasPreKey) {
      throw new RequestError('bundle: preKeyId and preKeyPublic must be both present or both absent');
    }
    const bundle = PreKeyBundle.new(
      uint(b.registrationId, 'bundle.registrationId'),
      uint(b.deviceId, 'bundle.deviceId', { min: 1, max: 127 }),
      hasPreKeyId ? uint(b.preKeyId, 'bundle.preKeyId') : null,
      hasPreKey ? PublicKey.deserialize(b64decode(b.preKeyPublic, 'bundle.preKeyPublic')) : null,
      uint(b.signedPreKeyId, 'bundle.signedPreKeyId'),
      PublicKey.deserialize(b64decode(b.signedPreKeyPublic, 'bundle.signedPreKeyPublic')),
      b64decode(b.signedPreKeySignature, 'bundle.signedPreKeySignature'),
      PublicKey.deserialize(b64decode(b.identityKey, 'bundle.identityKey')),
      uint(b.kyberPreKeyId, 'bundle.kyberPreKeyId'),
      KEMPublicKey.deserialize(b64decode(b.kyberPreKeyPublic, 'bundle.kyberPreKeyPublic')),
      b64decode(b.kyberPreKeySignature, 'bundle.kyberPreKeySignature')
    );
    await SignalClient.processPreKeyBundle(
      bundle,
      remote,
      s.address,
      s.sessions,
      s.identities,
      new Date()
    );
    return {};
  },

  async encrypt(req) {
    const s = requireInit('encrypt');
    const remote = address(req.remote, 'remote');
    const plaintext = b64decode(req.plaintext, 'plaintext');
    const msg = await SignalClient.signalEncrypt(
      plaintext,
      remote,
      s.address,
      s.sessions,
      s.identities,
      new Date()
    );
    return { type: msg.type(), ciphertext: b64encode(msg.serialize()) };
  },

  async decrypt(req) {
    const s = requireInit('decrypt');
    const remote = address(req.remote, 'remote');
    const type = uint(req.type, 'type');
    const ciphertext = b64decode(req.ciphertext, 'ciphertext');
    let plaintext;
    if (type === CiphertextMessageType.Whisper) {
      plaintext = await SignalClient.signalDecrypt(
        SignalMessage.deserialize(ciphertext),
        remote,
        s.address,
        s.sessions,
        s.identities
      );
    } else if (type === CiphertextMessageType.PreKey) {
      plaintext = await SignalClient.signalDecryptPreKey(
        PreKeySignalMessage.deserialize(ciphertext),
        remote,
        s.address,
        s.sessions,
        s.identities,
        s.preKeys,
        s.signedPreKeys,
        s.kyberPreKeys
      );
    } else {
      throw new RequestError(`unsupported message type ${type} (want 2 or 3)`);
    }
    return { plaintext: b64encode(plaintext) };
  },

  async fingerprint(req) {
    const s = requireInit('fingerprint');
    const fp = Fingerprint.new(
      uint(req.iterations, 'iterations'),
      uint(req.version, 'version'),
      b64decode(req.localId, 'localId'),
      s.identity.publicKey,
      b64decode(req.remoteId, 'remoteId'),
      PublicKey.deserialize(b64decode(req.remoteKey, 'remoteKey'))
    );
    return {
      displayable: fp.displayableFingerprint().toString(),
      scannable: b64encode(fp.scannableFingerprint().toBuffer()),
    };
  },

  async quit(_req) {
    return {};
  },
};

// ---------------------------------------------------------------------------
// Framing

function errorCodeName(err) {
  if (err instanceof LibSignalErrorBase && typeof err.code === 'number') {
    return ErrorCode[err.code];
  }
  return undefined;
}

function writeLine(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

async function handle(line) {
  let req;
  try {
    req = JSON.parse(line);
  } catch (e) {
    return { resp: { id: null, ok: false, error: `bad request: invalid JSON: ${e.message}` } };
  }
  if (req === null || typeof req !== 'object' || Array.isArray(req)) {
    return { resp: { id: null, ok: false, error: 'bad request: not a JSON object' } };
  }
  const id = Number.isInteger(req.id) ? req.id : null;
  if (id === null) {
    return { resp: { id: null, ok: false, error: 'bad request: missing integer id' } };
  }
  const fn = typeof req.op === 'string' && Object.hasOwn(ops, req.op) ? ops[req.op] : undefined;
  if (fn === undefined) {
    return { resp: { id, ok: false, error: `bad request: unknown op ${JSON.stringify(req.op)}` } };
  }
  try {
    const result = await fn(req);
    return { resp: { id, ok: true, ...result }, quit: req.op === 'quit' };
  } catch (e) {
    const message = e instanceof RequestError ? `bad request: ${e.message}` : String(e?.message ?? e);
    const resp = { id, ok: false, error: message };
    const code = errorCodeName(e);
    if (code !== undefined) {
      resp.code = code;
    }
    log(`op ${req.op} (id ${id}) failed:`, e?.stack ?? String(e));
    return { resp };
  }
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });

// Requests are handled strictly one after another, in arrival order.
let chain = Promise.resolve();
let quitting = false;

rl.on('line', (line) => {
  if (line.trim() === '') {
    return;
  }
  chain = chain.then(async () => {
    if (quitting) {
      return;
    }
    const { resp, quit } = await handle(line);
    writeLine(resp);
    if (quit) {
      quitting = true;
      rl.close();
      process.stdout.write('', () => process.exit(0));
    }
  });
});

rl.on('close', () => {
  chain = chain.then(() => {
    if (!quitting) {
      process.exit(0);
    }
  });
});

log(`${IMPLEMENTATION} peer ready`);
