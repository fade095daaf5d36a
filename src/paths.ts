/**
 * Where the package's own files are, whether the code runs from src/ (through tsx) or from the
 * compiled dist/src/: the directory holding package.json, found upwards from this module.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('eni-local: cannot find its package.json');
    dir = parent;
  }
  return dir;
}

export const PACKAGE_ROOT = findRoot();

/** A file of the package, by its path from the package root (e.g. `src/api/ec2/model.json`). */
export const packageFile = (relative: string) => path.join(PACKAGE_ROOT, relative);
