// The provisioning commands, as yargs command modules. Each handler lives in its own file and is
// imported only when its command runs, so read commands start fast.
import { SpecError } from '../errors.js';
import type { Argv, CommandModule } from 'yargs';


const guestsArg = (y: Argv) => y.positional('guests', { type: 'string', array: true, describe: 'guest names (default: every guest in the spec)' });
const hostOpt = (y: Argv) => y.option('host', { type: 'string', array: true, describe: 'only the guests on this host of the spec\'s hosts: (repeatable)' });
const timeoutOpt = (y: Argv) => y.option('timeout', {
  type: 'number', default: 300, describe: 'seconds to wait for each guest\'s DHCP lease (1 … 86400)',
  // A bad value stops here, before anything is read or written (exit 2).
  coerce: (v: unknown) => {
    const n = typeof v === 'number' ? v : Number.NaN;
    if (!Number.isFinite(n) || n < 1 || n > 86400) throw new SpecError([{ path: '--timeout', message: `${String(v)} is not a number of seconds from 1 to 86400` }], 'bad arguments');
    return n;
  },
});

/** Everything after the first `--` (a command for the guest, never options of flakevirt's). */
export function afterDoubleDash(argv: readonly string[]): string[] {
  const i = argv.indexOf('--');
  return i < 0 ? [] : argv.slice(i + 1);
}

export const commands: CommandModule[] = [
  {
    command: 'doctor',
    describe: 'what each host offers against what the spec needs: libvirt, QEMU\'s NVMe, KVM (probed), the network, pool space, nix, virtiofsd, the ssh jump; exit 1 when a needed check fails',
    builder: hostOpt,
    handler: async (a) => (await import('./doctor.js')).doctorCommand(a as never),
  },
  {
    command: 'init',
    describe: 'write a commented flakevirt.yaml for a common case (never over an existing file)',
    builder: (y) => y.option('example', { choices: ['fstests', 'blktests', 'two-hosts'] as const, default: 'fstests', describe: 'fstests: a guest with an NVMe test and scratch disk; blktests: NVMe namespaces and a zoned one; two-hosts: a fleet over this machine and an ssh host' }),
    handler: async (a) => (await import('./init.js')).initCommand(a as never),
  },
  {
    command: 'build [guests..]',
    describe: 'render, lock and build the guests\' NixOS images through Nix (guests without image:)',
    builder: (y) => guestsArg(y).option('update', { type: 'boolean', describe: 're-pin the nixos-flake input (nix flake lock --update-input)' })
      .option('check', { type: 'boolean', describe: 'only evaluate each configuration (nix eval of the image drvPath): seconds, where a build takes minutes' }),
    handler: async (a) => (await import('./build.js')).buildCommand(a as never),
  },
  {
    command: 'up [guests..]',
    describe: 'create, start and wait for a fresh DHCP lease (the built-in example fleet when there is no spec)',
    builder: (y) => hostOpt(timeoutOpt(guestsArg(y)))
      .option('dry-run', { type: 'boolean', describe: 'print where each guest goes (guest → host) and change nothing' })
      .option('update', { type: 'boolean', describe: 're-pin nixos-flake before building' })
      .option('wait', { choices: ['lease', 'ssh'] as const, default: 'lease', describe: 'what to wait for: the DHCP lease, or also the guest\'s ssh port' }).example('$0 up', 'bring up every guest of ./flakevirt.yaml').example('$0 up xfs-4k --timeout 60', 'one guest'),
    handler: async (a) => (await import('./up.js')).upCommand(a as never),
  },
  {
    command: 'plan [guests..]',
    describe: 'where each guest goes (guest → host, and why), without changing anything',
    builder: (y) => hostOpt(guestsArg(y)),
    handler: async (a) => (await import('./up.js')).upCommand({ ...(a as object), dryRun: true } as never),
  },
  {
    command: 'down [guests..]',
    describe: 'destroy guests and delete the disks flakevirt created for them',
    builder: (y) => hostOpt(guestsArg(y)).option('all', { type: 'boolean', describe: 'every flakevirt domain this spec made (also guests no longer in it); with no spec, every flakevirt domain on the connection' }),
    handler: async (a) => (await import('./down.js')).downCommand(a as never),
  },
  {
    command: 'reimage [guests..]',
    describe: 'fresh root disk on the current base image; extra disks kept',
    builder: (y) => hostOpt(timeoutOpt(guestsArg(y))).option('wipe-disks', { type: 'boolean', describe: 'recreate the extra disks too (their data is lost)' }),
    handler: async (a) => (await import('./reimage.js')).reimageCommand(a as never),
  },
  {
    command: 'checkpoint [guests..]',
    describe: 'save running guests\' memory and every disk as one point to reset to (virtio qcow2 disks only)',
    builder: (y) => hostOpt(guestsArg(y)).option('name', { type: 'string', default: 'default', describe: 'checkpoint name (1-32 of a-z 0-9 -); one of that name is replaced' }),
    handler: async (a) => (await import('./checkpoint.js')).checkpointCommand(a as never),
  },
  {
    command: 'reset [guests..]',
    describe: 'put guests back to a checkpoint: same memory, same disks, no boot',
    builder: (y) => hostOpt(timeoutOpt(guestsArg(y))).option('name', { type: 'string', default: 'default', describe: 'which checkpoint' })
      .option('wait', { choices: ['lease', 'ssh'] as const, default: 'lease', describe: 'also wait until the guest\'s ssh port answers' }),
    handler: async (a) => (await import('./checkpoint.js')).resetCommand(a as never),
  },
  {
    command: 'checkpoints [guests..]',
    describe: 'every checkpoint of the flakevirt guests: guest, name, when taken',
    builder: (y) => hostOpt(guestsArg(y)),
    handler: async (a) => (await import('./checkpoint.js')).checkpointsCommand(a as never),
  },
  {
    command: 'list',
    aliases: ['status'],
    describe: 'one row per flakevirt guest: name, host, state, IP, base image, disks',
    builder: hostOpt,
    handler: async (a) => (await import('./list.js')).listCommand(a as never),
  },
  {
    command: 'ips',
    describe: 'NAME IP lines for the running guests',
    builder: hostOpt,
    handler: async (a) => (await import('./list.js')).ipsCommand(a as never),
  },
  {
    command: 'health [guests..]',
    describe: 'every kernel report (panic, oops, hung task, warning) of each guest\'s current boot, with its trace; exit 1 when there is one',
    builder: (y) => hostOpt(guestsArg(y)),
    handler: async (a) => (await import('./health.js')).healthCommand(a as never),
  },
  {
    command: 'ssh <guest>',
    describe: 'a shell on the guest, or -- CMD… run there (its output and exit status passed through); the connection ssh-config and the inventory use',
    builder: (y) => y.positional('guest', { type: 'string', demandOption: true })
      .example('$0 ssh xfs-4k', 'a shell on xfs-4k')
      .example('$0 ssh xfs-4k -- uname -r', 'run a command there'),
    handler: async (a) => (await import('./ssh.js')).sshCommand({ ...(a as object), command: afterDoubleDash(process.argv) } as never),
  },
  {
    command: 'console <guest>',
    describe: "attach to a guest's serial console",
    builder: (y) => hostOpt(y.positional('guest', { type: 'string', demandOption: true })).option('log', { type: 'boolean', describe: 'print the console log file instead' }),
    handler: async (a) => (await import('./console.js')).consoleCommand(a as never),
  },
  {
    command: 'disks [guests..]',
    describe: 'every extra disk: guest device, by-id path, bus, serial, namespace, host file, geometry',
    builder: (y) => hostOpt(guestsArg(y)),
    handler: async (a) => (await import('./disks.js')).disksCommand(a as never),
  },
  {
    command: 'inventory',
    describe: 'Ansible inventory of the running guests (static, or dynamic with --list/--host)',
    builder: (y) => y
      .option('format', { choices: ['ini', 'yaml', 'json'] as const, default: 'ini', describe: 'static inventory format' })
      .option('list', { type: 'boolean', describe: 'dynamic inventory: all hosts and groups as JSON, with _meta.hostvars' })
      .option('host', { type: 'string', describe: 'dynamic inventory: one host\'s variables' })
      .option('script', { type: 'string', describe: 'write an executable for ansible -i PATH that calls flakevirt with this spec' })
      .option('on', { type: 'string', array: true, describe: 'only the guests on this host of the spec (--host is Ansible\'s here)' })
      .example('$0 inventory > hosts.ini', 'static INI inventory')
      .example('$0 inventory --script ./inventory.sh && ansible -i ./inventory.sh all -m ping', 'dynamic inventory'),
    handler: async (a) => (await import('./inventory.js')).inventoryCommand(a as never),
  },
  {
    command: 'ssh-config',
    describe: 'ssh Host blocks for the running guests',
    builder: (y) => hostOpt(y)
      .option('write', { type: 'boolean', describe: 'write them to flakevirt\'s own file (default ~/.ssh/flakevirt.conf) instead of printing' })
      .option('output', { type: 'string', describe: 'the file --write writes' }),
    handler: async (a) => (await import('./ssh-config.js')).sshConfigCommand(a as never),
  },
];
