// How ssh reaches a guest on a remote host's private network: through the host (ProxyCommand for
// Ansible, a ProxyJump alias for ssh_config). Pure.
import type { Jump } from '../model.js';
import { jumpTarget } from '../hosts.js';
import { shellWord } from '../escape/shell.js';
import { SpecError } from '../errors.js';

/** ssh options for the hop to the host itself. */
export function jumpOptions(j: Jump): string[] {
  return [
    ...(j.port ? ['-p', String(j.port)] : []),
    ...(j.keyFile ? ['-i', j.keyFile, '-o', 'IdentitiesOnly=yes'] : []),
    ...(j.noVerify ? ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'] : []),
    '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR',
  ];
}

/** `ssh -W %h:%p … user@host`, each value one shell word (ssh runs ProxyCommand through sh -c). */
export function proxyCommand(j: Jump): string {
  for (const v of [j.host, j.user ?? '', j.keyFile ?? '']) {
    // % is ssh's token marker and " closes Ansible's quoting: neither can be escaped on every layer.
    if (/["%\\\u0000-\u001f]/.test(v)) throw new SpecError([{ path: 'hosts', message: `cannot use ${JSON.stringify(v)} in an ssh ProxyCommand; rename it or set hosts.<name>.jump` }], 'cannot reach a host through ssh');
  }
  return ['ssh', '-W', '%h:%p', ...jumpOptions(j), jumpTarget(j)].map((w) => (w === '%h:%p' ? w : shellWord(w))).join(' ');
}

/** The ansible_ssh_common_args fragment that sends a connection through the jump. */
export function ansibleJumpArgs(j: Jump): string {
  return `-o ProxyCommand="${proxyCommand(j)}"`;
}
