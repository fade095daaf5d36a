import type { Context } from '../../../cloud/context.ts';

/** One EC2 action: the decoded input in, the output to encode out. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Handler = (ctx: Context, input: any) => Promise<object>;

export type ActionTable = Record<string, Handler>;

/**
 * For a write that can name up front every resource it may change or its rules read: those
 * resources, from its decoded input (see WriteScope.resources); undefined when it cannot.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ResourcesOf = (input: any) => readonly string[] | undefined;

export type ResourceTable = Record<string, ResourcesOf>;
