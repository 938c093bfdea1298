// flakevirt console GUEST [--log]: the serial console, live or from its log file.
import { readFile } from 'node:fs/promises';
import { RefusedError, ToolError } from '../errors.js';
import { domainFacts } from '../ownership.js';
import { foreign } from '../plan.js';
import { connectUri, loadFleetIfAny, type GlobalOptions } from './context.js';
import { Session } from './session.js';

export interface ConsoleOptions extends GlobalOptions {
  guest: string;
  log?: boolean;
}

export async function consoleCommand(opts: ConsoleOptions): Promise<void> {
  const uri = connectUri(opts, (await loadFleetIfAny(opts))?.fleet);
  const s = await Session.open(uri);
  try {
    const dom = await s.lv.domain(opts.guest);
    if (!dom) throw new ToolError({ message: `no domain named ${opts.guest} on ${uri}`, command: 'console' });
    const f = domainFacts(dom.xml);
    if (!f.owner) throw new RefusedError(foreign(opts.guest));
    if (opts.log) {
      if (!f.consoleLog) throw new ToolError({ message: `${opts.guest} has no console log file`, command: 'console --log' });
      process.stdout.write(await readFile(f.consoleLog, 'utf8'));
      return;
    }
    process.exitCode = await s.lv.virsh.console(opts.guest);
  } finally {
    await s.close();
  }
}
