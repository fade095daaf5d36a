/**
 * Key pairs: CreateKeyPair, ImportKeyPair, DescribeKeyPairs, DeleteKeyPair, per account and region.
 *
 * AWS: names are unique per account and region, up to 255 ASCII characters; ids are `key-` + 17 hex.
 * Fingerprints follow AWS's documented rules, which differ by origin:
 * - created RSA: SHA-1 of the DER (PKCS#8) private key, colon-separated hex;
 * - imported RSA: MD5 of the DER SubjectPublicKeyInfo, colon-separated hex (what AWS's own
 *   verification recipe, `openssl rsa -pubin -outform DER | openssl md5 -c`, prints);
 * - ED25519, created or imported: base64 SHA-256 of the OpenSSH public key blob, as OpenSSH ≥ 6.8
 *   shows it (no `=` padding).
 * CreateKeyPair returns RSA keys as PKCS#1 PEM and ED25519 keys in the OpenSSH private key format.
 */
import {
  createHash,
  createPublicKey,
  generateKeyPair,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import type {
  CreateKeyPairRequest,
  DeleteKeyPairRequest,
  DeleteKeyPairResult,
  DescribeKeyPairsRequest,
  DescribeKeyPairsResult,
  ImportKeyPairRequest,
  ImportKeyPairResult,
  KeyPair,
  KeyPairInfo,
  KeyType,
} from '@aws-sdk/client-ec2';
import { Errors } from './errors.ts';
import { describeRows, type FilterSpec } from '../store/describe.ts';
import type { Row } from '../store/schema.ts';
import type { Context } from './context.ts';
import { checkIds, newId } from './rules/ids.ts';
import { applyTagSpecifications, checkTagSpecificationTypes, deleteAllTags, tagsOf } from './tags.ts';

const MAX_KEY_NAME = 255;
/**
 * AWS documents imported RSA keys of 1024, 2048 and 4096 bits, and takes 3072 (ssh-keygen's
 * default) too; eni-local accepts the range and refuses keys too weak or too large to be real.
 */
const RSA_BITS = { min: 1024, max: 16384 };
const RSA_CREATE_BITS = 2048;

// --- the OpenSSH wire format (RFC 4251 §5): uint32 lengths, strings, mpints -------------------

function sshString(data: Buffer | string): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function sshUint32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}

/** A non-negative integer as an mpint: big-endian, minimal, with a 0 byte when the top bit is set. */
function sshMpint(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  return sshString(trimmed.length && trimmed[0] & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

/** Reads length-prefixed fields of a blob; undefined once the blob is short or malformed. */
class SshReader {
  private offset = 0;
  constructor(private readonly data: Buffer) {}

  string(): Buffer | undefined {
    if (this.offset + 4 > this.data.length) return undefined;
    const length = this.data.readUInt32BE(this.offset);
    const end = this.offset + 4 + length;
    if (end > this.data.length) return undefined;
    const out = this.data.subarray(this.offset + 4, end);
    this.offset = end;
    return out;
  }

  get done(): boolean {
    return this.offset === this.data.length;
  }
}

// --- public keys ------------------------------------------------------------------------------

export interface SshPublicKey {
  keyType: 'rsa' | 'ed25519';
  /** The OpenSSH wire-format blob: what the base64 of an `authorized_keys` line holds. */
  blob: Buffer;
  key: KeyObject;
}

const toBase64Url = (bytes: Buffer) => bytes.toString('base64url');

/** The key of an OpenSSH blob (`ssh-rsa` or `ssh-ed25519`), or undefined when it is not one. */
export function parseSshBlob(blob: Buffer): SshPublicKey | undefined {
  const reader = new SshReader(blob);
  const type = reader.string()?.toString('latin1');
  try {
    if (type === 'ssh-rsa') {
      const e = reader.string();
      const n = reader.string();
      if (!e || !n || !reader.done || !e.length || !n.length) return undefined;
      const key = createPublicKey({ key: { kty: 'RSA', n: toBase64Url(stripZeros(n)), e: toBase64Url(stripZeros(e)) }, format: 'jwk' });
      return { keyType: 'rsa', blob, key };
    }
    if (type === 'ssh-ed25519') {
      const x = reader.string();
      if (!x || x.length !== 32 || !reader.done) return undefined;
      const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(x) }, format: 'jwk' });
      return { keyType: 'ed25519', blob, key };
    }
  } catch {
    // node:crypto refused the numbers: not a key
  }
  return undefined;
}

function stripZeros(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return bytes.subarray(start);
}

/** The OpenSSH blob of an RSA or Ed25519 public key object; undefined for other algorithms. */
export function sshBlobOf(key: KeyObject): SshPublicKey | undefined {
  const jwk = key.export({ format: 'jwk' });
  if (key.asymmetricKeyType === 'rsa' && jwk.n && jwk.e) {
    const blob = Buffer.concat([
      sshString('ssh-rsa'),
      sshMpint(Buffer.from(jwk.e, 'base64url')),
      sshMpint(Buffer.from(jwk.n, 'base64url')),
    ]);
    return { keyType: 'rsa', blob, key };
  }
  if (key.asymmetricKeyType === 'ed25519' && jwk.x) {
    const blob = Buffer.concat([sshString('ssh-ed25519'), sshString(Buffer.from(jwk.x, 'base64url'))]);
    return { keyType: 'ed25519', blob, key };
  }
  return undefined;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function decodeBase64(text: string): Buffer | undefined {
  const compact = text.replace(/\s+/g, '');
  return compact.length && compact.length % 4 === 0 && BASE64.test(compact) ? Buffer.from(compact, 'base64') : undefined;
}

/** `ssh-rsa AAAA… comment` (the authorized_keys form). */
function fromOpenSshLine(text: string): { key: SshPublicKey; comment?: string } | undefined {
  const [type, body, ...comment] = text.trim().split(/\s+/);
  if (type !== 'ssh-rsa' && type !== 'ssh-ed25519') return undefined;
  const blob = body === undefined ? undefined : decodeBase64(body);
  const key = blob && parseSshBlob(blob);
  if (!key || (type === 'ssh-rsa') !== (key.keyType === 'rsa')) return undefined;
  return { key, comment: comment.length ? comment.join(' ') : undefined };
}

/** The SSH public key file format of RFC 4716: `---- BEGIN SSH2 PUBLIC KEY ----`, headers, base64. */
function fromRfc4716(text: string): SshPublicKey | undefined {
  const lines = text.trim().split(/\r?\n/);
  if (lines[0]?.trim() !== '---- BEGIN SSH2 PUBLIC KEY ----' || lines.at(-1)?.trim() !== '---- END SSH2 PUBLIC KEY ----') return undefined;
  const body: string[] = [];
  let continued = false;
  for (const line of lines.slice(1, -1)) {
    // A header is `Tag: value`; a line ending in `\` continues it on the next line.
    if (continued || /^[^:\s]+:/.test(line)) {
      continued = line.endsWith('\\');
      continue;
    }
    body.push(line.trim());
  }
  const blob = decodeBase64(body.join(''));
  return blob && parseSshBlob(blob);
}

/** A DER SubjectPublicKeyInfo, raw or in a `-----BEGIN PUBLIC KEY-----` PEM. */
function fromSubjectPublicKeyInfo(data: Buffer | string): SshPublicKey | undefined {
  try {
    const key =
      typeof data === 'string'
        ? createPublicKey({ key: data, format: 'pem' })
        : createPublicKey({ key: data, format: 'der', type: 'spki' });
    return sshBlobOf(key);
  } catch {
    return undefined;
  }
}

export interface ImportedKey {
  key: SshPublicKey;
  /** The authorized_keys line to give back as PublicKey. */
  publicKeyLine: string;
}

/**
 * The public key of an ImportKeyPair call. AWS: PublicKeyMaterial is base64 on the wire (the SDKs
 * encode it) and holds an OpenSSH public key, an RFC 4716 SSH2 key or a base64 DER key; RSA and
 * ED25519 only. A plain `ssh-rsa …` line is accepted too, as clients that skip the encoding send.
 */
export function parseImportedPublicKey(material: string): ImportedKey | undefined {
  const decoded = decodeBase64(material);
  // The material as sent and, when it is base64, decoded once: every form is tried on both.
  const texts = decoded ? [material, decoded.toString('latin1')] : [material];
  for (const text of texts) {
    const imported = fromText(text);
    if (imported) return imported;
  }
  return undefined;
}

function fromText(text: string): ImportedKey | undefined {
  const line = fromOpenSshLine(text);
  if (line) return { key: line.key, publicKeyLine: openSshLine(line.key, line.comment) };
  const der = decodeBase64(text);
  const key =
    fromRfc4716(text) ??
    (text.includes('-----BEGIN PUBLIC KEY-----') ? fromSubjectPublicKeyInfo(text) : undefined) ??
    (der ? fromSubjectPublicKeyInfo(der) : undefined);
  return key && { key, publicKeyLine: openSshLine(key) };
}

export function openSshLine(key: SshPublicKey, comment?: string): string {
  const type = key.keyType === 'rsa' ? 'ssh-rsa' : 'ssh-ed25519';
  return `${type} ${key.blob.toString('base64')}${comment ? ` ${comment}` : ''}`;
}

// --- fingerprints -----------------------------------------------------------------------------

const colonHex = (digest: Buffer) => [...digest].map((b) => b.toString(16).padStart(2, '0')).join(':');

/** AWS: a created RSA key's fingerprint is the SHA-1 of its DER PKCS#8 private key. */
export function createdRsaFingerprint(privateKey: KeyObject): string {
  return colonHex(createHash('sha1').update(privateKey.export({ type: 'pkcs8', format: 'der' })).digest());
}

/** AWS: an imported RSA key's fingerprint is the MD5 of its DER SubjectPublicKeyInfo. */
export function importedRsaFingerprint(publicKey: KeyObject): string {
  return colonHex(createHash('md5').update(publicKey.export({ type: 'spki', format: 'der' })).digest());
}

/** AWS: ED25519 fingerprints are OpenSSH's: base64 SHA-256 of the public key blob, unpadded. */
export function ed25519Fingerprint(blob: Buffer): string {
  return createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

// --- key generation ---------------------------------------------------------------------------

interface GeneratedKey {
  keyMaterial: string;
  fingerprint: string;
  publicKeyLine: string;
}

function generate(type: 'rsa' | 'ed25519'): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, publicKey: KeyObject, privateKey: KeyObject) =>
      error ? reject(error) : resolve({ publicKey, privateKey });
    if (type === 'rsa') generateKeyPair('rsa', { modulusLength: RSA_CREATE_BITS, publicExponent: 0x10001 }, done);
    else generateKeyPair('ed25519', {}, done);
  });
}

async function generateRsa(keyName: string): Promise<GeneratedKey> {
  const { publicKey, privateKey } = await generate('rsa');
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  return {
    keyMaterial: pem.trimEnd(),
    fingerprint: createdRsaFingerprint(privateKey),
    publicKeyLine: openSshLine(sshBlobOf(publicKey)!, keyName),
  };
}

const wrap = (text: string, width: number) => text.match(new RegExp(`.{1,${width}}`, 'g'))!.join('\n');

/**
 * The OpenSSH private key container (PROTOCOL.key in OpenSSH): magic, cipher and KDF "none",
 * one public key, and the private section (check integers, key type, public key, the 64-byte
 * seed‖public private key, comment, padding to the 8-byte block), base64 wrapped at 70 columns.
 */
export function openSshPrivateKey(seed: Buffer, publicKey: Buffer, comment: string): string {
  const publicBlob = Buffer.concat([sshString('ssh-ed25519'), sshString(publicKey)]);
  const check = randomBytes(4);
  let section = Buffer.concat([
    check,
    check,
    sshString('ssh-ed25519'),
    sshString(publicKey),
    sshString(Buffer.concat([seed, publicKey])),
    sshString(comment),
  ]);
  const padding = Buffer.from(Array.from({ length: (8 - (section.length % 8)) % 8 }, (_, i) => i + 1));
  section = Buffer.concat([section, padding]);
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    sshUint32(1),
    sshString(publicBlob),
    sshString(section),
  ]);
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${wrap(body.toString('base64'), 70)}\n-----END OPENSSH PRIVATE KEY-----`;
}

async function generateEd25519(keyName: string): Promise<GeneratedKey> {
  const { publicKey, privateKey } = await generate('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d!, 'base64url');
  const ssh = sshBlobOf(publicKey)!;
  return {
    keyMaterial: openSshPrivateKey(seed, Buffer.from(jwk.x!, 'base64url'), keyName),
    fingerprint: ed25519Fingerprint(ssh.blob),
    publicKeyLine: openSshLine(ssh, keyName),
  };
}

// --- the actions ------------------------------------------------------------------------------

const KEY_PAIR_FILTERS: FilterSpec = {
  'key-pair-id': { column: 'id' },
  'key-name': { column: 'key_name' },
  fingerprint: { column: 'key_fingerprint' },
  'key-type': { column: 'key_type' },
};

/** AWS: a key name is 1–255 ASCII characters. */
function checkKeyName(name: string | undefined): string {
  if (name === undefined || name === '') throw Errors.missingParameter('KeyName');
  // eslint-disable-next-line no-control-regex
  if (!/^[\x00-\x7f]*$/.test(name)) {
    throw Errors.invalidParameterValueFor('KeyName', name, 'Character sets beyond ASCII are not supported.');
  }
  if (name.length > MAX_KEY_NAME) {
    throw Errors.invalidParameterValueFor('KeyName', name, `Length exceeds maximum of ${MAX_KEY_NAME}.`);
  }
  return name;
}

async function findByName(ctx: Context, keyName: string): Promise<Row<'key_pairs'> | undefined> {
  return ctx.tx
    .selectFrom('key_pairs')
    .selectAll()
    .where('account_id', '=', ctx.account)
    .where('region', '=', ctx.region)
    .where('key_name', '=', keyName)
    .executeTakeFirst();
}

/** Whether the caller has a key pair of this name in the region (RunInstances' KeyName rule). */
export async function keyPairExists(ctx: Context, keyName: string): Promise<boolean> {
  return (await findByName(ctx, keyName)) !== undefined;
}

async function checkNameFree(ctx: Context, keyName: string): Promise<void> {
  if (await keyPairExists(ctx, keyName)) throw Errors.invalidKeyPairDuplicate(keyName);
}

async function insertKeyPair(
  ctx: Context,
  pair: { keyName: string; keyType: KeyType; fingerprint: string; publicKeyLine: string },
): Promise<string> {
  const id = newId('key');
  await ctx.tx
    .insertInto('key_pairs')
    .values({
      id,
      account_id: ctx.account,
      region: ctx.region,
      key_name: pair.keyName,
      key_type: pair.keyType,
      key_fingerprint: pair.fingerprint,
      public_key: pair.publicKeyLine,
      created_at: ctx.now.toISOString(),
    })
    .execute();
  return id;
}

export async function createKeyPair(ctx: Context, input: CreateKeyPairRequest): Promise<KeyPair> {
  checkTagSpecificationTypes(input.TagSpecifications, ['key-pair']);
  const keyName = checkKeyName(input.KeyName);
  // PuTTY's ppk container is not produced here; AWS's default, pem, is.
  if (input.KeyFormat === 'ppk') {
    throw Errors.invalidParameterValueFor('KeyFormat', 'ppk', 'eni-local supports the pem key format only.');
  }
  const keyType: KeyType = input.KeyType ?? 'rsa';
  await checkNameFree(ctx, keyName);
  const generated = keyType === 'ed25519' ? await generateEd25519(keyName) : await generateRsa(keyName);
  const id = await insertKeyPair(ctx, { keyName, keyType, fingerprint: generated.fingerprint, publicKeyLine: generated.publicKeyLine });
  await applyTagSpecifications(ctx, 'key-pair', id, input.TagSpecifications);
  return {
    KeyPairId: id,
    KeyName: keyName,
    KeyFingerprint: generated.fingerprint,
    KeyMaterial: generated.keyMaterial,
    Tags: (await tagsOf(ctx.tx, [id])).get(id) ?? [],
  };
}

function importedKeyOf(material: string | Uint8Array | undefined): ImportedKey {
  const text = typeof material === 'string' ? material : material === undefined ? '' : Buffer.from(material).toString('latin1');
  const imported = parseImportedPublicKey(text);
  if (!imported) throw Errors.invalidKeyFormat('Key is not in valid OpenSSH public key format');
  if (imported.key.keyType === 'rsa') {
    const bits = imported.key.key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < RSA_BITS.min || bits > RSA_BITS.max) {
      throw Errors.invalidKeyFormat(`Invalid RSA key length ${bits}; supported lengths are ${RSA_BITS.min} to ${RSA_BITS.max} bits.`);
    }
  }
  return imported;
}

export async function importKeyPair(ctx: Context, input: ImportKeyPairRequest): Promise<ImportKeyPairResult> {
  checkTagSpecificationTypes(input.TagSpecifications, ['key-pair']);
  const keyName = checkKeyName(input.KeyName);
  // The decoder hands blobs over as the raw parameter text; the SDK type says Uint8Array.
  const imported = importedKeyOf(input.PublicKeyMaterial as string | Uint8Array | undefined);
  await checkNameFree(ctx, keyName);
  const { keyType, key, blob } = imported.key;
  const fingerprint = keyType === 'rsa' ? importedRsaFingerprint(key) : ed25519Fingerprint(blob);
  const id = await insertKeyPair(ctx, { keyName, keyType, fingerprint, publicKeyLine: imported.publicKeyLine });
  await applyTagSpecifications(ctx, 'key-pair', id, input.TagSpecifications);
  return { KeyPairId: id, KeyName: keyName, KeyFingerprint: fingerprint, Tags: (await tagsOf(ctx.tx, [id])).get(id) ?? [] };
}

/** AWS: every name asked for must exist in the caller's region, whatever the filters say. */
async function checkNamesExist(ctx: Context, names: readonly string[]): Promise<void> {
  const rows = await ctx.tx
    .selectFrom('key_pairs')
    .select('key_name')
    .where('account_id', '=', ctx.account)
    .where('region', '=', ctx.region)
    .where('key_name', 'in', [...names])
    .execute();
  const found = new Set(rows.map((r) => r.key_name));
  const missing = names.find((n) => !found.has(n));
  if (missing !== undefined) throw Errors.invalidKeyPairNotFound(missing);
}

export async function describeKeyPairs(ctx: Context, input: DescribeKeyPairsRequest): Promise<DescribeKeyPairsResult> {
  checkIds('key', Errors.keyPairId, input.KeyPairIds ?? []);
  const names = input.KeyNames ?? [];
  if (names.length) await checkNamesExist(ctx, names);
  const page = await describeRows<Row<'key_pairs'>>(ctx.tx, {
    table: 'key_pairs',
    account: ctx.account,
    region: ctx.region,
    ids: input.KeyPairIds,
    idErrors: Errors.keyPairId,
    filters: input.Filters,
    spec: KEY_PAIR_FILTERS,
    taggable: true,
  });
  const rows = names.length ? page.rows.filter((r) => names.includes(r.key_name)) : page.rows;
  const tags = await tagsOf(ctx.tx, rows.map((r) => r.id));
  const keyPairs: KeyPairInfo[] = rows.map((r) => ({
    KeyPairId: r.id,
    KeyName: r.key_name,
    KeyFingerprint: r.key_fingerprint,
    KeyType: r.key_type as KeyType,
    Tags: tags.get(r.id) ?? [],
    CreateTime: new Date(r.created_at),
    PublicKey: input.IncludePublicKey ? (r.public_key ?? undefined) : undefined,
  }));
  return { KeyPairs: keyPairs };
}

async function findForDelete(ctx: Context, input: DeleteKeyPairRequest): Promise<Row<'key_pairs'> | undefined> {
  if (input.KeyPairId !== undefined) {
    checkIds('key', Errors.keyPairId, [input.KeyPairId]);
    return ctx.tx
      .selectFrom('key_pairs')
      .selectAll()
      .where('account_id', '=', ctx.account)
      .where('region', '=', ctx.region)
      .where('id', '=', input.KeyPairId)
      .executeTakeFirst();
  }
  if (input.KeyName === undefined || input.KeyName === '') throw Errors.missingParameter('KeyName or KeyPairId');
  return findByName(ctx, input.KeyName);
}

/** AWS: deleting a key pair that does not exist succeeds; instances launched with it keep its name. */
export async function deleteKeyPair(ctx: Context, input: DeleteKeyPairRequest): Promise<DeleteKeyPairResult> {
  const row = await findForDelete(ctx, input);
  if (!row) return { Return: true };
  await ctx.tx.deleteFrom('key_pairs').where('id', '=', row.id).execute();
  await deleteAllTags(ctx, row.id);
  return { Return: true, KeyPairId: row.id };
}
