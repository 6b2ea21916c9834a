// `npm run image:proxy`: builds the pinlab-proxy image where no registry is reachable (see
// offline-image.ts), then prints its tag on stdout and its size on stderr; progress on stderr.
import Docker from 'dockerode';
import { messageOf } from '../../proxy-core/errors.ts';
import { ensureProxyImage } from './offline-image.ts';

const USAGE = 'usage: npm run image:proxy  (node deploy/docker/build-offline.ts): no arguments; Docker is found as the docker CLI finds it (DOCKER_HOST, else /var/run/docker.sock)';

const args = process.argv.slice(2);
if (args.length > 0) {
  const help = args.length === 1 && (args[0] === '--help' || args[0] === '-h');
  process.stderr.write(help ? `${USAGE}\n` : `unexpected arguments: ${args.join(' ')}\n${USAGE}\n`);
  process.exit(help ? 0 : 2);
}

try {
  const docker = new Docker();
  try {
    // A client with a timeout for this one call: a build must not time out.
    await new Docker({ timeout: 5000 }).ping();
  } catch (error) {
    throw new Error(`Docker is not reachable (${messageOf(error)}): start it, or set DOCKER_HOST`, { cause: error });
  }
  const tag = await ensureProxyImage(docker, { onProgress: ({ stage, message }) => process.stderr.write(`[${stage}] ${message}\n`) });
  const { Size } = await docker.getImage(tag).inspect();
  process.stderr.write(`${tag}: ${(Size / 1e6).toFixed(1)} MB (${Size} bytes, docker image inspect's Size)\n`);
  process.stdout.write(`${tag}\n`);
} catch (error) {
  process.stderr.write(`${messageOf(error)}\n`);
  process.exit(1);
}
