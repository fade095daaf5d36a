/**
 * The forms: credentials and region, create an interface, edit its groups, associate an Elastic
 * IP, delete. Each submits EC2 calls and, when refused, shows AWS's code and message and stays open.
 */
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { DialogState } from './actions';
import { failureOf, type ApiFailure, type Settings } from './api';
import { nameOf, type TopologyIndex } from './model';
import { associateElasticIp, createInterface, deleteInterface, setInterfaceGroups } from './operations';

interface DialogProps {
  dialog: DialogState;
  index: TopologyIndex | null;
  ec2: EC2Client;
  settings: Settings;
  regions: string[];
  onSettings(settings: Settings): void;
  /** Closes the dialog; `changed` asks for a refetch of the picture. */
  onClose(changed?: boolean, message?: string): void;
}

function Modal({ title, children, onClose, onSubmit, busy, error, submitLabel }: { title: string; children: ReactNode; onClose(): void; onSubmit(): void; busy: boolean; error?: ApiFailure; submitLabel: string }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className="modal"
      aria-label={title}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <form
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          if (!busy) onSubmit();
        }}
      >
        <h2>{title}</h2>
        {children}
        {error && (
          <div className="notice error" role="alert" data-error-code={error.code}>
            <strong className="code">{error.code}</strong> <span className="message">{error.message}</span>
          </div>
        )}
        <div className="modal-buttons">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Working…' : submitLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}

function useSubmit(onDone: (message?: string) => void) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiFailure>();
  const submit = (op: () => Promise<string | void>) => {
    setBusy(true);
    setError(undefined);
    op().then(
      (message) => onDone(message ?? undefined),
      (e: unknown) => {
        setError(failureOf(e));
        setBusy(false);
      },
    );
  };
  return { busy, error, submit };
}

export function Dialog(props: DialogProps) {
  switch (props.dialog.kind) {
    case 'credentials':
      return <CredentialsDialog {...props} reason={props.dialog.reason} />;
    case 'create-interface':
      return <CreateInterfaceDialog {...props} subnetId={props.dialog.subnetId} />;
    case 'security-groups':
      return <GroupsDialog {...props} eniId={props.dialog.eniId} />;
    case 'elastic-ip':
      return <ElasticIpDialog {...props} eniId={props.dialog.eniId} />;
    case 'delete-interface':
      return <DeleteDialog {...props} eniId={props.dialog.eniId} />;
  }
}

function CredentialsDialog({ settings, regions, onSettings, onClose, reason }: DialogProps & { reason?: string }) {
  const [region, setRegion] = useState(settings.region);
  const [accessKeyId, setAccessKeyId] = useState(settings.credentials.accessKeyId);
  const [secretAccessKey, setSecretAccessKey] = useState(settings.credentials.secretAccessKey);
  const [sessionToken, setSessionToken] = useState(settings.credentials.sessionToken ?? '');
  const choices = regions.includes(region) ? regions : [region, ...regions];
  return (
    <Modal
      title="Region and credentials"
      busy={false}
      submitLabel="Connect"
      onClose={() => onClose()}
      onSubmit={() => {
        onSettings({ region, credentials: { accessKeyId: accessKeyId.trim(), secretAccessKey, sessionToken: sessionToken.trim() || undefined } });
        onClose();
      }}
    >
      {reason && (
        <p className="notice error" role="alert">
          {reason}
        </p>
      )}
      <label>
        Region
        <select value={region} onChange={(e) => setRegion(e.target.value)}>
          {choices.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
      </label>
      <p className="hint-text">
        The access key chooses the account, as on AWS. A server in open mode accepts any key; one started with <code>--auth sigv4</code> needs a key of its
        credentials file. The keys stay in this tab (session storage) and are only used to sign requests to this server.
      </p>
      <label>
        Access key ID
        <input value={accessKeyId} onChange={(e) => setAccessKeyId(e.target.value)} autoComplete="off" spellCheck={false} required />
      </label>
      <label>
        Secret access key
        <input type="password" value={secretAccessKey} onChange={(e) => setSecretAccessKey(e.target.value)} autoComplete="off" required />
      </label>
      <label>
        Session token (optional)
        <input type="password" value={sessionToken} onChange={(e) => setSessionToken(e.target.value)} autoComplete="off" />
      </label>
    </Modal>
  );
}

function GroupChoices({ vpcId, index, chosen, setChosen }: { vpcId: string; index: TopologyIndex; chosen: string[]; setChosen(ids: string[]): void }) {
  const groups = index.groupsByVpc.get(vpcId) ?? [];
  return (
    <fieldset className="choices">
      <legend>Security groups (up to 5)</legend>
      {groups.map((g) => (
        <label key={g.GroupId} className="choice">
          <input
            type="checkbox"
            checked={chosen.includes(g.GroupId!)}
            onChange={(e) => setChosen(e.target.checked ? [...chosen, g.GroupId!] : chosen.filter((id) => id !== g.GroupId))}
          />
          {g.GroupName} <code>{g.GroupId}</code>
        </label>
      ))}
    </fieldset>
  );
}

function CreateInterfaceDialog({ index, ec2, onClose, subnetId }: DialogProps & { subnetId: string }) {
  const subnet = index?.subnets.get(subnetId);
  const vpcId = subnet?.VpcId ?? '';
  const defaultGroup = index?.groupsByVpc.get(vpcId)?.find((g) => g.GroupName === 'default')?.GroupId;
  const [description, setDescription] = useState('');
  const [privateIp, setPrivateIp] = useState('');
  const [groups, setGroups] = useState<string[]>(defaultGroup ? [defaultGroup] : []);
  const { busy, error, submit } = useSubmit((message) => onClose(true, message));
  return (
    <Modal
      title={`Create a network interface in ${subnetId}`}
      busy={busy}
      error={error}
      submitLabel="Create"
      onClose={() => onClose()}
      onSubmit={() => submit(async () => `created ${await createInterface(ec2, { subnetId, description, groups, privateIpAddress: privateIp.trim() })}`)}
    >
      <p className="hint-text">
        {nameOf(subnet) ?? subnetId} · {subnet?.CidrBlock} · {subnet?.AvailabilityZone} · {subnet?.AvailableIpAddressCount} addresses free
      </p>
      <label>
        Description
        <input value={description} onChange={(e) => setDescription(e.target.value)} maxLength={255} />
      </label>
      <label>
        Private IPv4 address (empty: the next free one)
        <input value={privateIp} onChange={(e) => setPrivateIp(e.target.value)} placeholder={subnet?.CidrBlock} spellCheck={false} />
      </label>
      {index && <GroupChoices vpcId={vpcId} index={index} chosen={groups} setChosen={setGroups} />}
    </Modal>
  );
}

function GroupsDialog({ index, ec2, onClose, eniId }: DialogProps & { eniId: string }) {
  const eni = index?.interfaces.get(eniId);
  const [groups, setGroups] = useState<string[]>((eni?.Groups ?? []).map((g) => g.GroupId!));
  const { busy, error, submit } = useSubmit((message) => onClose(true, message));
  return (
    <Modal title={`Security groups of ${eniId}`} busy={busy} error={error} submitLabel="Save" onClose={() => onClose()} onSubmit={() => submit(() => setInterfaceGroups(ec2, eniId, groups))}>
      {index && eni && <GroupChoices vpcId={eni.VpcId!} index={index} chosen={groups} setChosen={setGroups} />}
    </Modal>
  );
}

function ElasticIpDialog({ index, ec2, onClose, eniId }: DialogProps & { eniId: string }) {
  const eni = index?.interfaces.get(eniId);
  const addresses = index?.topology.addresses.filter((a) => a.Domain === 'vpc' || a.AllocationId) ?? [];
  const free = addresses.filter((a) => !a.AssociationId);
  const [allocation, setAllocation] = useState<string>(free[0]?.AllocationId ?? 'new');
  const privates = (eni?.PrivateIpAddresses ?? []).map((p) => p.PrivateIpAddress!);
  const [privateIp, setPrivateIp] = useState(eni?.PrivateIpAddress ?? privates[0] ?? '');
  const { busy, error, submit } = useSubmit((message) => onClose(true, message));
  return (
    <Modal
      title={`Associate an Elastic IP with ${eniId}`}
      busy={busy}
      error={error}
      submitLabel="Associate"
      onClose={() => onClose()}
      onSubmit={() => submit(async () => `associated ${await associateElasticIp(ec2, eniId, allocation, privateIp || undefined)}`)}
    >
      <fieldset className="choices">
        <legend>Elastic IP</legend>
        <label className="choice">
          <input type="radio" name="allocation" checked={allocation === 'new'} onChange={() => setAllocation('new')} /> Allocate a new one
        </label>
        {addresses.map((a) => (
          <label key={a.AllocationId} className="choice">
            <input type="radio" name="allocation" checked={allocation === a.AllocationId} onChange={() => setAllocation(a.AllocationId!)} />
            {a.PublicIp} <code>{a.AllocationId}</code>
            {a.NetworkInterfaceId && <span className="hint"> (now on {a.NetworkInterfaceId}: it moves)</span>}
          </label>
        ))}
      </fieldset>
      {privates.length > 1 && (
        <label>
          Private address
          <select value={privateIp} onChange={(e) => setPrivateIp(e.target.value)}>
            {privates.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </label>
      )}
    </Modal>
  );
}

function DeleteDialog({ ec2, onClose, eniId }: DialogProps & { eniId: string }) {
  const { busy, error, submit } = useSubmit((message) => onClose(true, message));
  return (
    <Modal title={`Delete ${eniId}?`} busy={busy} error={error} submitLabel="Delete" onClose={() => onClose()} onSubmit={() => submit(async () => `deleted ${await deleteInterface(ec2, eniId).then(() => eniId)}`)}>
      <p>Its private addresses go back to the subnet; an associated Elastic IP stays allocated.</p>
    </Modal>
  );
}
