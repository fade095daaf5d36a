/**
 * STS and IAM on the EC2 endpoint's URL: only what identifies the caller. Tools ask STS
 * `GetCallerIdentity` for the account id at the endpoint URL they were given (Terraform's AWS
 * provider unless `skip_requesting_account_id`; Ansible's amazon.aws modules), so a provider
 * block needs no more than the endpoint. Every other STS action, and every IAM action, is refused
 * with that service's own error envelope, so that a client's error handling reads it as usual.
 *
 * A request belongs to STS or IAM when its SigV4 credential scope names that service (what every
 * SDK signs with), or, unsigned (open mode), when its `Version` is that service's API version.
 * Both speak the AWS Query protocol: form parameters in, XML out
 * (`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">`), errors as
 * `<ErrorResponse xmlns=…><Error><Type>Sender</Type><Code/><Message/></Error><RequestId/></ErrorResponse>`.
 */
import { callerIdentity, type Caller } from '../../cloud/caller-identity.ts';
import { Errors, type Ec2Error } from '../../cloud/errors.ts';
import { escapeXml } from '../ec2/xml-encode.ts';

export type IdentityService = 'sts' | 'iam';

const SERVICES: Record<IdentityService, { version: string; namespace: string }> = {
  sts: { version: '2011-06-15', namespace: 'https://sts.amazonaws.com/doc/2011-06-15/' },
  iam: { version: '2010-05-08', namespace: 'https://iam.amazonaws.com/doc/2010-05-08/' },
};

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** The identity service a SigV4 credential scope names, if it names one. */
export function identityServiceOfScope(service: string | undefined): IdentityService | undefined {
  return service === 'sts' || service === 'iam' ? service : undefined;
}

/** The identity service whose API version an unsigned request names, if any. */
export function identityServiceOfVersion(version: string | undefined): IdentityService | undefined {
  return (Object.keys(SERVICES) as IdentityService[]).find((s) => SERVICES[s].version === version);
}

/** Answers one STS or IAM Query request, or throws the error to encode with `encodeIdentityServiceError`. */
export function answerIdentityService(service: IdentityService, params: readonly [string, string][], caller: Caller, requestId: string): string {
  const action = params.find(([k]) => k === 'Action')?.[1];
  if (!action) throw Errors.missingAction();
  const version = params.find(([k]) => k === 'Version')?.[1];
  if (version === undefined) throw Errors.missingParameter('Version');
  if (service !== 'sts' || action !== 'GetCallerIdentity' || version !== SERVICES.sts.version) {
    throw Errors.unknownOperation(action, version);
  }
  const identity = callerIdentity(caller);
  return (
    `${XML_DECLARATION}<GetCallerIdentityResponse xmlns="${SERVICES.sts.namespace}"><GetCallerIdentityResult>` +
    `<Arn>${escapeXml(identity.Arn)}</Arn><UserId>${escapeXml(identity.UserId)}</UserId><Account>${identity.Account}</Account>` +
    `</GetCallerIdentityResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`
  );
}

/** The Query protocol's error envelope of STS and IAM (`Sender` for a 4xx, `Receiver` for a 5xx). */
export function encodeIdentityServiceError(service: IdentityService, error: Ec2Error, requestId: string): string {
  const type = error.status >= 500 ? 'Receiver' : 'Sender';
  return (
    `${XML_DECLARATION}<ErrorResponse xmlns="${SERVICES[service].namespace}"><Error><Type>${type}</Type>` +
    `<Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error>` +
    `<RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}
