/**
 * The details of what is selected: the very fields DescribeNetworkInterfaces, DescribeInstances,
 * DescribeSubnets or DescribeVpcs answer, as a tree, every identifier with a copy button.
 */
import { useState } from 'react';
import { useActions } from './actions';
import { copyText } from './api';
import { IDENTIFIER, nameOf, type Selection, type TopologyIndex } from './model';

export function CopyButton({ text, label }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      className={`copy${copied ? ' copied' : ''}`}
      aria-label={label ?? `Copy ${text}`}
      title={`Copy ${text}`}
      onClick={(e) => {
        e.stopPropagation();
        void copyText(text).then(() => {
          setCopied(true);
          setTimeout(() => setCopied(false), 1200);
        });
      }}
    >
      {copied ? (
        <svg viewBox="0 0 12 12" aria-hidden="true">
          <path d="M2 6.5 5 9.5 10 3" />
        </svg>
      ) : (
        <svg viewBox="0 0 12 12" aria-hidden="true">
          <rect x="4" y="4" width="7" height="7" rx="1" />
          <path d="M8 2.5V2a1 1 0 0 0-1-1H2a1 1 0 0 0-1 1v5a1 1 0 0 0 1 1h.5" />
        </svg>
      )}
    </button>
  );
}

function Value({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <span className="nil">—</span>;
  if (Array.isArray(value)) {
    if (!value.length) return <span className="nil">[]</span>;
    return (
      <ol className="tree-list">
        {value.map((v, i) => (
          <li key={i}>
            <Value value={v} />
          </li>
        ))}
      </ol>
    );
  }
  if (typeof value === 'object') return <Fields object={value as Record<string, unknown>} />;
  const text = String(value);
  return (
    <span className={`scalar ${typeof value}`}>
      {text}
      {IDENTIFIER.test(text) && <CopyButton text={text} />}
    </span>
  );
}

function Fields({ object }: { object: Record<string, unknown> }) {
  const entries = Object.entries(object).filter(([, v]) => v !== undefined);
  return (
    <dl className="fields">
      {entries.map(([key, value]) => (
        <div className="field" key={key}>
          <dt>{key}</dt>
          <dd>
            <Value value={value} />
          </dd>
        </div>
      ))}
    </dl>
  );
}

const TITLES = { 'network-interface': 'Network interface', instance: 'Instance', subnet: 'Subnet', vpc: 'VPC', internet: 'Internet' } as const;

export function Details({ selection, index }: { selection: Selection | null; index: TopologyIndex }) {
  const actions = useActions();
  if (!selection) return <p className="hint-text">Select a VPC, subnet, instance or interface to see its details. Drag an interface card onto an instance to move it, or focus a card and press M.</p>;
  if (selection.kind === 'internet') {
    return (
      <div className="details">
        <h2>Internet</h2>
        <p>Traffic from the internet enters a VPC through its internet gateway, to a public or Elastic IP address. Pick it as a traffic source in the Traffic tab.</p>
        <button type="button" onClick={() => actions.traceFrom('internet')}>
          Trace traffic from the internet
        </button>
      </div>
    );
  }
  const object =
    selection.kind === 'network-interface'
      ? index.interfaces.get(selection.id)
      : selection.kind === 'instance'
        ? index.instances.get(selection.id)
        : selection.kind === 'subnet'
          ? index.subnets.get(selection.id)
          : index.vpcs.get(selection.id);
  if (!object) return <p className="hint-text">{selection.id} no longer exists.</p>;
  const tags = ('Tags' in object ? object.Tags : 'TagSet' in object ? object.TagSet : undefined) as { Key?: string; Value?: string }[] | undefined;
  const name = nameOf({ Tags: tags });
  const eni = selection.kind === 'network-interface' ? index.interfaces.get(selection.id) : undefined;
  const health = selection.kind === 'instance' ? index.health.get(selection.id) : undefined;
  return (
    <div className="details" data-details-for={selection.id}>
      <h2>
        {TITLES[selection.kind]} {name && <span className="name">{name}</span>}
      </h2>
      <p className="id-line">
        <code>{selection.id}</code> <CopyButton text={selection.id} label={`Copy ${selection.id}`} />
      </p>
      <div className="detail-actions">
        {eni && (
          <>
            <button type="button" onClick={(e) => actions.openMenu({ kind: 'network-interface', id: selection.id, view: 'move' }, e.currentTarget)}>
              {eni.Attachment ? 'Move to…' : 'Attach to…'}
            </button>
            {eni.Attachment ? (
              <button type="button" onClick={() => actions.detach(selection.id)}>
                Detach
              </button>
            ) : (
              <button type="button" onClick={() => actions.openDialog({ kind: 'delete-interface', eniId: selection.id })}>
                Delete…
              </button>
            )}
            <button type="button" onClick={() => actions.openDialog({ kind: 'elastic-ip', eniId: selection.id })}>
              Elastic IP…
            </button>
            <button type="button" onClick={() => actions.openDialog({ kind: 'security-groups', eniId: selection.id })}>
              Groups…
            </button>
          </>
        )}
        {selection.kind === 'instance' && (
          <>
            <span className={`chip ${health === 'impaired' ? 'impaired-chip' : ''}`}>status: {health ?? 'unknown'}</span>
            <button type="button" onClick={() => actions.failInstance(selection.id, health === 'impaired' ? 'recover' : 'fail')}>
              {health === 'impaired' ? 'Recover' : 'Fail (fault injection)'}
            </button>
          </>
        )}
        {selection.kind === 'subnet' && (
          <button type="button" onClick={() => actions.openDialog({ kind: 'create-interface', subnetId: selection.id })}>
            Create network interface…
          </button>
        )}
      </div>
      <Fields object={object as unknown as Record<string, unknown>} />
    </div>
  );
}
