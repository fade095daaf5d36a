#!/bin/sh
# keepalived's notify_master: this instance has become MASTER, so it takes the floating interface
# (and with it the service's private address and Elastic IP) through the EC2 API, as users do on
# AWS. Argument: a file of shell variables — FLOATING_ENI, DEVICE_INDEX, NOTIFY_LOG, and the AWS
# CLI's environment (AWS_ENDPOINT_URL_EC2 is what `eni-local exec` sets: the API inside the plane).
set -eu
. "$1"
log() { echo "$(date +%H:%M:%S.%N | cut -c1-12) $*" >>"$NOTIFY_LOG"; }
# An explicit --endpoint-url too, for CLIs older than service-specific endpoints (v2 < 2.13).
ec2() { aws --endpoint-url "$AWS_ENDPOINT_URL_EC2" --output text ec2 "$@"; }

# Who am I? The instance metadata service (IMDSv2).
token=$(curl -sS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token)
me=$(curl -sS -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/instance-id)
log "$me: MASTER, taking $FLOATING_ENI"

set -- $(ec2 describe-network-interfaces --network-interface-ids "$FLOATING_ENI" --query 'NetworkInterfaces[0].Attachment.[AttachmentId,InstanceId]')
if [ "${2:-None}" = "$me" ]; then
  log "$me: $FLOATING_ENI is already here"
  exit 0
fi
if [ "${1:-None}" != "None" ]; then
  # Force: the old master may be dead and unable to release it.
  ec2 detach-network-interface --attachment-id "$1" --force >/dev/null
  log "$me: detached $FLOATING_ENI from $2"
  # Bounded wait for `available` (the CLI's waiter polls every 15 s: too slow for a failover).
  i=0
  until [ "$(ec2 describe-network-interfaces --network-interface-ids "$FLOATING_ENI" --query 'NetworkInterfaces[0].Status')" = available ]; do
    i=$((i + 1))
    if [ "$i" -gt 100 ]; then log "$me: $FLOATING_ENI never became available"; exit 1; fi
    sleep 0.1
  done
fi
ec2 attach-network-interface --network-interface-id "$FLOATING_ENI" --instance-id "$me" --device-index "$DEVICE_INDEX" >/dev/null
log "$me: attached $FLOATING_ENI as eth$DEVICE_INDEX"
