/**
 * Nothing acknowledged is lost, nothing half-applied survives: the server runs as a child
 * process on a SQLite file, a concurrent mix of creates, attaches, detaches, assigns and
 * deletes runs against it, and it is killed with SIGKILL at random moments, several times.
 * After each restart every acknowledged create is present, nothing acknowledged as deleted is
 * back, and the invariant checker finds nothing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  AssignPrivateIpAddressesCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteNetworkInterfaceCommand,
  DescribeNetworkInterfacesCommand,
  DetachNetworkInterfaceCommand,
  RunInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { checkInvariants } from '../../src/check.ts';
import { openStore } from '../../src/store/index.ts';
import { spawnServer, type ServerProcess } from '../helpers/process.ts';
import { ec2Client } from '../helpers/server.ts';

const CYCLES = 4;

describe('crash durability (SQLite, SIGKILL)', () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'eni-local-crash-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test('acknowledged changes survive SIGKILL at random moments; the state stays consistent', async () => {
    const created = new Set<string>();
    const deleted = new Set<string>();
    // A delete whose answer the crash swallowed may or may not have happened.
    const deleting = new Set<string>();
    let subnetId = '';
    let instanceIds: string[] = [];

    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const server: ServerProcess = await spawnServer(['--port', '0', '--data-dir', dataDir, '--log-level', 'error']);
      const ec2: EC2Client = ec2Client(server.url);
      try {
        if (cycle === 0) {
          const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!;
          subnetId = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: '10.0.0.0/20', AvailabilityZone: 'us-east-1a' }))).Subnet!.SubnetId!;
          instanceIds = (await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 4, MaxCount: 4, InstanceType: 'm5.large', SubnetId: subnetId }))).Instances!.map((i) => i.InstanceId!);
        } else {
          // Everything acknowledged before the last crash is there; nothing deleted came back.
          const present = new Set(((await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'subnet-id', Values: [subnetId] }] }))).NetworkInterfaces ?? []).map((n) => n.NetworkInterfaceId!));
          for (const id of created) if (!deleting.has(id)) assert.ok(present.has(id), `acknowledged ${id} lost in cycle ${cycle}`);
          for (const id of deleted) assert.ok(!present.has(id), `deleted ${id} came back in cycle ${cycle}`);
        }
        // A concurrent mix, interrupted by SIGKILL at a random moment.
        let stop = false;
        const worker = async (n: number) => {
          while (!stop) {
            try {
              const eni = (await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, Description: `cycle ${cycle} worker ${n}` }))).NetworkInterface!;
              created.add(eni.NetworkInterfaceId!);
              await ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, SecondaryPrivateIpAddressCount: 1 }));
              const attachment = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: instanceIds[n % instanceIds.length], DeviceIndex: 1 + (n % 2) })).catch(() => undefined);
              if (attachment) await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: attachment.AttachmentId }));
              if (n % 2 === 0) {
                deleting.add(eni.NetworkInterfaceId!);
                await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId }));
                deleted.add(eni.NetworkInterfaceId!);
              }
            } catch {
              return; // the server died under us
            }
          }
        };
        const workers = Array.from({ length: 6 }, (_, n) => worker(n));
        await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * 700));
        stop = true;
        await server.stop('SIGKILL');
        await Promise.all(workers);
      } finally {
        ec2.destroy();
      }
      const store = await openStore({ database: `sqlite:${path.join(dataDir, 'eni-local.sqlite')}`, dataDir });
      try {
        assert.deepEqual(await checkInvariants(store), [], `invariants after crash ${cycle}`);
      } finally {
        await store.close();
      }
    }
    assert.ok(created.size > 0, 'the workload created interfaces');
  });
});
