import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { test } from 'node:test';
import {
  ed25519Fingerprint,
  importedRsaFingerprint,
  openSshPrivateKey,
  parseImportedPublicKey,
  parseSshBlob,
  sshBlobOf,
} from '../../src/cloud/key-pairs.ts';

/** Reads OpenSSH wire fields, written here apart from the module under test. */
function fields(data: Buffer) {
  let offset = 0;
  return {
    string(): Buffer {
      const length = data.readUInt32BE(offset);
      const out = data.subarray(offset + 4, offset + 4 + length);
      offset += 4 + length;
      return out;
    },
    uint32(): number {
      const value = data.readUInt32BE(offset);
      offset += 4;
      return value;
    },
    rest: () => data.subarray(offset),
  };
}

const ed25519 = () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  return { publicKey, privateKey, seed: Buffer.from(jwk.d!, 'base64url'), x: Buffer.from(jwk.x!, 'base64url') };
};

test('an Ed25519 key round-trips through its OpenSSH blob', () => {
  const { publicKey, x } = ed25519();
  const ssh = sshBlobOf(publicKey)!;
  const r = fields(ssh.blob);
  assert.equal(r.string().toString(), 'ssh-ed25519');
  assert.deepEqual(r.string(), x);
  const parsed = parseSshBlob(ssh.blob)!;
  assert.equal(parsed.keyType, 'ed25519');
  assert.deepEqual(parsed.key.export({ format: 'jwk' }), publicKey.export({ format: 'jwk' }));
});

test('an RSA blob holds e and n as mpints, with a zero byte before a set top bit', () => {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const r = fields(sshBlobOf(publicKey)!.blob);
  assert.equal(r.string().toString(), 'ssh-rsa');
  assert.deepEqual(r.string(), Buffer.from([0x01, 0x00, 0x01]));
  const n = r.string();
  assert.equal(n[0], 0, 'a 2048-bit modulus has its top bit set, so the mpint starts with 0');
  assert.equal(n.length, 257);
  assert.equal(r.rest().length, 0);
});

test('blobs with trailing bytes, a wrong key length or an unknown type are refused', () => {
  const { publicKey } = ed25519();
  const blob = sshBlobOf(publicKey)!.blob;
  assert.equal(parseSshBlob(Buffer.concat([blob, Buffer.from([0])])), undefined);
  assert.equal(parseSshBlob(blob.subarray(0, blob.length - 1)), undefined);
  assert.equal(parseSshBlob(Buffer.from('0000000b7373682d647373000000', 'hex')), undefined);
  assert.equal(parseSshBlob(Buffer.alloc(0)), undefined);
});

test('imported material: OpenSSH line, base64 of it, RFC 4716, PEM and base64 DER all give one key', () => {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const blob = sshBlobOf(publicKey)!.blob.toString('base64');
  const line = `ssh-rsa ${blob} alice@example`;
  const rfc4716 = [
    '---- BEGIN SSH2 PUBLIC KEY ----',
    'Comment: "2048-bit RSA, converted by alice@example from \\',
    'OpenSSH"',
    ...blob.match(/.{1,70}/g)!,
    '---- END SSH2 PUBLIC KEY ----',
  ].join('\n');
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const der = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const expected = importedRsaFingerprint(publicKey);
  for (const material of [line, Buffer.from(line).toString('base64'), rfc4716, Buffer.from(rfc4716).toString('base64'), pem, der, Buffer.from(der).toString('base64')]) {
    const imported = parseImportedPublicKey(material);
    assert.ok(imported, `parses ${material.slice(0, 30)}…`);
    assert.equal(imported.key.keyType, 'rsa');
    assert.equal(importedRsaFingerprint(imported.key.key), expected);
  }
  assert.equal(parseImportedPublicKey(line)!.publicKeyLine, line, 'the comment is kept');
  assert.equal(parseImportedPublicKey(der)!.publicKeyLine, `ssh-rsa ${blob}`);
});

test('imported material that is not an RSA or Ed25519 public key is refused', () => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { privateKey } = generateKeyPairSync('ed25519');
  for (const material of [
    '',
    'hello',
    'ssh-rsa',
    'ssh-dss AAAAB3NzaC1kc3MAAACBAP',
    publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  ]) {
    assert.equal(parseImportedPublicKey(material), undefined, material.slice(0, 30));
  }
  // an ssh-rsa label on an Ed25519 blob is a lie
  const ed = sshBlobOf(generateKeyPairSync('ed25519').publicKey)!.blob.toString('base64');
  assert.equal(parseImportedPublicKey(`ssh-rsa ${ed}`), undefined);
});

test('the Ed25519 fingerprint is OpenSSH\'s SHA256 form without padding', () => {
  // An all-zero key: `ssh-keygen -l -E sha256` prints SHA256:kmYcvdi2GkPeWxB6XLjrZB8JHsy2Hm8luHMFp9GMvqk for it.
  const blob = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'base64');
  assert.equal(ed25519Fingerprint(blob), 'kmYcvdi2GkPeWxB6XLjrZB8JHsy2Hm8luHMFp9GMvqk');
});

test('the OpenSSH private key container holds the seed, the public key and padding as PROTOCOL.key says', () => {
  const { publicKey, seed, x } = ed25519();
  const pem = openSshPrivateKey(seed, x, 'my-key');
  const lines = pem.split('\n');
  assert.equal(lines[0], '-----BEGIN OPENSSH PRIVATE KEY-----');
  assert.equal(lines.at(-1), '-----END OPENSSH PRIVATE KEY-----');
  assert.ok(lines.slice(1, -1).every((l) => l.length <= 70));
  const body = Buffer.from(lines.slice(1, -1).join(''), 'base64');
  const magic = 'openssh-key-v1\0';
  assert.equal(body.subarray(0, magic.length).toString('latin1'), magic);
  const r = fields(body.subarray(magic.length));
  assert.equal(r.string().toString(), 'none');
  assert.equal(r.string().toString(), 'none');
  assert.equal(r.string().length, 0);
  assert.equal(r.uint32(), 1);
  const publicBlob = r.string();
  assert.deepEqual(publicBlob, sshBlobOf(publicKey)!.blob);
  const section = r.string();
  assert.equal(r.rest().length, 0);
  assert.equal(section.length % 8, 0);
  const s = fields(section);
  assert.equal(s.uint32(), s.uint32(), 'the two check integers match');
  assert.equal(s.string().toString(), 'ssh-ed25519');
  assert.deepEqual(s.string(), x);
  const secret = s.string();
  assert.deepEqual(secret, Buffer.concat([seed, x]));
  assert.equal(s.string().toString(), 'my-key');
  const padding = s.rest();
  assert.deepEqual([...padding], Array.from({ length: padding.length }, (_, i) => i + 1));
  // The seed inside signs for the public key outside.
  const restored = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: secret.subarray(0, 32).toString('base64url'), x: x.toString('base64url') }, format: 'jwk' });
  const message = Buffer.from('eni-local');
  assert.ok(verify(null, message, createPublicKey(restored), sign(null, message, restored)));
  assert.ok(verify(null, message, publicKey, sign(null, message, restored)));
});
