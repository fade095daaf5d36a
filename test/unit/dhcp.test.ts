/** The VPC DHCP server's wire format and its answers (RFC 2131/2132), without sockets. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { amazonProvidedDns, answer, MessageType, parseDhcp, type Lease } from '../../src/dataplane/linux/dhcp.ts';
import { internalDomain } from '../../src/dataplane/aws-names.ts';

const MAC = '0e:12:34:56:78:9a';

/** A client message as a DHCP client sends it: fixed header, magic cookie, options, END. */
function clientMessage(type: number, options: [number, number[]][] = [], fields: { ciaddr?: number[]; giaddr?: number[]; xid?: number } = {}): Buffer {
  const packet = Buffer.alloc(240);
  packet[0] = 1;
  packet[1] = 1;
  packet[2] = 6;
  packet.writeUInt32BE(fields.xid ?? 0xdeadbeef, 4);
  Buffer.from(fields.ciaddr ?? [0, 0, 0, 0]).copy(packet, 12);
  Buffer.from(fields.giaddr ?? [0, 0, 0, 0]).copy(packet, 24);
  Buffer.from(MAC.split(':').map((h) => parseInt(h, 16))).copy(packet, 28);
  packet.writeUInt32BE(0x63825363, 236);
  const tail = [53, 1, type, ...options.flatMap(([code, value]) => [code, value.length, ...value]), 255];
  return Buffer.concat([packet, Buffer.from(tail)]);
}

const lease: Lease = {
  address: '10.0.1.25',
  subnetCidr: '10.0.1.0/24',
  vpcCidr: '10.0.0.0/16',
  mtu: 9001,
  options: { 'domain-name': ['corp.example'], 'domain-name-servers': ['AmazonProvidedDNS', '192.0.2.53'], 'ntp-servers': ['169.254.169.123'] },
};

const option = (reply: Buffer, code: number) => parseDhcp(reply)!.options.get(code);

test('a DISCOVER is offered the interface address with the subnet, its router, the options set and AWS MTU', () => {
  const reply = answer(parseDhcp(clientMessage(MessageType.DISCOVER))!, lease)!;
  assert.equal(reply.to, '10.0.1.25');
  const offer = parseDhcp(reply.message)!;
  assert.equal(offer.op, 2);
  assert.equal(offer.type, MessageType.OFFER);
  assert.equal(offer.xid, 0xdeadbeef);
  assert.equal(offer.yiaddr, '10.0.1.25');
  assert.equal(offer.chaddr, MAC);
  assert.ok(reply.message.length >= 300, 'at least BOOTP size');
  assert.deepEqual([...option(reply.message, 1)!], [255, 255, 255, 0]);
  assert.deepEqual([...option(reply.message, 3)!], [10, 0, 1, 1], 'router: the subnet base + 1');
  assert.deepEqual([...option(reply.message, 54)!], [10, 0, 1, 1], 'server identifier: the subnet router');
  assert.deepEqual([...option(reply.message, 6)!], [10, 0, 0, 2, 192, 0, 2, 53], 'AmazonProvidedDNS is the VPC base + 2');
  assert.equal(option(reply.message, 15)!.toString(), 'corp.example');
  assert.deepEqual([...option(reply.message, 42)!], [169, 254, 169, 123]);
  assert.equal(option(reply.message, 26)!.readUInt16BE(0), 9001);
  assert.equal(option(reply.message, 51)!.readUInt32BE(0), 3600, "AWS's default lease");
  assert.deepEqual([...option(reply.message, 28)!], [10, 0, 1, 255]);
});

test('REQUEST: ACK for the interface address, NAK for another, silence when meant for another server', () => {
  const selecting = clientMessage(MessageType.REQUEST, [[54, [10, 0, 1, 1]], [50, [10, 0, 1, 25]]]);
  assert.equal(parseDhcp(answer(parseDhcp(selecting)!, lease)!.message)!.type, MessageType.ACK);
  const wrong = clientMessage(MessageType.REQUEST, [[50, [10, 0, 1, 99]]]);
  const nak = parseDhcp(answer(parseDhcp(wrong)!, lease)!.message)!;
  assert.equal(nak.type, MessageType.NAK);
  assert.equal(nak.yiaddr, '0.0.0.0');
  assert.equal(nak.options.get(51), undefined, 'a NAK carries no lease');
  assert.equal(answer(parseDhcp(clientMessage(MessageType.REQUEST, [[54, [10, 0, 9, 1]], [50, [10, 0, 1, 25]]]))!, lease), undefined);
  // Renewing: the address in ciaddr, no requested-address option.
  const renew = parseDhcp(answer(parseDhcp(clientMessage(MessageType.REQUEST, [], { ciaddr: [10, 0, 1, 25] }))!, lease)!.message)!;
  assert.equal(renew.type, MessageType.ACK);
  assert.equal(renew.yiaddr, '10.0.1.25');
});

test('INFORM gets the options without an address; no lease, a relay, or RELEASE get nothing', () => {
  const inform = parseDhcp(answer(parseDhcp(clientMessage(MessageType.INFORM, [], { ciaddr: [10, 0, 1, 25] }))!, lease)!.message)!;
  assert.equal(inform.type, MessageType.ACK);
  assert.equal(inform.yiaddr, '0.0.0.0');
  assert.equal(inform.ciaddr, '10.0.1.25');
  assert.equal(inform.options.get(51), undefined);
  assert.equal(answer(parseDhcp(clientMessage(MessageType.DISCOVER))!, undefined), undefined);
  assert.equal(answer(parseDhcp(clientMessage(MessageType.DISCOVER, [], { giaddr: [10, 0, 5, 1] }))!, lease), undefined);
  assert.equal(answer(parseDhcp(clientMessage(MessageType.RELEASE))!, lease), undefined);
});

test('malformed messages are ignored, never thrown on', () => {
  assert.equal(parseDhcp(Buffer.alloc(10)), undefined);
  const noCookie = clientMessage(MessageType.DISCOVER);
  noCookie.writeUInt32BE(0, 236);
  assert.equal(parseDhcp(noCookie), undefined);
  const truncated = clientMessage(MessageType.DISCOVER, [[12, [65, 66, 67]]]).subarray(0, 246);
  assert.equal(parseDhcp(truncated), undefined);
  const notEthernet = clientMessage(MessageType.DISCOVER);
  notEthernet[1] = 6;
  assert.equal(parseDhcp(notEthernet), undefined);
  for (let n = 0; n < 200; n++) {
    const junk = clientMessage(MessageType.DISCOVER, [[12, [1, 2, 3]]]);
    for (let i = 240; i < junk.length; i++) if (Math.random() < 0.3) junk[i] = Math.floor(Math.random() * 256);
    const parsed = parseDhcp(junk);
    if (parsed) answer(parsed, lease);
  }
});

test("AWS's names: AmazonProvidedDNS and the region's domain", () => {
  assert.equal(amazonProvidedDns('172.31.0.0/16'), '172.31.0.2');
  assert.equal(internalDomain('us-east-1'), 'ec2.internal');
  assert.equal(internalDomain('eu-west-1'), 'eu-west-1.compute.internal');
});
