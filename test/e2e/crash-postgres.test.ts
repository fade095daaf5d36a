/**
 * Crash durability with two nodes on one PostgreSQL database: both serve a concurrent mix of
 * creates, assigns, attaches, detaches and deletes; one of them is killed with SIGKILL at a random
 * moment while the other keeps serving, and the clients of the killed node carry on against the
 * survivor (repeating what the crash left unanswered, as a client behind a load balancer does);
 * then the killed node is started again. After every cycle, seen from the node that has just
 * restarted: every acknowledged create is there, nothing acknowledged as deleted is back, no
 * ClientToken made two interfaces, and the invariant checker finds nothing.
 * Runs under `npm run test:postgres`; skipped (with the reason) on the other stores. The SQLite
 * crash test is crash.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from '../helpers/suite.ts';
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
  type NetworkInterface,
} from '@aws-sdk/client-ec2';
import { checkInvariants } from '../../src/check.ts';
import type { Store } from '../../src/store/index.ts';
import { openPostgresStore } from '../../src/store/postgres.ts';
import { createTestDatabase, postgresSkipReason, postgresTestUrl, type TestDatabase } from '../helpers/postgres.ts';
import { spawnServer, type ServerProcess } from '../helpers/process.ts';
import { ec2Client } from '../helpers/server.ts';

const skip = postgresSkipReason();
const CYCLES = 4;
const WORKERS = 6;
const INSTANCES = 4;
/** How long a call may keep failing to reach any node before the test gives up. */
const UNREACHABLE_MS = 15_000;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An error that never reached an EC2 answer: the connection was refused, reset or cut. */
const isTransportError = (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === undefined;
const codeOf = (e: unknown) => (e as Error).name;

/** One eni-local process on the shared database, restartable; its clients follow its address. */
class Node {
  up = false;
  starts = 0;
  private process?: ServerProcess;
  private clients = new Map<number, EC2Client>();
  constructor(
    readonly name: string,
    private readonly databaseUrl: string,
    private readonly dataDir: string,
  ) {}

  async start(): Promise<void> {
    this.process = await spawnServer(['--port', '0', '--data-dir', this.dataDir, '--database', this.databaseUrl, '--log-level', 'error']);
    this.starts++;
    this.up = true;
  }

  /** SIGKILL: no shutdown, the open connections (to clients and to PostgreSQL) just vanish. */
  async kill(): Promise<void> {
    this.up = false;
    await this.process?.stop('SIGKILL');
    this.dropClients();
  }

  async stop(): Promise<void> {
    this.up = false;
    await this.process?.stop('SIGTERM');
    this.dropClients();
  }

  /** A client of this incarnation of the node, one per caller. */
  client(caller: number): EC2Client {
    let c = this.clients.get(caller);
    if (!c) this.clients.set(caller, (c = ec2Client(this.process!.url)));
    return c;
  }

  private dropClients() {
    for (const c of this.clients.values()) c.destroy();
    this.clients.clear();
  }
}

describe('crash durability: two nodes on one PostgreSQL database, one SIGKILLed at a time', { skip }, () => {
  let database: TestDatabase;
  let dataDir: string;
  let nodes: Node[] = [];
  let checker: Store;

  before(async () => {
    database = await createTestDatabase(postgresTestUrl()!);
    dataDir = mkdtempSync(path.join(tmpdir(), 'eni-local-crash-pg-'));
    nodes = ['a', 'b'].map((name) => new Node(name, database.url, path.join(dataDir, name)));
    await Promise.all(nodes.map((n) => n.start()));
    checker = await openPostgresStore({ url: database.url, poolSize: 2 });
  });

  after(async () => {
    await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
    await checker?.close();
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test('acknowledged changes survive a node killed at random moments; the survivor serves; the state stays consistent', async (t) => {
    /** Acknowledged creates: interface id → the ClientToken that made it. */
    const created = new Map<string, string>();
    /** Deletes acknowledged (by the node that ran them, or by the survivor answering NotFound after a lost answer). */
    const deleted = new Set<string>();
    /** Deletes sent (acknowledged or not): the interface may or may not be there. */
    const deleting = new Set<string>();
    /** EC2 errors no step allows, and 5xx answers: each one a bug. */
    const unexpected: string[] = [];
    const stats = { calls: 0, lost: 0, lostButDone: 0, failedOver: 0, iterations: 0 };

    // The topology, made through node a.
    const setup = nodes[0].client(-1);
    const vpcId = (await setup.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!.VpcId!;
    const subnetId = (await setup.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.0.0.0/20', AvailabilityZone: 'us-east-1a' }))).Subnet!.SubnetId!;
    const instanceIds = (
      await setup.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: INSTANCES, MaxCount: INSTANCES, InstanceType: 'm5.large', SubnetId: subnetId }))
    ).Instances!.map((i) => i.InstanceId!);

    let stop = false;

    /**
     * Sends through the worker's node, or the other one while it is down. An answer that a crash
     * swallowed is repeated on a live node; `ifLost`, when given, first finds out (through a live
     * node) whether the lost call took effect, and if so what to answer instead.
     */
    async function call<T>(worker: number, send: (c: EC2Client) => Promise<T>, ifLost?: () => Promise<T | undefined>): Promise<T> {
      const since = Date.now();
      let lost = false;
      for (;;) {
        const home = nodes[worker % 2];
        const node = home.up ? home : nodes.find((n) => n.up);
        if (!node) {
          await pause(20);
        } else {
          if (node !== home) stats.failedOver++;
          try {
            if (lost && ifLost) {
              const settled = await ifLost();
              if (settled !== undefined) {
                stats.lostButDone++;
                return settled;
              }
            }
            stats.calls++;
            return await send(node.client(worker));
          } catch (error) {
            if (!isTransportError(error)) throw error;
            stats.lost++;
            lost = true;
            await pause(20);
          }
        }
        if (Date.now() - since > UNREACHABLE_MS) throw new Error(`worker ${worker}: no node answered for ${UNREACHABLE_MS} ms`);
      }
    }

    const describeOne = async (worker: number, id: string): Promise<NetworkInterface | undefined> => {
      try {
        return (await call(worker, (c) => c.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] })))).NetworkInterfaces![0];
      } catch (error) {
        if (codeOf(error) === 'InvalidNetworkInterfaceID.NotFound') return undefined;
        throw error;
      }
    };

    /** Runs one step; an EC2 refusal in `allowed` is an answer, any other is recorded as a bug. */
    async function step<T>(worker: number, what: string, run: () => Promise<T>, allowed: string[] = []): Promise<T | undefined> {
      try {
        return await run();
      } catch (error) {
        if (isTransportError(error) && (error as Error).message.includes('no node answered')) throw error;
        if (!allowed.includes(codeOf(error))) unexpected.push(`worker ${worker} ${what}: ${codeOf(error)}: ${(error as Error).message}`);
        return undefined;
      }
    }

    const worker = async (w: number) => {
      for (let k = 0; !stop; k++) {
        stats.iterations++;
        const token = `w${w}-${k}`;
        // ClientToken: repeating a create whose answer was lost returns the first call's interface.
        const eni = await step(w, 'create', () =>
          call(w, (c) => c.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, ClientToken: token, Description: token }))),
        );
        if (!eni) continue;
        const id = eni.NetworkInterface!.NetworkInterfaceId!;
        created.set(id, token);

        await step(w, 'assign', () =>
          call(
            w,
            (c) => c.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: id, SecondaryPrivateIpAddressCount: 1 })),
            async () => ((await describeOne(w, id))!.PrivateIpAddresses!.length > 1 ? {} : undefined),
          ),
        );

        // Workers share instances and slots: a taken slot or a full instance is a fair refusal.
        const attached = await step(
          w,
          'attach',
          () =>
            call<{ AttachmentId?: string }>(
              w,
              (c) => c.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: id, InstanceId: instanceIds[w % INSTANCES], DeviceIndex: 1 + (w % 2) })),
              async () => {
                const now = await describeOne(w, id);
                return now?.Attachment ? { AttachmentId: now.Attachment.AttachmentId } : undefined;
              },
            ),
          ['InvalidParameterValue', 'AttachmentLimitExceeded'],
        );
        if (attached?.AttachmentId) {
          await step(w, 'detach', () =>
            call(
              w,
              (c) => c.send(new DetachNetworkInterfaceCommand({ AttachmentId: attached.AttachmentId })),
              async () => ((await describeOne(w, id))?.Attachment?.AttachmentId === attached.AttachmentId ? undefined : {}),
            ),
          );
        }

        if (k % 2 === 0) {
          deleting.add(id);
          const done = await step(w, 'delete', () =>
            call(
              w,
              (c) => c.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: id })),
              async () => ((await describeOne(w, id)) ? undefined : {}),
            ),
          );
          if (done) deleted.add(id);
        }
      }
    };

    /** Checks, through `node`, what every acknowledged change promises; the workers may be running. */
    async function verify(node: Node, when: string) {
      const createdBefore = [...created.keys()];
      const deletedBefore = [...deleted];
      const present = (await node.client(-2).send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'subnet-id', Values: [subnetId] }] }))).NetworkInterfaces!;
      const ids = new Set(present.map((n) => n.NetworkInterfaceId!));
      // Read after the describe: a delete started while it ran may already have taken its interface.
      const deletingNow = new Set(deleting);
      for (const id of createdBefore) if (!deletingNow.has(id)) assert.ok(ids.has(id), `acknowledged ${id} (${created.get(id)}) lost ${when}`);
      for (const id of deletedBefore) assert.ok(!ids.has(id), `deleted ${id} came back ${when}`);
      const byToken = new Map<string, string[]>();
      for (const n of present) if (n.Description?.startsWith('w')) byToken.set(n.Description, [...(byToken.get(n.Description) ?? []), n.NetworkInterfaceId!]);
      for (const [token, enis] of byToken) assert.equal(enis.length, 1, `ClientToken ${token} made ${enis.join(', ')} ${when}`);
      assert.deepEqual(await checkInvariants(checker), [], `invariants ${when}`);
    }

    const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
    const started = performance.now();
    try {
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        await pause(300 + Math.random() * 700);
        const victim = nodes[Math.random() < 0.5 ? 0 : 1];
        const before = stats.calls;
        await victim.kill();
        // The survivor alone for a while, and while the victim starts again.
        await pause(200 + Math.random() * 300);
        await victim.start();
        const aloneCalls = stats.calls - before;
        t.diagnostic(`cycle ${cycle}: killed node ${victim.name}; ${aloneCalls} calls meanwhile; so far ${created.size} created, ${deleted.size} deleted, ${stats.lost} answers lost`);
        assert.ok(aloneCalls > 0, `the survivor kept serving in cycle ${cycle}`);
        await verify(victim, `after restarting node ${victim.name} in cycle ${cycle}`);
      }
    } finally {
      stop = true;
      await Promise.allSettled(workers);
    }
    for (const w of await Promise.allSettled(workers)) if (w.status === 'rejected') throw w.reason;
    for (const node of nodes) await verify(node, `at the end, through node ${node.name}`);

    t.diagnostic(
      `${CYCLES} cycles in ${((performance.now() - started) / 1000).toFixed(1)} s: ${stats.iterations} iterations, ${stats.calls} calls, ` +
        `${stats.lost} answers lost to a kill (${stats.lostButDone} of them had taken effect), ${stats.failedOver} calls sent to the other node; ${created.size} created, ${deleted.size} deleted`,
    );
    assert.deepEqual(unexpected, [], 'no refusal that the workload does not allow, no 5xx');
    assert.ok(created.size > 0 && deleted.size > 0, 'the workload created and deleted interfaces');
  });
});
