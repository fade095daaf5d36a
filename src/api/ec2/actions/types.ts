import type { Context } from '../../../cloud/context.ts';

/** One EC2 action: the decoded input in, the output to encode out. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Handler = (ctx: Context, input: any) => Promise<object>;

export type ActionTable = Record<string, Handler>;
