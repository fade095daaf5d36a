/**
 * The one catalogue of EC2 error codes eni-local answers with: code, HTTP status and message,
 * worded as AWS words them where the wording is known (shared/reference/eni-api.md §7).
 * Rules everywhere throw these constructors; no code string is written anywhere else.
 */
import { InvalidPageTokenError, StoreError, StoreUnavailableError, TransactionRetriesExhaustedError, UnknownFilterError } from '../store/errors.ts';

export class Ec2Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'Ec2Error';
  }
}

const make = (code: string, status = 400) => (message: string) => new Ec2Error(code, message, status);

/** A value echoed in a message: long ones are cut, so that an error never grows with the request. */
const MAX_ECHO = 256;
const shorten = (value: string) => (value.length > MAX_ECHO ? `${value.slice(0, MAX_ECHO)}…` : value);

/** A resource kind's pair of id errors: `.Malformed` and `.NotFound` (AWS spells the casing differently per kind). */
export interface IdErrors {
  malformed: (id: string) => Ec2Error;
  notFound: (id: string) => Ec2Error;
}

function idErrors(malformedCode: string, notFoundCode: string, prefix: string, noun: string): IdErrors {
  return {
    malformed: (id) => new Ec2Error(malformedCode, `Invalid id: "${shorten(id)}" (expecting "${prefix}-...")`),
    notFound: (id) => new Ec2Error(notFoundCode, `The ${noun} '${shorten(id)}' does not exist`),
  };
}

export const Errors = {
  // --- protocol -------------------------------------------------------------------------------
  missingAction: () => new Ec2Error('MissingAction', 'The request must contain the parameter Action'),
  invalidAction: (action: string) =>
    new Ec2Error('InvalidAction', `The action ${shorten(action)} is not valid for this web service.`),
  /** The Query services' (STS, IAM) answer for an action they do not have, or not in that version. */
  unknownOperation: (action: string, version: string) =>
    new Ec2Error('InvalidAction', `Could not find operation ${shorten(action)} for version ${shorten(version)}`),
  noSuchVersion: (version: string) =>
    new Ec2Error('NoSuchVersion', `The requested version (${shorten(version)}) of service AmazonEC2 does not exist`),
  missingParameter: (name: string) =>
    new Ec2Error('MissingParameter', `The request must contain the parameter ${shorten(name)}`),
  unknownParameter: (name: string) =>
    new Ec2Error('UnknownParameter', `The parameter ${shorten(name)} is not recognized`),
  malformedQueryString: (detail: string) => new Ec2Error('MalformedQueryString', detail),
  invalidParameterValue: make('InvalidParameterValue'),
  invalidParameterValueFor: (name: string, value: string, why = '') =>
    new Ec2Error('InvalidParameterValue', `Value (${shorten(value)}) for parameter ${name} is invalid.${why ? ' ' + why : ''}`),
  invalidParameterCombination: make('InvalidParameterCombination'),
  invalidParameter: make('InvalidParameter'),
  invalidFilter: (name: string) => new Ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`),
  invalidNextToken: (token: string) => new Ec2Error('InvalidNextToken', `The token '${shorten(token)}' is invalid.`),
  dryRunOperation: () =>
    new Ec2Error('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412),
  unauthorizedOperation: make('UnauthorizedOperation', 403),
  authFailure: make('AuthFailure', 401),
  requestLimitExceeded: () => new Ec2Error('RequestLimitExceeded', 'Request limit exceeded.', 503),
  internalError: () =>
    new Ec2Error('InternalError', 'An internal error has occurred. The request was not applied.', 500),
  idempotentParameterMismatch: (token: string) =>
    new Ec2Error(
      'IdempotentParameterMismatch',
      `The client token '${token}' was already used with different parameters.`,
    ),

  // --- what a request is held to (README, "Hardening") ----------------------------------------
  /** A parameter name given twice (`Action` included), or in both its spellings (`SubnetId`, `subnetId`). */
  duplicateParameter: (name: string) =>
    new Ec2Error('InvalidParameterValue', `The parameter ${shorten(name)} is given more than once.`),
  parameterNameTooLong: (name: string, max: number) =>
    new Ec2Error('InvalidParameterValue', `The parameter name ${shorten(name)} exceeds the maximum length of ${max} characters.`),
  parameterTooLong: (name: string, max: number) =>
    new Ec2Error('InvalidParameterValue', `The value of parameter ${shorten(name)} exceeds the maximum length of ${max} characters.`),
  /** A character XML 1.0 cannot carry back (a control character other than tab, LF, CR; U+FFFE/U+FFFF; a lone surrogate). */
  forbiddenCharacter: (name: string, codeUnit: number) =>
    new Ec2Error(
      'InvalidParameterValue',
      `The parameter ${shorten(name)} contains the character U+${codeUnit.toString(16).toUpperCase().padStart(4, '0')}, which is not allowed.`,
    ),
  bodyTooLarge: (max: number) => new Ec2Error('InvalidParameterValue', `The request body exceeds the maximum of ${max} bytes.`),
  /** The request line and headers together exceed Node's limit (a GET with a very long query string). */
  requestHeadersTooLarge: (max: number) =>
    new Ec2Error(
      'InvalidParameterValue',
      `The request line and headers exceed the maximum of ${max} bytes; send long requests as a POST body.`,
      431,
    ),
  /** The client did not send its whole request in time: the SDKs retry this code. */
  requestTimeout: (ms: number) =>
    new Ec2Error('RequestTimeout', `The request was not received completely within ${ms} ms.`, 408),

  // --- authentication and throttling ----------------------------------------------------------
  // Codes, statuses and wording as EC2 answers them where captured (see README, "Authentication,
  // accounts and throttling"); the rest follow AWS's common SigV4 errors.
  /** EC2 answers a request carrying no credentials at all with MissingParameter (captured live, HTTP 400). */
  missingAccessKeyId: () => new Ec2Error('MissingParameter', 'The request must contain the parameter AWSAccessKeyId'),
  /** Unknown access key, or a session token that is missing or wrong. */
  credentialsNotValidated: () =>
    new Ec2Error('AuthFailure', 'AWS was not able to validate the provided access credentials', 401),
  malformedAuthorization: (detail = 'Authorization header or parameters are not formatted correctly.') =>
    new Ec2Error('AuthFailure', detail, 401),
  malformedCredential: (credential: string) =>
    new Ec2Error(
      'AuthFailure',
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`,
      401,
    ),
  incompleteSignature: make('IncompleteSignature', 400),
  signatureDoesNotMatch: (
    detail = 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  ) => new Ec2Error('SignatureDoesNotMatch', detail, 403),
  requestExpired: () => new Ec2Error('RequestExpired', 'Request has expired.', 400),

  // --- ids ------------------------------------------------------------------------------------
  vpcId: idErrors('InvalidVpcID.Malformed', 'InvalidVpcID.NotFound', 'vpc', 'vpc ID'),
  subnetId: idErrors('InvalidSubnetID.Malformed', 'InvalidSubnetID.NotFound', 'subnet', 'subnet ID'),
  subnetCidrReservationId: idErrors('InvalidSubnetCidrReservationID.Malformed', 'InvalidSubnetCidrReservationID.NotFound', 'scr', 'subnet CIDR reservation ID'),
  groupId: idErrors('InvalidGroupId.Malformed', 'InvalidGroup.NotFound', 'sg', 'security group'),
  instanceId: idErrors('InvalidInstanceID.Malformed', 'InvalidInstanceID.NotFound', 'i', 'instance ID'),
  networkInterfaceId: idErrors(
    'InvalidNetworkInterfaceId.Malformed',
    'InvalidNetworkInterfaceID.NotFound',
    'eni',
    'networkInterface ID',
  ),
  attachmentId: idErrors(
    'InvalidNetworkInterfaceAttachmentId.Malformed',
    'InvalidAttachmentID.NotFound',
    'eni-attach',
    'network interface attachment ID',
  ),
  allocationId: idErrors('InvalidAllocationID.Malformed', 'InvalidAllocationID.NotFound', 'eipalloc', 'allocation ID'),
  associationId: idErrors(
    'InvalidAssociationID.Malformed',
    'InvalidAssociationID.NotFound',
    'eipassoc',
    'association ID',
  ),
  internetGatewayId: idErrors(
    'InvalidInternetGatewayId.Malformed',
    'InvalidInternetGatewayID.NotFound',
    'igw',
    'internet gateway ID',
  ),
  egressOnlyInternetGatewayId: idErrors(
    'InvalidEgressOnlyInternetGatewayId.Malformed',
    'InvalidEgressOnlyInternetGatewayId.NotFound',
    'eigw',
    'egress-only internet gateway ID',
  ),
  routeTableId: idErrors('InvalidRouteTableId.Malformed', 'InvalidRouteTableID.NotFound', 'rtb', 'route table ID'),
  networkAclId: idErrors('InvalidNetworkAclId.Malformed', 'InvalidNetworkAclID.NotFound', 'acl', 'network ACL ID'),
  imageId: idErrors('InvalidAMIID.Malformed', 'InvalidAMIID.NotFound', 'ami', 'image ID'),
  securityGroupRuleId: idErrors(
    'InvalidSecurityGroupRuleId.Malformed',
    'InvalidSecurityGroupRuleId.NotFound',
    'sgr',
    'security group rule ID',
  ),
  permissionId: idErrors(
    'InvalidNetworkInterfacePermissionId.Malformed',
    'InvalidPermissionID.NotFound',
    'eni-perm',
    'network interface permission ID',
  ),
  keyPairId: idErrors('InvalidKeyPair.Malformed', 'InvalidKeyPair.NotFound', 'key', 'key pair ID'),
  flowLogId: idErrors('InvalidFlowLogId.Malformed', 'InvalidFlowLogId.NotFound', 'fl', 'flow log ID'),
  networkInsightsPathId: idErrors('InvalidNetworkInsightsPathId.Malformed', 'InvalidNetworkInsightsPathId.NotFound', 'nip', 'network insights path ID'),
  networkInsightsAnalysisId: idErrors(
    'InvalidNetworkInsightsAnalysisId.Malformed',
    'InvalidNetworkInsightsAnalysisId.NotFound',
    'nia',
    'network insights analysis ID',
  ),
  natGatewayId: {
    malformed: (id: string) => new Ec2Error('InvalidNatGatewayID.Malformed', `Invalid id: "${shorten(id)}" (expecting "nat-...")`),
    notFound: (id: string) => new Ec2Error('NatGatewayNotFound', `The Nat Gateway ${shorten(id)} was not found`),
  } satisfies IdErrors,
  /** CreateRoute/ReplaceRoute name a NAT gateway with their own code. */
  routeNatGatewayNotFound: (id: string) =>
    new Ec2Error('InvalidNatGatewayID.NotFound', `The natGateway ID '${shorten(id)}' does not exist`),
  vpcEndpointId: idErrors('InvalidVpcEndpointId.Malformed', 'InvalidVpcEndpointId.NotFound', 'vpce', 'Vpc Endpoint Id'),
  dhcpOptionsId: idErrors('InvalidDhcpOptionsId.Malformed', 'InvalidDhcpOptionID.NotFound', 'dopt', 'dhcpOption ID'),
  prefixListId: idErrors('InvalidPrefixListId.Malformed', 'InvalidPrefixListID.NotFound', 'pl', 'prefix list ID'),
  resourceId: (id: string) => new Ec2Error('InvalidID', `The ID '${id}' is not valid`),

  // --- resource rules -------------------------------------------------------------------------
  dependencyViolation: make('DependencyViolation'),
  vpcHasDependencies: (vpcId: string) =>
    new Ec2Error('DependencyViolation', `The vpc '${vpcId}' has dependencies and cannot be deleted.`),
  invalidVpcRange: (cidr: string, detail?: string) => new Ec2Error('InvalidVpc.Range', detail ?? `The CIDR '${cidr}' is invalid.`),
  vpcLimitExceeded: () => new Ec2Error('VpcLimitExceeded', 'The maximum number of VPCs has been reached.'),
  tagLimitExceeded: (max: number) =>
    new Ec2Error('TagLimitExceeded', `The maximum number of tags per resource (${max}) has been reached.`),
  invalidTagKey: (key: string) =>
    new Ec2Error('InvalidParameterValue', `Tag keys starting with 'aws:' are reserved for internal use: ${key}`),
  unsupported: make('Unsupported'),

  // --- subnets and addresses ------------------------------------------------------------------
  /** What needs an IPv4 address, asked of an IPv6-only subnet or of an interface in one. */
  ipv6OnlySubnet: (subnetId: string) =>
    new Ec2Error('InvalidParameterValue', `The subnet '${subnetId}' is IPv6-only (Ipv6Native): it has no IPv4 CIDR block, and its network interfaces no private IPv4 address.`),
  invalidSubnetRange: (cidr: string) => new Ec2Error('InvalidSubnet.Range', `The CIDR '${cidr}' is invalid.`),
  invalidSubnetConflict: (cidr: string) =>
    new Ec2Error('InvalidSubnet.Conflict', `The CIDR '${cidr}' conflicts with another subnet`),
  subnetLimitExceeded: () =>
    new Ec2Error('SubnetLimitExceeded', 'The maximum number of subnets for this VPC has been reached.'),
  insufficientFreeAddresses: () =>
    new Ec2Error('InsufficientFreeAddressesInSubnet', 'Insufficient Free IP Addresses in subnet.'),
  cidrLimitExceeded: make('CidrLimitExceeded'),
  invalidCidrBlockInUse: make('InvalidCidrBlock.InUse'),
  vpcCidrAssociationNotFound: (id: string) =>
    new Ec2Error('InvalidVpcCidrBlockAssociationID.NotFound', `The vpc CIDR block association ID '${id}' does not exist`),
  subnetCidrAssociationNotFound: (id: string) =>
    new Ec2Error('InvalidSubnetCidrBlockAssociationID.NotFound', `The subnet CIDR block association ID '${id}' does not exist`),
  insufficientCidrBlocks: () =>
    new Ec2Error('InsufficientCidrBlocks', 'There are not enough free cidr blocks in the specified subnet to satisfy the request.'),
  ipAddressInUse: (address: string) => new Ec2Error('InvalidIPAddress.InUse', `Address ${address} is in use.`),

  // --- security groups ------------------------------------------------------------------------
  securityGroupsPerInterfaceLimitExceeded: () =>
    new Ec2Error(
      'SecurityGroupsPerInterfaceLimitExceeded',
      'You have exceeded the maximum number of security groups allowed per network interface.',
    ),
  securityGroupLimitExceeded: () =>
    new Ec2Error('SecurityGroupLimitExceeded', 'The maximum number of security groups has been reached.'),
  invalidGroupDuplicate: (name: string, vpcId: string) =>
    new Ec2Error('InvalidGroup.Duplicate', `The security group '${name}' already exists for VPC '${vpcId}'`),
  invalidGroupReserved: () =>
    new Ec2Error('InvalidGroup.Reserved', 'The security group name default is reserved.'),
  invalidGroupNameNotFound: (name: string) =>
    new Ec2Error('InvalidGroup.NotFound', `The security group '${name}' does not exist`),
  /**
   * A group of another VPC where an existing interface gets its groups (ModifyNetworkInterfaceAttribute,
   * ModifyInstanceAttribute): AWS answers InvalidGroup.NotFound, worded so (captured in the wild);
   * where a subnet is named (CreateNetworkInterface, RunInstances) see groupAndSubnetInDifferentNetworks.
   */
  groupInAnotherNetwork: () =>
    new Ec2Error('InvalidGroup.NotFound', 'You have specified two resources that belong to different networks.'),
  /** AWS's answer to RunInstances / CreateNetworkInterface with a group of another VPC than the subnet's. */
  groupAndSubnetInDifferentNetworks: (groupId: string, subnetId: string) =>
    new Ec2Error('InvalidParameter', `Security group ${groupId} and subnet ${subnetId} belong to different networks.`),
  cannotDelete: (groupId: string) =>
    new Ec2Error('CannotDelete', `the specified group: "${groupId}" name: "default" cannot be deleted by a user`),
  invalidGroupInUse: make('InvalidGroup.InUse'),
  invalidPermissionDuplicate: make('InvalidPermission.Duplicate'),
  invalidPermissionNotFound: make('InvalidPermission.NotFound'),
  invalidPermissionMalformed: make('InvalidPermission.Malformed'),
  rulesPerSecurityGroupLimitExceeded: () =>
    new Ec2Error(
      'RulesPerSecurityGroupLimitExceeded',
      'The maximum number of rules per security group has been reached.',
    ),

  // --- instances and their catalogue ----------------------------------------------------------
  /** DescribeInstanceTypes names every unknown type at once, in its own wording. */
  invalidInstanceTypes: (names: readonly string[]) =>
    new Ec2Error('InvalidInstanceType', `The following supplied instance types do not exist: [${names.join(', ')}]`),
  invalidUserIdMalformed: (value: string) => new Ec2Error('InvalidUserID.Malformed', `Invalid user id: "${value}"`),
  vpcIdNotSpecified: make('VPCIdNotSpecified'),
  invalidKeyPairNotFound: (name: string) =>
    new Ec2Error('InvalidKeyPair.NotFound', `The key pair '${name}' does not exist`),
  invalidKeyPairDuplicate: (name: string) =>
    new Ec2Error('InvalidKeyPair.Duplicate', `The keypair '${name}' already exists.`),
  invalidKeyFormat: make('InvalidKey.Format'),
  instanceLimitExceeded: make('InstanceLimitExceeded'),

  // --- gateways and public addresses -----------------------------------------------------------
  resourceAlreadyAssociated: make('Resource.AlreadyAssociated'),
  gatewayNotAttached: make('Gateway.NotAttached'),
  /** A route to an egress-only internet gateway with an IPv4 destination (wording of AWS's message not verified). */
  egressOnlyGatewayIpv4Route: (gatewayId: string) =>
    new Ec2Error('InvalidParameterValue', `Egress-only internet gateway ${shorten(gatewayId)} can only be the target of an IPv6 route.`),
  /** The code follows AWS's pattern for gateway quotas (InternetGatewayLimitExceeded); not verified against AWS. */
  egressOnlyInternetGatewayLimitExceeded: () =>
    new Ec2Error('EgressOnlyInternetGatewayLimitExceeded', 'The maximum number of egress-only internet gateways has been reached.'),
  internetGatewayLimitExceeded: () =>
    new Ec2Error('InternetGatewayLimitExceeded', 'The maximum number of internet gateways has been reached.'),
  addressLimitExceeded: () => new Ec2Error('AddressLimitExceeded', 'The maximum number of addresses has been reached.'),
  insufficientAddressCapacity: () =>
    new Ec2Error('InsufficientAddressCapacity', 'There are not enough free addresses in the public IPv4 pool.'),
  invalidAddressNotFound: (ip: string) => new Ec2Error('InvalidAddress.NotFound', `Address '${ip}' not found.`),
  /** ModifyAddressAttribute's DomainName (wording of AWS's message not verified). */
  invalidDomainName: (name: string) =>
    new Ec2Error('InvalidParameterValue', `Value (${shorten(name)}) for parameter domainName is invalid. It is not a valid domain name.`),
  releaseVpcAddressByIp: () =>
    new Ec2Error('InvalidParameterValue', 'You must specify an allocation id when releasing a VPC elastic IP address'),
  releaseByIpAndAllocationId: () =>
    new Ec2Error('InvalidParameterCombination', 'You may specify public IP or allocation id, but not both in the same call'),

  // --- NAT gateways and VPC endpoints -------------------------------------------------------------
  natGatewayLimitExceeded: () =>
    new Ec2Error('NatGatewayLimitExceeded', 'The maximum number of NAT gateways has been reached.'),
  invalidServiceName: (name: string) =>
    new Ec2Error('InvalidServiceName', `The Vpc Endpoint Service '${shorten(name)}' does not exist`),
  vpcEndpointLimitExceeded: () =>
    new Ec2Error('VpcEndpointLimitExceeded', 'The maximum number of VPC endpoints has been reached.'),
  duplicateSubnetsInSameZone: make('DuplicateSubnetsInSameZone'),

  // --- route tables and network ACLs -------------------------------------------------------------
  routeTableLimitExceeded: () =>
    new Ec2Error('RouteTableLimitExceeded', 'The maximum number of route tables has been reached.'),
  routeLimitExceeded: () => new Ec2Error('RouteLimitExceeded', 'The maximum number of routes has been reached.'),
  routeAlreadyExists: (destination: string, routeTableId: string) =>
    new Ec2Error('RouteAlreadyExists', `The route identified by ${destination} already exists in route table ${routeTableId}.`),
  routeNotFound: (destination: string, routeTableId: string) =>
    new Ec2Error('InvalidRoute.NotFound', `no route with destination-cidr-block ${destination} in route table ${routeTableId}`),
  routeTableAssociationNotFound: (id: string) =>
    new Ec2Error('InvalidAssociationID.NotFound', `The association ID '${id}' does not exist`),
  networkAclEntryAlreadyExists: (ruleNumber: number) =>
    new Ec2Error('NetworkAclEntryAlreadyExists', `The network acl entry identified by ${ruleNumber} already exists.`),
  networkAclEntryNotFound: (ruleNumber: number, aclId: string) =>
    new Ec2Error('InvalidNetworkAclEntry.NotFound', `The network acl entry identified by ${ruleNumber} does not exist in ${aclId}.`),
  analysisExistsForPath: (pathId: string) =>
    new Ec2Error('AnalysisExistsForNetworkInsightsPath', `The network insights path ${pathId} has analyses; delete them first.`),
  networkAclEntryLimitExceeded: () =>
    new Ec2Error('NetworkAclEntryLimitExceeded', 'The maximum number of network acl entries has been reached.'),

  // --- default VPC and subnets -----------------------------------------------------------------
  defaultVpcAlreadyExists: () =>
    new Ec2Error('DefaultVpcAlreadyExists', 'A Default VPC already exists for this account in this region.'),
  defaultVpcDoesNotExist: () => new Ec2Error('DefaultVpcDoesNotExist', 'No default VPC exists for this account in this region.'),
  defaultSubnetAlreadyExistsInAvailabilityZone: (zone: string) =>
    new Ec2Error('DefaultSubnetAlreadyExistsInAvailabilityZone', `A Default Subnet already exists in availability zone ${shorten(zone)}.`),

  // --- launch templates -----------------------------------------------------------------------
  launchTemplateIdMalformed: (id: string) =>
    new Ec2Error('InvalidLaunchTemplateId.Malformed', `The specified ID for the launch template (${shorten(id)}) is not valid. The ID must be in the form lt-xxxxxxxxxxxxxxxxx.`),
  launchTemplateIdNotFound: (id: string) =>
    new Ec2Error('InvalidLaunchTemplateId.NotFound', `The specified launch template, with template ID ${shorten(id)}, does not exist.`),
  launchTemplateNameNotFound: (name: string) =>
    new Ec2Error('InvalidLaunchTemplateName.NotFoundException', `The specified launch template, with template name ${shorten(name)}, does not exist.`),
  launchTemplateNameAlreadyExists: () =>
    new Ec2Error('InvalidLaunchTemplateName.AlreadyExistsException', 'Launch template name already in use.'),
  launchTemplateNameMalformed: (name: string) =>
    new Ec2Error('InvalidLaunchTemplateName.MalformedException', `The launch template name (${shorten(name)}) is not valid: 3 to 128 characters of letters, digits and ( ) . / _ -.`),
  launchTemplateVersionNotFound: (version: string, id: string) =>
    new Ec2Error('InvalidLaunchTemplateId.VersionNotFound', `Could not find launch template version ${shorten(version)} for launch template ${shorten(id)}.`),
  launchTemplateVersionMalformed: (version: string) =>
    new Ec2Error('InvalidLaunchTemplateId.VersionNotFound', `The version ${shorten(version)} is not $Latest, $Default or a version number.`),

  // --- managed prefix lists ------------------------------------------------------------------
  /** A modification of an AWS-managed list, the removal of an entry the list lacks. */
  invalidPrefixListModification: make('InvalidPrefixListModification'),
  /** Terraform recognises this wording ("prefix list has the incorrect version number"). */
  prefixListVersionMismatch: () => new Ec2Error('PrefixListVersionMismatch', 'The prefix list has the incorrect version number.'),
  prefixListMaxEntriesExceeded: (max: number) =>
    new Ec2Error('PrefixListMaxEntriesExceeded', `The prefix list would exceed its maximum number of entries (${max}).`),
  prefixListResourceLimitExceeded: () =>
    new Ec2Error('PrefixListResourceLimitExceeded', 'The maximum number of prefix lists has been reached.'),

  // --- network interfaces ---------------------------------------------------------------------
  networkInterfaceInUse: (eniId: string) =>
    new Ec2Error('InvalidNetworkInterface.InUse', `Interface: [${eniId}] in use.`),
  attachmentLimitExceeded: (count: number, instanceType: string) =>
    new Ec2Error('AttachmentLimitExceeded', `Interface count ${count} exceeds the limit for ${instanceType}`),
  ipAddressLimitExceeded: make('InvalidInterface.IpAddressLimitExceeded'),
  privateIpAddressLimitExceeded: make('PrivateIpAddressLimitExceeded'),
  networkInterfaceLimitExceeded: () =>
    new Ec2Error('NetworkInterfaceLimitExceeded', 'The maximum number of network interfaces has been reached.'),
  invalidInstanceIdMultipleInterfaces: (instanceId: string) =>
    new Ec2Error(
      'InvalidInstanceID',
      `There are multiple interfaces attached to instance '${instanceId}'. Please specify an interface ID for the operation instead.`,
    ),
  operationNotPermitted: make('OperationNotPermitted'),
  /** AWS: a service's (`ela-attach-`) attachment is the service's to end, never the user's. */
  serviceAttachmentNotManageable: () =>
    new Ec2Error('OperationNotPermitted', "You are not allowed to manage 'ela-attach' attachments."),
  invalidPermissionIdDuplicate: make('InvalidPermission.Duplicate'),
  incorrectState: make('IncorrectState'),
  incorrectInstanceState: make('IncorrectInstanceState'),
  /** MetadataOptions / ModifyInstanceMetadataOptions: AWS's range is 1 to 64 (wording of AWS's message not verified). */
  invalidHopLimit: (value: string) =>
    new Ec2Error(
      'InvalidParameterValue',
      `Value (${shorten(value)}) for parameter HttpPutResponseHopLimit is invalid. The hop limit must be an integer from 1 to 64.`,
    ),

  // --- store ----------------------------------------------------------------------------------
  /** A shared (PostgreSQL) store gave up re-running an action that kept losing races: the SDKs retry this code. */
  concurrentModification: () =>
    new Ec2Error('RequestLimitExceeded', 'The request could not be completed because of concurrent changes; retry.', 503),
  /** The shared store's database cannot be reached right now: AWS's code for a temporary server failure, which the SDKs retry. */
  serviceUnavailable: () => new Ec2Error('ServiceUnavailable', 'The request has failed due to a temporary failure of the server.', 503),
} as const;

/**
 * The EC2 error a store error stands for; any other error as it is. The store sits below the
 * rules and words its refusals itself (store/errors.ts); this is where they become EC2's.
 */
export function fromStoreError(error: unknown): unknown {
  if (!(error instanceof StoreError)) return error;
  if (error instanceof UnknownFilterError) return Errors.invalidFilter(error.filterName);
  if (error instanceof InvalidPageTokenError) return Errors.invalidNextToken(error.token);
  if (error instanceof TransactionRetriesExhaustedError) return Errors.concurrentModification();
  if (error instanceof StoreUnavailableError) return Errors.serviceUnavailable();
  return error;
}

/** Runs fn, turning a store error it throws into its EC2 error. */
export function withEc2Errors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw fromStoreError(error);
  }
}

export type ErrorCatalogue = typeof Errors;
