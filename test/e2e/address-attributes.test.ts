/**
 * An Elastic IP's reverse DNS record (`domain-name`) end to end: AWS's own PTR record by default,
 * ModifyAddressAttribute answering the update `PENDING` and the record in effect afterwards,
 * ResetAddressAttribute back to AWS's name, the answer Terraform's aws_eip reads
 * (DescribeAddressesAttribute by one allocation id: exactly that address), pagination and errors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AllocateAddressCommand,
  DescribeAddressesAttributeCommand,
  ModifyAddressAttributeCommand,
  ReleaseAddressCommand,
  ResetAddressAttributeCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';
import { pollUntil } from '../helpers/topology.ts';

const UNKNOWN_ALLOCATION = 'eipalloc-0123456789abcdef0';

describe('Elastic IP address attributes (PTR records)', () => {
  let server: TestServer;
  let ec2: EC2Client;

  before(async () => {
    server = await startTestServer({ quotas: { elasticIpsPerRegion: 50 }, accounts: { AKIDOTHER: '111111111111' } });
    ec2 = server.client();
  });
  after(() => server.stop());

  const allocate = async () => {
    const { AllocationId, PublicIp } = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    return { allocationId: AllocationId!, publicIp: PublicIp! };
  };
  const attributeOf = async (allocationId: string, client = ec2) => {
    const { Addresses } = await client.send(new DescribeAddressesAttributeCommand({ AllocationIds: [allocationId], Attribute: 'domain-name' }));
    assert.equal(Addresses!.length, 1, 'exactly the address asked for');
    return Addresses![0];
  };
  const awsName = (ip: string) => `ec2-${ip.replaceAll('.', '-')}.compute-1.amazonaws.com.`;

  test('a new Elastic IP has AWS\'s own PTR record and no update; Terraform\'s read (one allocation id, domain-name) answers exactly that address', async () => {
    const { allocationId, publicIp } = await allocate();
    assert.deepEqual(await attributeOf(allocationId), { AllocationId: allocationId, PublicIp: publicIp, PtrRecord: awsName(publicIp) });
  });

  test('ModifyAddressAttribute answers the update PENDING with the old record; then the record is the domain name, with its final dot, and the update is gone', async () => {
    const { allocationId, publicIp } = await allocate();
    const { Address } = await ec2.send(new ModifyAddressAttributeCommand({ AllocationId: allocationId, DomainName: 'Mail.Example.com' }));
    assert.deepEqual(Address, {
      AllocationId: allocationId,
      PublicIp: publicIp,
      PtrRecord: awsName(publicIp),
      PtrRecordUpdate: { Value: 'mail.example.com.', Status: 'PENDING' },
    });
    assert.deepEqual(await attributeOf(allocationId), { AllocationId: allocationId, PublicIp: publicIp, PtrRecord: 'mail.example.com.' });
    // A name given with its final dot is the same name.
    await ec2.send(new ModifyAddressAttributeCommand({ AllocationId: allocationId, DomainName: 'smtp.example.org.' }));
    assert.equal((await attributeOf(allocationId)).PtrRecord, 'smtp.example.org.');
  });

  test('ResetAddressAttribute answers an update PENDING back to AWS\'s name, which is then the record', async () => {
    const { allocationId, publicIp } = await allocate();
    await ec2.send(new ModifyAddressAttributeCommand({ AllocationId: allocationId, DomainName: 'reset.example.com' }));
    const { Address } = await ec2.send(new ResetAddressAttributeCommand({ AllocationId: allocationId, Attribute: 'domain-name' }));
    assert.deepEqual(Address, {
      AllocationId: allocationId,
      PublicIp: publicIp,
      PtrRecord: 'reset.example.com.',
      PtrRecordUpdate: { Value: awsName(publicIp), Status: 'PENDING' },
    });
    assert.deepEqual(await attributeOf(allocationId), { AllocationId: allocationId, PublicIp: publicIp, PtrRecord: awsName(publicIp) });
  });

  test('errors: an unknown allocation is InvalidAllocationID.NotFound, a malformed one .Malformed, an invalid domain name InvalidParameterValue, no DomainName MissingParameter, another attribute InvalidParameterValue', async () => {
    const { allocationId, publicIp } = await allocate();
    await expectEc2Error(ec2.send(new DescribeAddressesAttributeCommand({ AllocationIds: [UNKNOWN_ALLOCATION], Attribute: 'domain-name' })), 'InvalidAllocationID.NotFound');
    await expectEc2Error(ec2.send(new DescribeAddressesAttributeCommand({ AllocationIds: ['eipalloc-zz'], Attribute: 'domain-name' })), 'InvalidAllocationID.Malformed');
    await expectEc2Error(ec2.send(new ModifyAddressAttributeCommand({ AllocationId: UNKNOWN_ALLOCATION, DomainName: 'a.example.com' })), 'InvalidAllocationID.NotFound');
    await expectEc2Error(ec2.send(new ResetAddressAttributeCommand({ AllocationId: UNKNOWN_ALLOCATION, Attribute: 'domain-name' })), 'InvalidAllocationID.NotFound');
    for (const bad of ['localhost', 'bad_name.example.com', '-lead.example.com', 'a..example.com', `${'x'.repeat(64)}.example.com`, 'exa mple.com']) {
      await expectEc2Error(ec2.send(new ModifyAddressAttributeCommand({ AllocationId: allocationId, DomainName: bad })), 'InvalidParameterValue');
    }
    // An empty optional string is no value at all (as on AWS): the domain name is missing.
    for (const none of [undefined, '']) {
      await expectEc2Error(ec2.send(new ModifyAddressAttributeCommand({ AllocationId: allocationId, DomainName: none })), 'MissingParameter');
    }
    await expectEc2Error(
      ec2.send(new ResetAddressAttributeCommand({ AllocationId: allocationId, Attribute: 'reverse-dns' as 'domain-name' })),
      'InvalidParameterValue',
    );
    assert.deepEqual(await attributeOf(allocationId), { AllocationId: allocationId, PublicIp: publicIp, PtrRecord: awsName(publicIp) }, 'nothing changed');
  });

  test('without allocation ids every Elastic IP of the caller is listed, paged by MaxResults and NextToken; another account sees none of them', async () => {
    const mine = new Set<string>();
    for (let i = 0; i < 3; i++) mine.add((await allocate()).allocationId);
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await ec2.send(new DescribeAddressesAttributeCommand({ Attribute: 'domain-name', MaxResults: 2, NextToken: token }));
      assert.ok(page.Addresses!.length <= 2);
      seen.push(...page.Addresses!.map((a) => a.AllocationId!));
      token = page.NextToken;
    } while (token);
    assert.equal(new Set(seen).size, seen.length, 'each address once');
    for (const id of mine) assert.ok(seen.includes(id));
    const theirs = server.client({ accessKeyId: 'AKIDOTHER' });
    await expectEc2Error(theirs.send(new DescribeAddressesAttributeCommand({ AllocationIds: [[...mine][0]], Attribute: 'domain-name' })), 'InvalidAllocationID.NotFound');
  });

  test('a released address is gone from the attributes', async () => {
    const { allocationId } = await allocate();
    await ec2.send(new ModifyAddressAttributeCommand({ AllocationId: allocationId, DomainName: 'gone.example.com' }));
    await ec2.send(new ReleaseAddressCommand({ AllocationId: allocationId }));
    await expectEc2Error(ec2.send(new DescribeAddressesAttributeCommand({ AllocationIds: [allocationId], Attribute: 'domain-name' })), 'InvalidAllocationID.NotFound');
  });
});

describe('PTR record updates that take a while (timing ptrRecordUpdateMs)', () => {
  let server: TestServer;
  let ec2: EC2Client;

  before(async () => {
    server = await startTestServer({ timings: { ptrRecordUpdateMs: 1500 } });
    ec2 = server.client();
  });
  after(() => server.stop());

  test('the update stays PENDING in DescribeAddressesAttribute until its time, then the record is the new name', async () => {
    const { AllocationId, PublicIp } = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    await ec2.send(new ModifyAddressAttributeCommand({ AllocationId, DomainName: 'slow.example.com' }));
    const read = async () => (await ec2.send(new DescribeAddressesAttributeCommand({ AllocationIds: [AllocationId!], Attribute: 'domain-name' }))).Addresses![0];
    const pending = await read();
    assert.equal(pending.PtrRecord, `ec2-${PublicIp!.replaceAll('.', '-')}.compute-1.amazonaws.com.`);
    assert.deepEqual(pending.PtrRecordUpdate, { Value: 'slow.example.com.', Status: 'PENDING' });
    const seen = await pollUntil(read, (a) => a.PtrRecordUpdate === undefined, { timeoutMs: 5000 });
    assert.equal(seen[seen.length - 1].PtrRecord, 'slow.example.com.');
  });
});
