/** Instance types, images and key pairs: what a launch refers to. */
import * as images from '../../../cloud/images.ts';
import * as instanceTypes from '../../../cloud/instance-types.ts';
import * as keyPairs from '../../../cloud/key-pairs.ts';
import type { ActionTable } from './types.ts';

export const instanceCatalogueActions: ActionTable = {
  DescribeInstanceTypes: instanceTypes.describeInstanceTypes,
  DescribeImages: images.describeImages,
  CreateKeyPair: keyPairs.createKeyPair,
  ImportKeyPair: keyPairs.importKeyPair,
  DescribeKeyPairs: keyPairs.describeKeyPairs,
  DeleteKeyPair: keyPairs.deleteKeyPair,
};
