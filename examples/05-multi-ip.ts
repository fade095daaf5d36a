/**
 * Use case 5 — a multi-IP application (several websites, each with its own public address).
 *
 * One interface gets several secondary private addresses (AssignPrivateIpAddresses); each is
 * associated with an Elastic IP of its own (AssociateAddress with PrivateIpAddress). The internet
 * gateway maps every Elastic IP 1:1 onto its private address, so the instance sees which site a
 * client asked for by the address the packet arrives on.
 *
 *   npx tsx examples/05-multi-ip.ts
 */
import { AllocateAddressCommand, AssignPrivateIpAddressesCommand, AssociateAddressCommand } from '@aws-sdk/client-ec2';
import { check, conclude, connectToInternet, createGroup, createSubnet, createVpc, launch, runExample, say, tagged, tcp } from './lib.ts';

await runExample({ name: '05-multi-ip', title: 'Multi-IP application', region: 'ap-southeast-2' }, async (lab) => {
  const SITES = ['shop', 'blog', 'docs'];
  const vpcId = await createVpc(lab, '10.15.0.0/16');
  const subnet = await createSubnet(lab, vpcId, '10.15.1.0/24', 'a', 'web');
  await connectToInternet(lab, vpcId, [subnet]);
  const web = await createGroup(lab, vpcId, 'web', [tcp(443, '0.0.0.0/0')]);
  // m5.large: up to 10 private IPv4 addresses per interface.
  const server = await launch(lab, 'web-server', { InstanceType: 'm5.large', SubnetId: subnet, SecurityGroupIds: [web] });
  const eniId = server.NetworkInterfaces![0].NetworkInterfaceId!;

  const { AssignedPrivateIpAddresses } = await lab.ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, SecondaryPrivateIpAddressCount: SITES.length }));
  const sites: { name: string; privateIp: string; publicIp: string }[] = [];
  for (const [i, name] of SITES.entries()) {
    const privateIp = AssignedPrivateIpAddresses![i].PrivateIpAddress!;
    const eip = await lab.ec2.send(new AllocateAddressCommand({ Domain: 'vpc', TagSpecifications: tagged(lab, 'elastic-ip', name) }));
    await lab.ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, NetworkInterfaceId: eniId, PrivateIpAddress: privateIp }));
    sites.push({ name, privateIp, publicIp: eip.PublicIp! });
  }

  say(`Built ${vpcId} with an internet gateway: web server ${server.InstanceId}, interface ${eniId} (primary ${server.PrivateIpAddress}),`);
  say(`  secondary addresses ${sites.map((s) => `${s.privateIp} ← ${s.publicIp} (${s.name})`).join(', ')}.`);
  say('Probes (internet → each Elastic IP, tcp/443):');
  for (const site of sites) {
    await check(lab, `${site.name} ${site.publicIp}`, { from: 'internet', to: site.publicIp, port: 443 }, { delivered: true, instanceId: server.InstanceId, networkInterfaceId: eniId, privateAddress: site.privateIp });
  }
  conclude(`one interface answers on ${sites.length} public addresses, each arriving on its own private address.`);
});
