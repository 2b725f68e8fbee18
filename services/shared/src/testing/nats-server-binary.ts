/**
 * Where the `nats-server` binary is.
 */
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

const BINARY_NAME = 'nats-server';
const FALLBACK_BINARIES = ['/usr/sbin/nats-server', '/usr/bin/nats-server'];

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds the `nats-server` binary: `$WEFT_NATS_SERVER` if set, else the first
 * `nats-server` on `PATH`, else `/usr/sbin/nats-server` or `/usr/bin/nats-server`
 * (where Debian's package puts it; `/usr/sbin` is often not on a user's `PATH`).
 *
 * @throws Error telling how to install it when none is found, or when
 *   `$WEFT_NATS_SERVER` names something that is not an executable file.
 */
export function findNatsServerBinary(): string {
  const fromEnv = process.env['WEFT_NATS_SERVER'];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (isExecutableFile(fromEnv)) return fromEnv;
    throw new Error(
      `WEFT_NATS_SERVER is set to ${JSON.stringify(fromEnv)}, which is not an executable file. ` +
        'Point it at a nats-server binary, or unset it and run scripts/ensure-nats.sh to install one.',
    );
  }
  const pathDirs = (process.env['PATH'] ?? '').split(delimiter).filter((dir) => isAbsolute(dir));
  for (const candidate of [...pathDirs.map((dir) => join(dir, BINARY_NAME)), ...FALLBACK_BINARIES]) {
    if (isExecutableFile(candidate)) return candidate;
  }
  throw new Error(
    'nats-server was not found (looked at $WEFT_NATS_SERVER, PATH, /usr/sbin and /usr/bin). ' +
      'Run scripts/ensure-nats.sh to install it (Debian/Ubuntu: apt-get install nats-server), ' +
      'or set WEFT_NATS_SERVER to the path of a nats-server binary.',
  );
}
