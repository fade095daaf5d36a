/** MaxResults where the model gives no range: AWS's Describe actions take 5 to 1000 unless they say otherwise. */
import { Errors } from '../errors.ts';

export function checkMaxResults(maxResults: number | undefined, range: { min: number; max: number } = { min: 5, max: 1000 }): void {
  if (maxResults === undefined) return;
  if (maxResults < range.min || maxResults > range.max) {
    throw Errors.invalidParameterValueFor('MaxResults', String(maxResults), `Expecting a value between ${range.min} and ${range.max}.`);
  }
}
