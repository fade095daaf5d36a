/**
 * The benchmark's world, built through the EC2 API like any user would: "rooms" (a /16 VPC with
 * a /17 subnet in each of two zones and a security group), K running m5.large instances, and N
 * interfaces tagged `bench=<i % 100>` (so a tag filter matches about 1 %).
 */
import { formBody, xmlValue, xmlValues, type QueryClient, type Response } from './client.ts';

/** Usable addresses of a /17 (AWS reserves five). */
const SUBNET_CAPACITY = 32768 - 5;
/** Interfaces a room holds, leaving room for instances and for the interfaces the workloads create. */
export const ROOM_SIZE = 60_000;

export interface Subnet {
  id: string;
  zone: string;
  room: number;
  groupId: string;
  /** Addresses not yet handed out (as far as the benchmark knows). */
  free: number;
}

export interface Eni {
  id: string;
  ip: string;
  subnet: number;
}

export interface Instance {
  id: string;
  subnet: number;
}

export class BenchError extends Error {}

export function expectOk(response: Response, what: string): Response {
  if (response.status !== 200) {
    const code = xmlValue(response.body, 'Code');
    const message = xmlValue(response.body, 'Message');
    throw new BenchError(`${what}: HTTP ${response.status} ${code ?? ''} ${message ?? ''}`.trim());
  }
  return response;
}

export class Fixture {
  readonly subnets: Subnet[] = [];
  readonly instances: Instance[] = [];
  /** Every interface the benchmark created (the fixture's and the workloads'). */
  readonly enis: Eni[] = [];
  private nextSubnet = 0;
  private tagCounter = 0;

  /** Creates `rooms` rooms (10.R.0.0/16, subnets 10.R.0.0/17 in zone a and 10.R.128.0/17 in zone b) and K instances in room 0. */
  static async build(client: QueryClient, options: { rooms: number; instances: number; instanceType: string; region: string }): Promise<Fixture> {
    const f = new Fixture();
    for (let r = 0; r < options.rooms; r++) {
      const vpc = expectOk(
        await client.call('CreateVpc', {
          CidrBlock: `10.${r}.0.0/16`,
          'TagSpecification.1.ResourceType': 'vpc',
          'TagSpecification.1.Tag.1.Key': 'Name',
          'TagSpecification.1.Tag.1.Value': `bench-room-${r}`,
        }),
        'CreateVpc',
      );
      const vpcId = xmlValue(vpc.body, 'vpcId')!;
      const sg = expectOk(
        await client.call('CreateSecurityGroup', { VpcId: vpcId, GroupName: `bench-${r}`, GroupDescription: 'eni-local benchmark' }),
        'CreateSecurityGroup',
      );
      const groupId = xmlValue(sg.body, 'groupId')!;
      for (const [half, zone] of [
        [0, `${options.region}a`],
        [128, `${options.region}b`],
      ] as const) {
        const subnet = expectOk(
          await client.call('CreateSubnet', { VpcId: vpcId, CidrBlock: `10.${r}.${half}.0/17`, AvailabilityZone: zone }),
          'CreateSubnet',
        );
        f.subnets.push({ id: xmlValue(subnet.body, 'subnetId')!, zone, room: r, groupId, free: SUBNET_CAPACITY });
      }
    }
    // K instances, half in each zone of room 0.
    const perZone = [Math.ceil(options.instances / 2), Math.floor(options.instances / 2)];
    for (const s of [0, 1]) {
      if (!perZone[s]) continue;
      const run = expectOk(
        await client.call('RunInstances', {
          ImageId: 'ami-12345678',
          InstanceType: options.instanceType,
          MinCount: perZone[s],
          MaxCount: perZone[s],
          SubnetId: f.subnets[s].id,
          'SecurityGroupId.1': f.subnets[s].groupId,
        }),
        'RunInstances',
      );
      for (const id of xmlValues(run.body, 'instanceId')) f.instances.push({ id, subnet: s });
      f.subnets[s].free -= perZone[s];
    }
    // Interleave the zones so that callers 0, 1, 2… get instances in alternating zones.
    f.instances.sort((a, b) => a.subnet - b.subnet);
    const a = f.instances.filter((i) => i.subnet === 0);
    const b = f.instances.filter((i) => i.subnet === 1);
    f.instances.length = 0;
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (a[i]) f.instances.push(a[i]);
      if (b[i]) f.instances.push(b[i]);
    }
    return f;
  }

  /** The subnet the next new interface goes to: round-robin over those with room left. */
  private pickSubnet(): number {
    for (let tries = 0; tries < this.subnets.length; tries++) {
      const s = this.nextSubnet;
      this.nextSubnet = (this.nextSubnet + 1) % this.subnets.length;
      if (this.subnets[s].free > 0) {
        this.subnets[s].free--;
        return s;
      }
    }
    throw new BenchError('every subnet of the fixture is full: use more rooms');
  }

  /** A CreateNetworkInterface request (in the next subnet, tagged bench=<i % 100>) and how to record its answer. */
  createRequest(): { body: string; record: (response: Response) => Eni | undefined } {
    const subnet = this.pickSubnet();
    const tag = this.tagCounter++ % 100;
    const body = formBody('CreateNetworkInterface', {
      SubnetId: this.subnets[subnet].id,
      'SecurityGroupId.1': this.subnets[subnet].groupId,
      'TagSpecification.1.ResourceType': 'network-interface',
      'TagSpecification.1.Tag.1.Key': 'bench',
      'TagSpecification.1.Tag.1.Value': String(tag),
    });
    return {
      body,
      record: (response) => {
        const id = xmlValue(response.body, 'networkInterfaceId');
        const ip = xmlValue(response.body, 'privateIpAddress');
        if (!id || !ip) return undefined;
        const eni = { id, ip, subnet };
        this.enis.push(eni);
        return eni;
      },
    };
  }

  /**
   * Deletes the newest interfaces (those the workloads created) until the fixture holds `target`,
   * so that the next N is measured at N. Returns how many were deleted.
   */
  async trim(client: QueryClient, target: number, concurrency: number, onProgress: (done: number, wanted: number) => void): Promise<number> {
    const doomed = this.enis.splice(target);
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < doomed.length) {
        const eni = doomed[next++];
        const response = await client.call('DeleteNetworkInterface', { NetworkInterfaceId: eni.id });
        // An interface a failed check left behind may be gone already; anything else is a failure.
        if (response.status !== 200 && xmlValue(response.body, 'Code') !== 'InvalidNetworkInterfaceID.NotFound') expectOk(response, 'DeleteNetworkInterface (trim)');
        this.subnets[eni.subnet].free++;
        done++;
        if (done % 200 === 0) onProgress(done, doomed.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, doomed.length)) }, worker));
    onProgress(done, doomed.length);
    return done;
  }

  /**
   * Creates interfaces until the fixture holds `target`, `concurrency` requests in flight.
   * Returns how many were created and how long it took.
   */
  async fill(
    client: QueryClient,
    target: number,
    concurrency: number,
    onProgress: (done: number, wanted: number, perSec: number) => void,
  ): Promise<{ created: number; seconds: number }> {
    const wanted = Math.max(0, target - this.enis.length);
    let started = 0;
    let done = 0;
    const t0 = performance.now();
    let lastReport = 0;
    const worker = async () => {
      while (started < wanted) {
        started++;
        const { body, record } = this.createRequest();
        let response: Response | undefined;
        for (let attempt = 0; ; attempt++) {
          try {
            response = await client.send(body);
          } catch (error) {
            if (attempt >= 3) throw error;
            continue;
          }
          if (response.status === 200 || attempt >= 3 || response.status < 500) break;
        }
        expectOk(response!, 'CreateNetworkInterface (fixture)');
        if (!record(response!)) throw new BenchError('CreateNetworkInterface answered without an interface id');
        done++;
        const now = performance.now();
        if (now - lastReport > 250) {
          lastReport = now;
          onProgress(done, wanted, (done * 1000) / (now - t0));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, wanted)) }, worker));
    const seconds = (performance.now() - t0) / 1000;
    onProgress(done, wanted, seconds > 0 ? done / seconds : 0);
    return { created: done, seconds };
  }
}
