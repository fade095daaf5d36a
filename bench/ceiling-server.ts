/**
 * The benchmark's ceiling: a bare node:http server that does the least an EC2 endpoint must —
 * read the form body, parse it (URLSearchParams), look at the action — and answers a canned
 * one-interface DescribeNetworkInterfaces response. Whatever eni-local spends beyond this is
 * its own work (routing, decoding, the store, encoding).
 *
 *   node --import tsx bench/ceiling-server.ts [--port 0] [--response FILE]
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const CANNED = `<?xml version="1.0" encoding="UTF-8"?>
<DescribeNetworkInterfacesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>REQUEST-ID</requestId>
    <networkInterfaceSet>
        <item>
            <networkInterfaceId>eni-0123456789abcdef0</networkInterfaceId>
            <subnetId>subnet-0123456789abcdef0</subnetId>
            <vpcId>vpc-0123456789abcdef0</vpcId>
            <availabilityZone>us-east-1a</availabilityZone>
            <description/>
            <ownerId>000000000000</ownerId>
            <requesterManaged>false</requesterManaged>
            <status>available</status>
            <macAddress>02:12:34:56:78:9a</macAddress>
            <privateIpAddress>10.0.0.10</privateIpAddress>
            <privateDnsName>ip-10-0-0-10.ec2.internal</privateDnsName>
            <sourceDestCheck>true</sourceDestCheck>
            <groupSet>
                <item>
                    <groupId>sg-0123456789abcdef0</groupId>
                    <groupName>bench</groupName>
                </item>
            </groupSet>
            <tagSet>
                <item>
                    <key>bench</key>
                    <value>7</value>
                </item>
            </tagSet>
            <privateIpAddressesSet>
                <item>
                    <privateIpAddress>10.0.0.10</privateIpAddress>
                    <privateDnsName>ip-10-0-0-10.ec2.internal</privateDnsName>
                    <primary>true</primary>
                </item>
            </privateIpAddressesSet>
            <ipv6AddressesSet/>
            <interfaceType>interface</interfaceType>
        </item>
    </networkInterfaceSet>
</DescribeNetworkInterfacesResponse>`;

const responseFile = option('--response');
const template = responseFile ? readFileSync(responseFile, 'utf8') : CANNED;
// The request id is the only part that changes from one answer to the next.
const requestIdAt = /<requestId>[^<]*<\/requestId>/.exec(template);
const [head, tail] = requestIdAt
  ? [template.slice(0, requestIdAt.index) + '<requestId>', '</requestId>' + template.slice(requestIdAt.index + requestIdAt[0].length)]
  : [template, ''];

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const requestId = randomUUID();
    if (!params.get('Action') || !params.get('Version')) {
      res.writeHead(400, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId });
      res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>MissingAction</Code></Error></Errors><RequestID>${requestId}</RequestID></Response>`);
      return;
    }
    const body = requestIdAt ? head + requestId + tail : head;
    res.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});

server.keepAliveTimeout = 72_000;
server.listen(Number(option('--port') ?? 0), option('--host') ?? '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`ceiling listening on http://127.0.0.1:${port}\n`);
});
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
