import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateKeyPairCommand,
  CreateTagsCommand,
  DeleteKeyPairCommand,
  DescribeImagesCommand,
  DescribeInstanceTypesCommand,
  DescribeKeyPairsCommand,
  ImportKeyPairCommand,
  paginateDescribeImages,
  paginateDescribeInstanceTypes,
  type _InstanceType,
  type DescribeKeyPairsCommandInput,
  type EC2Client,
  type Filter,
} from '@aws-sdk/client-ec2';
import { instanceTypes } from '../../src/cloud/rules/instance-types.ts';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';

/** ssh-keygen checks keys independently of our code; the cases that need it say so when it is absent. */
const SSH_KEYGEN = (() => {
  try {
    execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // ssh-keygen exits non-zero on -?, but it ran
    return (error as { code?: string }).code !== 'ENOENT';
  }
})();
const NO_SSH_KEYGEN = SSH_KEYGEN ? false : 'ssh-keygen is not installed';

const colonHex = (digest: Buffer) => digest.toString('hex').match(/../g)!.join(':');

/** An OpenSSH string field: uint32 length, bytes. Written here apart from the server's code. */
const sshField = (bytes: Buffer) => {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
};

describe('the launch catalogue', () => {
  let server: TestServer;
  let ec2: EC2Client;
  let work: string;
  before(async () => {
    server = await startTestServer({ accounts: { AKIDOTHER: '111111111111' } });
    ec2 = server.client();
    work = mkdtempSync(path.join(tmpdir(), 'eni-local-keys-'));
  });
  after(async () => {
    rmSync(work, { recursive: true, force: true });
    await server.stop();
  });

  describe('DescribeInstanceTypes', () => {
    const allTypes = async (Filters: Filter[]) => {
      const names: string[] = [];
      for await (const page of paginateDescribeInstanceTypes({ client: ec2, pageSize: 100 }, { Filters })) {
        names.push(...page.InstanceTypes!.map((t) => t.InstanceType!));
      }
      return names;
    };

    test('m5.large and t2.micro show their network limits and AWS-shaped details', async () => {
      const { InstanceTypes } = await ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: ['t2.micro', 'm5.large'] }));
      const [m5, t2] = InstanceTypes!;
      assert.equal(m5.InstanceType, 'm5.large');
      assert.equal(m5.NetworkInfo!.MaximumNetworkInterfaces, 3);
      assert.equal(m5.NetworkInfo!.Ipv4AddressesPerInterface, 10);
      assert.equal(m5.NetworkInfo!.Ipv6AddressesPerInterface, 10);
      assert.equal(m5.NetworkInfo!.Ipv6Supported, true);
      assert.equal(m5.NetworkInfo!.EnaSupport, 'required');
      assert.equal(m5.NetworkInfo!.EfaSupported, false);
      assert.equal(m5.NetworkInfo!.MaximumNetworkCards, 1);
      assert.equal(m5.NetworkInfo!.DefaultNetworkCardIndex, 0);
      assert.deepEqual(m5.NetworkInfo!.NetworkCards, [{ NetworkCardIndex: 0, MaximumNetworkInterfaces: 3 }]);
      assert.equal(m5.Hypervisor, 'nitro');
      assert.equal(m5.VCpuInfo!.DefaultVCpus, 2);
      assert.equal(m5.MemoryInfo!.SizeInMiB, 8192);
      assert.deepEqual(m5.ProcessorInfo!.SupportedArchitectures, ['x86_64']);
      assert.deepEqual(m5.SupportedUsageClasses, ['on-demand', 'spot']);
      assert.deepEqual(m5.SupportedRootDeviceTypes, ['ebs']);
      assert.deepEqual(m5.SupportedVirtualizationTypes, ['hvm']);
      assert.equal(m5.BareMetal, false);
      assert.equal(t2.InstanceType, 't2.micro');
      assert.equal(t2.NetworkInfo!.MaximumNetworkInterfaces, 2);
      assert.equal(t2.NetworkInfo!.Ipv4AddressesPerInterface, 2);
      assert.equal(t2.NetworkInfo!.EnaSupport, 'unsupported');
      assert.equal(t2.Hypervisor, 'xen');
      assert.equal(t2.BurstablePerformanceSupported, true);
    });

    test('Graviton families are arm64, the rest x86_64', async () => {
      const { InstanceTypes } = await ec2.send(
        new DescribeInstanceTypesCommand({ InstanceTypes: ['t4g.micro', 'c7gn.large', 'a1.large', 'g5g.xlarge', 'g4dn.xlarge', 'c6i.large'] }),
      );
      const arch = Object.fromEntries(InstanceTypes!.map((t) => [t.InstanceType, t.ProcessorInfo!.SupportedArchitectures]));
      assert.deepEqual(arch, {
        'a1.large': ['arm64'],
        'c6i.large': ['x86_64'],
        'c7gn.large': ['arm64'],
        'g4dn.xlarge': ['x86_64'],
        'g5g.xlarge': ['arm64'],
        't4g.micro': ['arm64'],
      });
    });

    test('multi-card types list each network card', async () => {
      const { InstanceTypes } = await ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: ['p5.48xlarge'] }));
      const info = InstanceTypes![0].NetworkInfo!;
      assert.equal(info.MaximumNetworkCards, 32);
      assert.equal(info.NetworkCards!.length, 32);
      assert.deepEqual(info.NetworkCards![31], { NetworkCardIndex: 31, MaximumNetworkInterfaces: 2 });
    });

    test('unknown instance types fail the call with InvalidInstanceType naming them all', async () => {
      const error = await expectEc2Error(
        ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: ['m5.large', 'm5.huge', 'x9.tiny'] as _InstanceType[] })),
        'InvalidInstanceType',
        400,
      );
      assert.equal(error.message, 'The following supplied instance types do not exist: [m5.huge, x9.tiny]');
    });

    test('filter network-info.maximum-network-interfaces=15 returns exactly the types with 15', async () => {
      const names = await allTypes([{ Name: 'network-info.maximum-network-interfaces', Values: ['15'] }]);
      const expected = [...instanceTypes().values()].filter((t) => t.maxNetworkInterfaces === 15).map((t) => t.name);
      assert.ok(expected.length > 100, 'the case spans several pages');
      assert.deepEqual(names.sort(), expected.sort());
    });

    test('instance-type takes wildcards; filters AND together; values OR', async () => {
      const t3 = await allTypes([{ Name: 'instance-type', Values: ['t3.*'] }]);
      assert.deepEqual(t3.sort(), [...instanceTypes().keys()].filter((n) => n.startsWith('t3.')).sort());
      const small = await allTypes([
        { Name: 'instance-type', Values: ['t3.*', 't3a.*'] },
        { Name: 'vcpu-info.default-vcpus', Values: ['2'] },
        { Name: 'memory-info.size-in-mib', Values: ['1024', '2048'] },
      ]);
      assert.deepEqual(small.sort(), ['t3.micro', 't3.small', 't3a.micro', 't3a.small']);
      const v6 = await allTypes([
        { Name: 'network-info.ipv6-supported', Values: ['false'] },
        { Name: 'network-info.ipv6-addresses-per-interface', Values: ['0'] },
      ]);
      assert.ok(v6.length > 0 && v6.every((n) => instanceTypes().get(n)!.ipv6Supported === false));
      const cards = await allTypes([{ Name: 'network-info.maximum-network-cards', Values: ['32'] }]);
      assert.ok(cards.includes('p5.48xlarge'));
      const ipv4 = await allTypes([{ Name: 'network-info.ipv4-addresses-per-interface', Values: ['50'] }]);
      assert.ok(ipv4.length > 0 && ipv4.every((n) => instanceTypes().get(n)!.ipv4AddressesPerInterface === 50));
    });

    test('current-generation, free-tier-eligible, hypervisor and bare-metal filters follow the table', async () => {
      const table = [...instanceTypes().values()];
      const free = await allTypes([{ Name: 'free-tier-eligible', Values: ['true'] }]);
      assert.deepEqual(free.sort(), table.filter((t) => t.freeTierEligible).map((t) => t.name).sort());
      const metal = await allTypes([{ Name: 'bare-metal', Values: ['true'] }]);
      assert.deepEqual(metal.sort(), table.filter((t) => t.bareMetal).map((t) => t.name).sort());
      const xen = await allTypes([{ Name: 'hypervisor', Values: ['xen'] }, { Name: 'current-generation', Values: ['true'] }]);
      assert.deepEqual(xen.sort(), table.filter((t) => t.hypervisor === 'xen' && t.currentGeneration).map((t) => t.name).sort());
      const arm = await allTypes([{ Name: 'processor-info.supported-architecture', Values: ['arm64'] }, { Name: 'instance-type', Values: ['t4g.*'] }]);
      assert.equal(arm.length, table.filter((t) => t.name.startsWith('t4g.')).length);
    });

    test('an unknown filter is InvalidParameterValue', async () => {
      await expectEc2Error(ec2.send(new DescribeInstanceTypesCommand({ Filters: [{ Name: 'colour', Values: ['red'] }] })), 'InvalidParameterValue');
    });

    test('paging with MaxResults 100 visits every type exactly once', async () => {
      const seen: string[] = [];
      let pages = 0;
      for await (const page of paginateDescribeInstanceTypes({ client: ec2, pageSize: 100 }, {})) {
        pages++;
        assert.ok(page.InstanceTypes!.length <= 100);
        seen.push(...page.InstanceTypes!.map((t) => t.InstanceType!));
      }
      assert.equal(seen.length, instanceTypes().size);
      assert.equal(new Set(seen).size, instanceTypes().size);
      assert.equal(pages, Math.ceil(instanceTypes().size / 100));
    });

    test('without MaxResults AWS still pages by 100; bad tokens and sizes are refused', async () => {
      const first = await ec2.send(new DescribeInstanceTypesCommand({}));
      assert.equal(first.InstanceTypes!.length, 100);
      assert.ok(first.NextToken);
      const second = await ec2.send(new DescribeInstanceTypesCommand({ NextToken: first.NextToken }));
      assert.ok(second.InstanceTypes![0].InstanceType! > first.InstanceTypes![99].InstanceType!);
      const few = await ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: ['t2.micro', 't3.micro'] }));
      assert.equal(few.NextToken, undefined);
      await expectEc2Error(ec2.send(new DescribeInstanceTypesCommand({ NextToken: 'garbage' })), 'InvalidNextToken');
      await expectEc2Error(ec2.send(new DescribeInstanceTypesCommand({ MaxResults: 4 })), 'InvalidParameterValue');
      await expectEc2Error(ec2.send(new DescribeInstanceTypesCommand({ MaxResults: 101 })), 'InvalidParameterValue');
    });
  });

  describe('DescribeImages', () => {
    test('owners amazon + a name pattern finds Amazon Linux 2023 releases; the newest is the latest build', async () => {
      const { Images } = await ec2.send(
        new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['al2023-ami-2023*-x86_64'] }] }),
      );
      assert.equal(Images!.length, 2);
      for (const image of Images!) {
        assert.match(image.ImageId!, /^ami-[0-9a-f]{17}$/);
        assert.equal(image.OwnerId, '137112412989');
        assert.equal(image.ImageOwnerAlias, 'amazon');
        assert.equal(image.Architecture, 'x86_64');
        assert.equal(image.State, 'available');
        assert.equal(image.Public, true);
        assert.equal(image.ImageType, 'machine');
        assert.equal(image.RootDeviceType, 'ebs');
        assert.equal(image.RootDeviceName, '/dev/xvda');
        assert.equal(image.VirtualizationType, 'hvm');
        assert.equal(image.Hypervisor, 'xen');
        assert.equal(image.EnaSupport, true);
        assert.equal(image.PlatformDetails, 'Linux/UNIX');
        assert.equal(image.UsageOperation, 'RunInstances');
        assert.equal(image.BlockDeviceMappings![0].DeviceName, '/dev/xvda');
        assert.match(image.BlockDeviceMappings![0].Ebs!.SnapshotId!, /^snap-[0-9a-f]{17}$/);
      }
      const newest = [...Images!].sort((a, b) => b.CreationDate!.localeCompare(a.CreationDate!))[0];
      assert.equal(newest.Name, 'al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64');
      assert.equal(newest.Description, 'Amazon Linux 2023 AMI 2023.6.20241212.0 x86_64 HVM kernel-6.1');
    });

    test('ids are stable per region and differ between regions', async () => {
      const ids = async (region: string) =>
        ((await server.client({ region }).send(new DescribeImagesCommand({}))).Images ?? []).map((i) => `${i.Name}=${i.ImageId}`).sort();
      const east = await ids('us-east-1');
      assert.deepEqual(await ids('us-east-1'), east);
      const west = await ids('eu-west-1');
      assert.equal(west.length, east.length);
      assert.ok(west.every((w) => !east.includes(w)));
    });

    test('Ubuntu images are Canonical\'s, without an owner alias, on /dev/sda1', async () => {
      const { Images } = await ec2.send(new DescribeImagesCommand({ Owners: ['099720109477'] }));
      assert.deepEqual(
        Images!.map((i) => i.Name).sort(),
        [
          'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20241210',
          'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-20241210',
          'ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20241206',
          'ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-arm64-server-20241206',
        ],
      );
      assert.ok(Images!.every((i) => i.ImageOwnerAlias === undefined && i.RootDeviceName === '/dev/sda1'));
      const amazon = await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
      assert.ok(amazon.Images!.length > 0 && amazon.Images!.every((i) => i.OwnerId === '137112412989'));
    });

    test('ImageIds: known ids are described, unknown ones NotFound, bad ones Malformed', async () => {
      const all = (await ec2.send(new DescribeImagesCommand({}))).Images!;
      const one = all[3];
      const byId = await ec2.send(new DescribeImagesCommand({ ImageIds: [one.ImageId!] }));
      assert.deepEqual(byId.Images, [one]);
      const missing = await expectEc2Error(
        ec2.send(new DescribeImagesCommand({ ImageIds: [one.ImageId!, 'ami-0123456789abcdef0'] })),
        'InvalidAMIID.NotFound',
      );
      assert.match(missing.message, /'\[ami-0123456789abcdef0\]' does not exist/);
      await expectEc2Error(ec2.send(new DescribeImagesCommand({ ImageIds: ['ami-12345678'] })), 'InvalidAMIID.NotFound');
      await expectEc2Error(ec2.send(new DescribeImagesCommand({ ImageIds: ['ami-xyz'] })), 'InvalidAMIID.Malformed');
      await expectEc2Error(ec2.send(new DescribeImagesCommand({ ImageIds: ['vol-0123456789abcdef0'] })), 'InvalidAMIID.Malformed');
    });

    test('Owners self and aws-marketplace own nothing here; an unknown alias is InvalidUserID.Malformed', async () => {
      assert.deepEqual((await ec2.send(new DescribeImagesCommand({ Owners: ['self'] }))).Images, []);
      assert.deepEqual((await ec2.send(new DescribeImagesCommand({ Owners: ['aws-marketplace'] }))).Images, []);
      assert.deepEqual((await ec2.send(new DescribeImagesCommand({ Owners: ['000000000000'] }))).Images, []);
      await expectEc2Error(ec2.send(new DescribeImagesCommand({ Owners: ['everyone'] })), 'InvalidUserID.Malformed');
    });

    test('ExecutableBy all lists the public images; self lists none', async () => {
      const all = (await ec2.send(new DescribeImagesCommand({}))).Images!;
      assert.equal((await ec2.send(new DescribeImagesCommand({ ExecutableUsers: ['all'] }))).Images!.length, all.length);
      assert.deepEqual((await ec2.send(new DescribeImagesCommand({ ExecutableUsers: ['self'] }))).Images, []);
    });

    test('filters: architecture, owner-alias, root-device-name, is-public, description, tags', async () => {
      const names = async (Filters: Filter[]) =>
        ((await ec2.send(new DescribeImagesCommand({ Filters }))).Images ?? []).map((i) => i.Name!).sort();
      const arm = await names([{ Name: 'architecture', Values: ['arm64'] }, { Name: 'owner-id', Values: ['099720109477'] }]);
      assert.deepEqual(arm, [
        'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-20241210',
        'ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-arm64-server-20241206',
      ]);
      const al2 = await names([{ Name: 'owner-alias', Values: ['amazon'] }, { Name: 'description', Values: ['Amazon Linux 2 *'] }]);
      assert.equal(al2.length, 2);
      assert.ok(al2.every((n) => n.startsWith('amzn2-ami-kernel-5.10-hvm-')));
      assert.equal((await names([{ Name: 'root-device-name', Values: ['/dev/sda1'] }])).length, 4);
      assert.equal((await names([{ Name: 'is-public', Values: ['false'] }])).length, 0);
      assert.equal((await names([{ Name: 'state', Values: ['available'] }, { Name: 'image-type', Values: ['machine'] }])).length, 11);
      assert.deepEqual(await names([{ Name: 'tag:Name', Values: ['*'] }]), []);
      await expectEc2Error(ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'colour', Values: ['x'] }] })), 'InvalidParameterValue');
    });

    test('MaxResults pages through every image once; out of range is InvalidParameterValue', async () => {
      const total = (await ec2.send(new DescribeImagesCommand({}))).Images!.length;
      const seen: string[] = [];
      for await (const page of paginateDescribeImages({ client: ec2, pageSize: 5 }, {})) {
        assert.ok(page.Images!.length <= 5);
        seen.push(...page.Images!.map((i) => i.ImageId!));
      }
      assert.equal(seen.length, total);
      assert.equal(new Set(seen).size, total);
      await expectEc2Error(ec2.send(new DescribeImagesCommand({ MaxResults: 4 })), 'InvalidParameterValue');
      await expectEc2Error(ec2.send(new DescribeImagesCommand({ MaxResults: 1001 })), 'InvalidParameterValue');
      await expectEc2Error(ec2.send(new DescribeImagesCommand({ MaxResults: 5, NextToken: '!!' })), 'InvalidNextToken');
    });
  });

  describe('key pairs', () => {
    const describeByName = async (client: EC2Client, name: string, IncludePublicKey = false) =>
      (await client.send(new DescribeKeyPairsCommand({ KeyNames: [name], IncludePublicKey }))).KeyPairs![0];

    test('CreateKeyPair makes a 2048-bit RSA key: PKCS#1 PEM, fingerprint SHA-1 of the PKCS#8 DER', async () => {
      const created = await ec2.send(
        new CreateKeyPairCommand({ KeyName: 'rsa-one', TagSpecifications: [{ ResourceType: 'key-pair', Tags: [{ Key: 'team', Value: 'blue' }] }] }),
      );
      assert.match(created.KeyPairId!, /^key-[0-9a-f]{17}$/);
      assert.equal(created.KeyName, 'rsa-one');
      assert.deepEqual(created.Tags, [{ Key: 'team', Value: 'blue' }]);
      assert.match(created.KeyMaterial!, /^-----BEGIN RSA PRIVATE KEY-----\n[\s\S]+\n-----END RSA PRIVATE KEY-----$/);
      const privateKey = createPrivateKey(created.KeyMaterial!);
      assert.equal(privateKey.asymmetricKeyType, 'rsa');
      assert.equal(privateKey.asymmetricKeyDetails!.modulusLength, 2048);
      const expected = colonHex(createHash('sha1').update(privateKey.export({ type: 'pkcs8', format: 'der' })).digest());
      assert.equal(created.KeyFingerprint, expected);

      const described = await describeByName(ec2, 'rsa-one', true);
      assert.equal(described.KeyPairId, created.KeyPairId);
      assert.equal(described.KeyFingerprint, expected);
      assert.equal(described.KeyType, 'rsa');
      assert.ok(described.CreateTime instanceof Date);
      assert.deepEqual(described.Tags, [{ Key: 'team', Value: 'blue' }]);
      assert.match(described.PublicKey!, /^ssh-rsa AAAA[0-9A-Za-z+/=]+ rsa-one$/);
      assert.equal((await describeByName(ec2, 'rsa-one')).PublicKey, undefined, 'the public key only when asked');
    });

    test('the public key of a created RSA pair is the private key\'s (checked with ssh-keygen)', { skip: NO_SSH_KEYGEN }, async () => {
      const created = await ec2.send(new CreateKeyPairCommand({ KeyName: 'rsa-check' }));
      const described = await describeByName(ec2, 'rsa-check', true);
      const file = path.join(work, 'rsa-check.pub');
      writeFileSync(file, `${described.PublicKey}\n`);
      const spki = execFileSync('ssh-keygen', ['-e', '-m', 'PKCS8', '-f', file], { encoding: 'utf8' });
      const expected = createPublicKey(createPrivateKey(created.KeyMaterial!)).export({ type: 'spki', format: 'pem' }).toString();
      assert.equal(spki.trim(), expected.trim());
    });

    test('CreateKeyPair with KeyType ed25519 gives an OpenSSH private key ssh-keygen reads', { skip: NO_SSH_KEYGEN }, async () => {
      const created = await ec2.send(new CreateKeyPairCommand({ KeyName: 'ed-one', KeyType: 'ed25519' }));
      assert.match(created.KeyMaterial!, /^-----BEGIN OPENSSH PRIVATE KEY-----\n[\s\S]+\n-----END OPENSSH PRIVATE KEY-----$/);
      const file = path.join(work, 'ed-one');
      writeFileSync(file, `${created.KeyMaterial}\n`, { mode: 0o600 });
      const publicLine = execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' }).trim();
      const described = await describeByName(ec2, 'ed-one', true);
      assert.equal(described.KeyType, 'ed25519');
      assert.equal(described.PublicKey!.split(' ').slice(0, 2).join(' '), publicLine.split(' ').slice(0, 2).join(' '));
      const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', file], { encoding: 'utf8' });
      assert.equal(fingerprint.split(' ')[1], `SHA256:${created.KeyFingerprint}`);
    });

    test('CreateKeyPair ed25519 fingerprint is the unpadded base64 SHA-256 of the public key blob', async () => {
      const created = await ec2.send(new CreateKeyPairCommand({ KeyName: 'ed-two', KeyType: 'ed25519' }));
      const line = (await describeByName(ec2, 'ed-two', true)).PublicKey!;
      const blob = Buffer.from(line.split(' ')[1], 'base64');
      assert.equal(created.KeyFingerprint, createHash('sha256').update(blob).digest('base64').replace(/=+$/, ''));
      assert.match(created.KeyFingerprint!, /^[A-Za-z0-9+/]{43}$/);
    });

    test('ImportKeyPair takes an ssh-ed25519 key made with node:crypto', async () => {
      const { publicKey } = generateKeyPairSync('ed25519');
      const x = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
      const blob = Buffer.concat([sshField(Buffer.from('ssh-ed25519')), sshField(x)]);
      const line = `ssh-ed25519 ${blob.toString('base64')} me@laptop`;
      const imported = await ec2.send(new ImportKeyPairCommand({ KeyName: 'imported-ed', PublicKeyMaterial: Buffer.from(line) }));
      assert.match(imported.KeyPairId!, /^key-[0-9a-f]{17}$/);
      assert.equal(imported.KeyFingerprint, createHash('sha256').update(blob).digest('base64').replace(/=+$/, ''));
      const described = await describeByName(ec2, 'imported-ed', true);
      assert.equal(described.KeyType, 'ed25519');
      assert.equal(described.PublicKey, line);
    });

    test('ImportKeyPair RSA fingerprints are the MD5 of the DER public key, whatever the format', async () => {
      const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const der = publicKey.export({ type: 'spki', format: 'der' });
      const expected = colonHex(createHash('md5').update(der).digest());
      // Base64-encoded DER, one of AWS's three documented formats.
      const fromDer = await ec2.send(new ImportKeyPairCommand({ KeyName: 'imported-der', PublicKeyMaterial: Buffer.from(der.toString('base64')) }));
      assert.equal(fromDer.KeyFingerprint, expected);
      assert.equal((await describeByName(ec2, 'imported-der')).KeyType, 'rsa');
      // The OpenSSH line, built here from the JWK numbers (mpints: big-endian, leading 0 when the top bit is set).
      const jwk = publicKey.export({ format: 'jwk' });
      const mpint = (b64: string) => {
        const bytes = Buffer.from(b64, 'base64url');
        return sshField(bytes[0] & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
      };
      const blob = Buffer.concat([sshField(Buffer.from('ssh-rsa')), mpint(jwk.e!), mpint(jwk.n!)]);
      const fromLine = await ec2.send(
        new ImportKeyPairCommand({ KeyName: 'imported-line', PublicKeyMaterial: Buffer.from(`ssh-rsa ${blob.toString('base64')}`) }),
      );
      assert.equal(fromLine.KeyFingerprint, expected);
    });

    test('ImportKeyPair of an ssh-keygen RSA key matches openssl\'s MD5 of its DER form', { skip: NO_SSH_KEYGEN }, async () => {
      const file = path.join(work, 'keygen-rsa');
      execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '3072', '-N', '', '-C', 'ci@host', '-f', file]);
      const line = execFileSync('cat', [`${file}.pub`], { encoding: 'utf8' }).trim();
      const spki = execFileSync('ssh-keygen', ['-e', '-m', 'PKCS8', '-f', `${file}.pub`], { encoding: 'utf8' });
      const expected = colonHex(createHash('md5').update(createPublicKey(spki).export({ type: 'spki', format: 'der' })).digest());
      const imported = await ec2.send(new ImportKeyPairCommand({ KeyName: 'keygen-rsa', PublicKeyMaterial: Buffer.from(line) }));
      assert.equal(imported.KeyFingerprint, expected);
      assert.equal((await describeByName(ec2, 'keygen-rsa', true)).PublicKey, line);
    });

    test('material that is no RSA or ED25519 public key is InvalidKey.Format', async () => {
      const bad = async (material: string) =>
        expectEc2Error(ec2.send(new ImportKeyPairCommand({ KeyName: 'bad-key', PublicKeyMaterial: Buffer.from(material) })), 'InvalidKey.Format');
      await bad('not a key');
      await bad('ssh-rsa AAAA');
      await bad('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==');
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      await bad(publicKey.export({ type: 'spki', format: 'der' }).toString('base64'));
      const { publicKey: small } = generateKeyPairSync('rsa', { modulusLength: 512 });
      await bad(small.export({ type: 'spki', format: 'der' }).toString('base64'));
      await expectEc2Error(ec2.send(new DescribeKeyPairsCommand({ KeyNames: ['bad-key'] })), 'InvalidKeyPair.NotFound');
    });

    test('a name already used is InvalidKeyPair.Duplicate, for create and import alike', async () => {
      await ec2.send(new CreateKeyPairCommand({ KeyName: 'dup', KeyType: 'ed25519' }));
      await expectEc2Error(ec2.send(new CreateKeyPairCommand({ KeyName: 'dup' })), 'InvalidKeyPair.Duplicate');
      const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const der = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
      await expectEc2Error(ec2.send(new ImportKeyPairCommand({ KeyName: 'dup', PublicKeyMaterial: Buffer.from(der) })), 'InvalidKeyPair.Duplicate');
      assert.equal((await ec2.send(new DescribeKeyPairsCommand({ Filters: [{ Name: 'key-name', Values: ['dup'] }] }))).KeyPairs!.length, 1);
    });

    test('key names are 1 to 255 ASCII characters; ppk and foreign tag types are refused', async () => {
      await expectEc2Error(ec2.send(new CreateKeyPairCommand({ KeyName: 'clé' })), 'InvalidParameterValue');
      await expectEc2Error(ec2.send(new CreateKeyPairCommand({ KeyName: 'k'.repeat(256) })), 'InvalidParameterValue');
      const longest = await ec2.send(new CreateKeyPairCommand({ KeyName: 'k'.repeat(255), KeyType: 'ed25519' }));
      assert.equal(longest.KeyName!.length, 255);
      await expectEc2Error(ec2.send(new CreateKeyPairCommand({ KeyName: 'putty', KeyFormat: 'ppk' })), 'InvalidParameterValue');
      await expectEc2Error(
        ec2.send(new CreateKeyPairCommand({ KeyName: 'tagged', TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'a', Value: 'b' }] }] })),
        'InvalidParameterValue',
      );
      await expectEc2Error(ec2.send(new DescribeKeyPairsCommand({ KeyNames: ['putty'] })), 'InvalidKeyPair.NotFound');
    });

    test('DescribeKeyPairs by name, id and filters; unknown names and ids are NotFound', async () => {
      const a = await ec2.send(
        new CreateKeyPairCommand({ KeyName: 'desc-a', TagSpecifications: [{ ResourceType: 'key-pair', Tags: [{ Key: 'env', Value: 'ci' }] }] }),
      );
      const b = await ec2.send(new CreateKeyPairCommand({ KeyName: 'desc-b', KeyType: 'ed25519' }));
      const names = async (input: DescribeKeyPairsCommandInput) =>
        ((await ec2.send(new DescribeKeyPairsCommand(input))).KeyPairs ?? []).map((k) => k.KeyName).sort();
      assert.deepEqual(await names({ KeyNames: ['desc-b', 'desc-a'] }), ['desc-a', 'desc-b']);
      assert.deepEqual(await names({ KeyPairIds: [b.KeyPairId!] }), ['desc-b']);
      assert.deepEqual(await names({ Filters: [{ Name: 'key-name', Values: ['desc-*'] }] }), ['desc-a', 'desc-b']);
      assert.deepEqual(await names({ Filters: [{ Name: 'key-pair-id', Values: [a.KeyPairId!] }] }), ['desc-a']);
      assert.deepEqual(await names({ Filters: [{ Name: 'fingerprint', Values: [b.KeyFingerprint!] }] }), ['desc-b']);
      assert.deepEqual(await names({ Filters: [{ Name: 'key-type', Values: ['ed25519'] }, { Name: 'key-name', Values: ['desc-*'] }] }), ['desc-b']);
      assert.deepEqual(await names({ Filters: [{ Name: 'tag:env', Values: ['ci'] }] }), ['desc-a']);
      assert.deepEqual(await names({ Filters: [{ Name: 'tag-key', Values: ['env'] }] }), ['desc-a']);
      assert.deepEqual(await names({ KeyNames: ['desc-a'], Filters: [{ Name: 'key-type', Values: ['ed25519'] }] }), []);
      await ec2.send(new CreateTagsCommand({ Resources: [b.KeyPairId!], Tags: [{ Key: 'env', Value: 'prod' }] }));
      assert.deepEqual(await names({ Filters: [{ Name: 'tag:env', Values: ['prod'] }] }), ['desc-b']);

      const missing = await expectEc2Error(ec2.send(new DescribeKeyPairsCommand({ KeyNames: ['desc-a', 'nope'] })), 'InvalidKeyPair.NotFound');
      assert.equal(missing.message, "The key pair 'nope' does not exist");
      await expectEc2Error(ec2.send(new DescribeKeyPairsCommand({ KeyPairIds: ['key-0123456789abcdef0'] })), 'InvalidKeyPair.NotFound');
      await expectEc2Error(ec2.send(new DescribeKeyPairsCommand({ KeyPairIds: ['key-zz'] })), 'InvalidKeyPair.Malformed');
      await expectEc2Error(ec2.send(new DescribeKeyPairsCommand({ Filters: [{ Name: 'colour', Values: ['x'] }] })), 'InvalidParameterValue');
    });

    test('DeleteKeyPair by name or id; deleting what does not exist succeeds, as on AWS', async () => {
      const a = await ec2.send(new CreateKeyPairCommand({ KeyName: 'del-a', KeyType: 'ed25519' }));
      const b = await ec2.send(new CreateKeyPairCommand({ KeyName: 'del-b', KeyType: 'ed25519' }));
      const byName = await ec2.send(new DeleteKeyPairCommand({ KeyName: 'del-a' }));
      assert.equal(byName.Return, true);
      assert.equal(byName.KeyPairId, a.KeyPairId);
      await expectEc2Error(ec2.send(new DescribeKeyPairsCommand({ KeyNames: ['del-a'] })), 'InvalidKeyPair.NotFound');
      const byId = await ec2.send(new DeleteKeyPairCommand({ KeyPairId: b.KeyPairId }));
      assert.equal(byId.KeyPairId, b.KeyPairId);
      await expectEc2Error(ec2.send(new DescribeKeyPairsCommand({ KeyPairIds: [b.KeyPairId!] })), 'InvalidKeyPair.NotFound');
      assert.equal((await ec2.send(new DeleteKeyPairCommand({ KeyName: 'del-a' }))).Return, true);
      assert.equal((await ec2.send(new DeleteKeyPairCommand({ KeyName: 'never-existed' }))).Return, true);
      await expectEc2Error(ec2.send(new DeleteKeyPairCommand({ KeyPairId: 'key-nope' })), 'InvalidKeyPair.Malformed');
      await expectEc2Error(ec2.send(new DeleteKeyPairCommand({})), 'MissingParameter');
      // The name is free again.
      await ec2.send(new CreateKeyPairCommand({ KeyName: 'del-a', KeyType: 'ed25519' }));
    });

    test('DryRun creates nothing and still validates', async () => {
      await expectEc2Error(ec2.send(new CreateKeyPairCommand({ KeyName: 'dry', KeyType: 'ed25519', DryRun: true })), 'DryRunOperation', 412);
      await expectEc2Error(ec2.send(new DescribeKeyPairsCommand({ KeyNames: ['dry'] })), 'InvalidKeyPair.NotFound');
      await expectEc2Error(ec2.send(new CreateKeyPairCommand({ KeyName: 'dry', KeyFormat: 'ppk', DryRun: true })), 'InvalidParameterValue');
    });

    test('key pairs belong to one account and one region', async () => {
      const mine = await ec2.send(new CreateKeyPairCommand({ KeyName: 'scoped', KeyType: 'ed25519' }));
      const other = server.client({ accessKeyId: 'AKIDOTHER' });
      await expectEc2Error(other.send(new DescribeKeyPairsCommand({ KeyNames: ['scoped'] })), 'InvalidKeyPair.NotFound');
      await expectEc2Error(other.send(new DescribeKeyPairsCommand({ KeyPairIds: [mine.KeyPairId!] })), 'InvalidKeyPair.NotFound');
      // Their DeleteKeyPair of my name or id is a no-op success that leaves mine in place.
      assert.equal((await other.send(new DeleteKeyPairCommand({ KeyPairId: mine.KeyPairId }))).KeyPairId, undefined);
      await other.send(new DeleteKeyPairCommand({ KeyName: 'scoped' }));
      assert.equal((await describeByName(ec2, 'scoped')).KeyPairId, mine.KeyPairId);
      const theirs = await other.send(new CreateKeyPairCommand({ KeyName: 'scoped', KeyType: 'ed25519' }));
      assert.notEqual(theirs.KeyPairId, mine.KeyPairId);
      assert.ok(!(await ec2.send(new DescribeKeyPairsCommand({}))).KeyPairs!.some((k) => k.KeyPairId === theirs.KeyPairId));
      const elsewhere = server.client({ region: 'eu-west-1' });
      await expectEc2Error(elsewhere.send(new DescribeKeyPairsCommand({ KeyNames: ['scoped'] })), 'InvalidKeyPair.NotFound');
      await elsewhere.send(new CreateKeyPairCommand({ KeyName: 'scoped', KeyType: 'ed25519' }));
    });
  });
});
