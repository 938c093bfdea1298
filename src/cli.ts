// flakevirt's command line: yargs wiring and the one place errors become exit codes. The bin
// (dist/cli.js, scripts/bundle.mjs) runs it bundled.
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { createRequire } from 'node:module';
import { exitCodeFor } from './errors.js';
import { commands as provisioning } from './commands/registry.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };


async function main(argv: string[]): Promise<void> {
  let cli: Argv = yargs(argv)
    .scriptName('flakevirt')
    .usage('$0 <command> [options]\n\nDeclarative libvirt test guests for kernel and storage developers.')
    .option('spec', { alias: 'f', type: 'string', describe: 'spec file (default: ./flakevirt.yaml)', global: true })
    .option('connect', { alias: 'c', type: 'string', describe: 'libvirt URI (default: spec connect:, $LIBVIRT_DEFAULT_URI, qemu:///system)', global: true })
    .option('json', { type: 'boolean', describe: 'machine-readable output', global: true })
    .command('validate', 'check the spec and summarise it', {}, async (a) => (await import('./commands/validate.js')).validateCommand(a as never))
    .command('render <guest>', "print a guest's rendered flake.nix, default.nix and domain XML", (y) => y
      .positional('guest', { type: 'string', demandOption: true })
      .option('nvme', { choices: ['native', 'commandline'] as const, describe: 'NVMe form to render (default: commandline)' }),
    async (a) => (await import('./commands/render.js')).renderCommand(a as never))
    .example('$0 up', 'bring up every guest of ./flakevirt.yaml (or the built-in example fleet)')
    .example('$0 inventory --script ./inventory.sh', 'an Ansible dynamic inventory for this spec')
    .example('$0 validate -f fleet.yaml', 'check a spec')
    .example('$0 render xfs-4k', 'show what flakevirt would hand to nix and libvirt');
  for (const c of provisioning) cli = cli.command(c);
  skipHelpCache(cli, argv);
  await cli
    .completion('completion', 'print a bash/zsh completion script (source it, or add it to ~/.bashrc)')
    .demandCommand(1, 'name a command; see flakevirt --help')
    .strict()
    .version(version)
    .help()
    .alias('h', 'help')
    .wrap(Math.min(110, process.stdout.columns || 110))
    .fail((msg, err) => {
      // An argument refused by its own check (coerce) arrives wrapped by yargs: a usage error, exit 2.
      if (err && err.name !== 'YError') throw err;
      if (err) msg = err.message;
      process.stderr.write(`flakevirt: ${msg}\nRun flakevirt --help for usage.\n`);
      process.exit(2);
    })
    .parseAsync();
}

/**
 * yargs renders and keeps the whole help text whenever a command runs (lib/command.js, after the
 * handler: usage.cacheHelpMessage), for a failure message that shows help. flakevirt's .fail()
 * never shows it, and the rendering (cliui, wrap-ansi, string-width over every option) cost 25–45 ms
 * of each `list`, `ips` or no-op `up`. Skipped unless help is asked for; the Angular CLI does the same
 * (angular/angular-cli#34087). An internal of yargs: when it is not there, nothing changes.
 */
function skipHelpCache(cli: Argv, argv: string[]): void {
  if (argv.some((a) => a === '--help' || a === '-h' || a === 'help')) return;
  const usage = (cli as unknown as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } }).getInternalMethods?.().getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => undefined;
}

// A reader that went away (`flakevirt render g | head`) is not an error of flakevirt's.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

main(hideBin(process.argv)).catch((e: unknown) => {
  const code = exitCodeFor(e);
  const message = e instanceof Error ? e.message : String(e);
  process.stderr.write(`flakevirt: ${message}\n`);
  if (code === 70) process.stderr.write(`This is a bug in flakevirt; please report it with the command and the output above.\n${e instanceof Error ? e.stack : ''}\n`);
  process.exitCode = code;
});
