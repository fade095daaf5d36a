/**
 * Use case 4 — low-budget high availability.
 *
 * A "floating" interface carries the service's Elastic IP. It sits on the primary instance; a
 * hot standby waits in the same Availability Zone. When the primary fails its status checks, a
 * failover routine moves the interface — and with it the Elastic IP, private address and
 * security group — to the standby. Clients keep using the same public address.
 *
 *   npx tsx examples/04-low-budget-ha.ts
 */
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  DescribeInstanceStatusCommand,
  DetachNetworkInterfaceCommand,
} from '@aws-sdk/client-ec2';
import {
  check,
  conclude,
  connectToInternet,
  createGroup,
  createSubnet,
  createVpc,
  describeEni,
  launch,
  probe,
  runExample,
  say,
  setInstanceHealth,
  tagged,
  tcp,
  waitFor,
  type Lab,
} from './lib.ts';

/** What DescribeInstanceStatus says of an instance: ok, impaired, … */
async function instanceStatus(lab: Lab, instanceId: string): Promise<string | undefined> {
  const { InstanceStatuses } = await lab.ec2.send(new DescribeInstanceStatusCommand({ InstanceIds: [instanceId] }));
  return InstanceStatuses?.[0]?.InstanceStatus?.Status;
}

/** Moves the interface from a failed instance to the standby, as a watchdog would. */
async function failOver(lab: Lab, networkInterfaceId: string, standbyId: string): Promise<void> {
  const { Attachment } = await describeEni(lab, networkInterfaceId);
  // Force: the failed instance cannot be relied upon to release the interface.
  await lab.ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: Attachment!.AttachmentId, Force: true }));
  await waitFor('the interface detached', () => describeEni(lab, networkInterfaceId), (n) => n.Status === 'available');
  await lab.ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: networkInterfaceId, InstanceId: standbyId, DeviceIndex: 1 }));
  await waitFor('the interface attached to the standby', () => describeEni(lab, networkInterfaceId), (n) => n.Attachment?.Status === 'attached');
}

await runExample({ name: '04-low-budget-ha', title: 'Low-budget high availability', region: 'us-west-2' }, async (lab) => {
  const vpcId = await createVpc(lab, '10.14.0.0/16');
  const subnet = await createSubnet(lab, vpcId, '10.14.1.0/24', 'a', 'service');
  await connectToInternet(lab, vpcId, [subnet]);
  const web = await createGroup(lab, vpcId, 'web', [tcp(80, '0.0.0.0/0')]);
  const primary = await launch(lab, 'primary', { SubnetId: subnet, SecurityGroupIds: [web] });
  const standby = await launch(lab, 'standby', { SubnetId: subnet, SecurityGroupIds: [web] });

  // The floating interface with the Elastic IP, on the primary as eth1.
  const { NetworkInterface: floating } = await lab.ec2.send(
    new CreateNetworkInterfaceCommand({ SubnetId: subnet, Groups: [web], Description: 'floating service address', TagSpecifications: tagged(lab, 'network-interface', 'floating') }),
  );
  const eniId = floating!.NetworkInterfaceId!;
  await lab.ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eniId, InstanceId: primary.InstanceId, DeviceIndex: 1 }));
  await waitFor('the interface attached to the primary', () => describeEni(lab, eniId), (n) => n.Attachment?.Status === 'attached');
  const eip = await lab.ec2.send(new AllocateAddressCommand({ Domain: 'vpc', TagSpecifications: tagged(lab, 'elastic-ip', 'service') }));
  await lab.ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, NetworkInterfaceId: eniId }));
  const flow = { from: 'internet', to: eip.PublicIp!, port: 80 };

  say(`Built ${vpcId} with an internet gateway: primary ${primary.InstanceId} and standby ${standby.InstanceId} in ${lab.region}a;`);
  say(`  floating interface ${eniId} (${floating!.PrivateIpAddress}, Elastic IP ${eip.PublicIp}, group web: tcp/80 from anywhere) on the primary as eth1.`);
  say(`Probes (internet → ${eip.PublicIp}:80):`);
  await check(lab, 'primary healthy', flow, { delivered: true, instanceId: primary.InstanceId, deviceIndex: 1 });

  await setInstanceHealth(lab, primary.InstanceId!, 'fail');
  await check(lab, 'primary failed', flow, { delivered: false, reason: 'instance-impaired' });

  // The failover routine: detect, move the interface, and time until the service answers again.
  const status = await waitFor('the primary impaired', () => instanceStatus(lab, primary.InstanceId!), (s) => s === 'impaired');
  const detectedAt = performance.now();
  say(`  DescribeInstanceStatus: primary ${status}, standby ${await instanceStatus(lab, standby.InstanceId!)} → moving ${eniId} to the standby`);
  await failOver(lab, eniId, standby.InstanceId!);
  await waitFor('a delivered probe', () => probe(lab, flow), (r) => r.delivered);
  const failoverMs = Math.round(performance.now() - detectedAt);
  await check(lab, 'after failover', flow, { delivered: true, instanceId: standby.InstanceId, deviceIndex: 1, privateAddress: floating!.PrivateIpAddress });
  say(`Failover time: ${failoverMs} ms from detection to the first delivered probe`);
  conclude(`the Elastic IP ${eip.PublicIp} followed its interface to the standby; clients keep the same address.`);
});
