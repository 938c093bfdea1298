// flakevirt console GUEST [--log]: the serial console, live or from its log file, on whichever
// host of the fleet the guest runs.
import { RefusedError, SpecError, ToolError } from '../errors.js';
import { domainFacts } from '../ownership.js';
import { foreign } from '../plan.js';
import { hostsFor, loadFleetIfAny, type GlobalOptions } from './context.js';
import { Hosts } from './hosts.js';
import { printable } from '../escape/terminal.js';

export interface ConsoleOptions extends GlobalOptions {
  guest: string;
  log?: boolean;
}

export async function consoleCommand(opts: ConsoleOptions): Promise<void> {
  const fleet = (await loadFleetIfAny(opts))?.fleet;
  const hosts = await Hosts.open(hostsFor(opts, fleet), fleet);
  try {
    const domains = await hosts.domains();
    const found = [...domains].flatMap(([host, doms]) => doms.filter((d) => d.name === opts.guest).map((dom) => ({ host, dom })));
    if (!found.length) {
      hosts.warnUnreachable();
      // As every other command: a guest that is not there is a bad argument (exit 2).
      const known = fleet ? `; the spec's guests: ${fleet.guests.map((g) => g.name).join(', ')}` : '';
      throw new SpecError([{ path: 'guest', message: `no domain named ${opts.guest} on ${hosts.links.map((l) => l.host.connect).join(', ')}${known}` }], 'unknown guest');
    }
    const { host, dom } = found.find((x) => domainFacts(x.dom.xml).owner) ?? found[0]!;
    const f = domainFacts(dom.xml);
    if (!f.owner) throw new RefusedError(foreign(opts.guest));
    const s = hosts.session(host);
    if (opts.log) {
      if (!f.consoleLog) throw new ToolError({ message: `${opts.guest} has no console log file`, command: 'console --log' });
      const store = await s.store();
      const text = await store.readConsole({ ...store.paths(opts.guest), console: f.consoleLog });
      if (text === undefined) throw new ToolError({ message: `cannot read ${opts.guest}'s console log ${f.consoleLog} on host ${host}`, command: 'console --log' });
      process.stdout.write(process.stdout.isTTY ? printable(text) : text);
      return;
    }
    process.exitCode = await s.lv.virsh.console(opts.guest);
  } finally {
    await hosts.close();
  }
}
