// flakevirt ssh-config [--write [FILE]]: Host blocks for the running guests, printed or kept in a
// file of flakevirt's own that ~/.ssh/config includes (flakevirt never edits ~/.ssh/config).
import { ownDir, writeOwnFile } from '../adapters/private-dir.js';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { renderSshConfig } from '../render/ssh-config.js';
import { leasedHosts } from './inventory.js';
import { print, type GlobalOptions } from './context.js';

export interface SshConfigOptions extends GlobalOptions {
  write?: boolean;
  output?: string;
}

export const DEFAULT_SSH_CONFIG = join(homedir(), '.ssh', 'flakevirt.conf');

export async function sshConfigCommand(opts: SshConfigOptions): Promise<void> {
  const { fleet, hosts } = await leasedHosts(opts);
  const file = opts.output ?? DEFAULT_SSH_CONFIG;
  const hint = `Use it by putting "Include ${file}" at the top of ~/.ssh/config.`;
  const text = renderSshConfig(fleet, hosts.map((h) => ({ name: h.name, ip: h.ip, ...(h.host && { host: h.host }) })), hint);
  if (!opts.write) return void process.stdout.write(text);
  // ssh runs a config's ProxyCommand: it goes only into a directory nobody else can write.
  ownDir(dirname(file), 0o700);
  await writeOwnFile(file, text, 0o600);
  print(`wrote ${file} (${hosts.length} host${hosts.length === 1 ? '' : 's'}). ${hint}`);
}
