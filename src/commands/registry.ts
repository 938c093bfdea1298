// The provisioning commands, as yargs command modules. Each handler lives in its own file.
import type { CommandModule } from 'yargs';
import { NotImplementedError } from '../errors.js';

const planned = (command: string, describe: string, issue: string): CommandModule => ({
  command,
  describe: `${describe} (not implemented yet)`,
  handler: () => {
    throw new NotImplementedError(command.split(' ')[0]!, issue);
  },
});

export const commands: CommandModule[] = [
  planned('build [guests..]', 'build guest images through Nix', 'issue 4'),
  planned('up [guests..]', 'create, start and wait for the DHCP lease of guests', 'issue 3'),
  planned('down [guests..]', 'destroy guests and delete their disks', 'issue 3'),
  planned('reimage [guests..]', 'give guests a fresh root disk on the current base image', 'issue 3'),
  planned('list', 'one row per flakevirt guest', 'issue 3'),
  planned('ips', 'NAME IP lines', 'issue 3'),
  planned('console <guest>', "attach to a guest's serial console", 'issue 3'),
  planned('inventory', 'Ansible inventory of the running guests', 'issue 5'),
  planned('ssh-config', 'ssh Host blocks for the guests', 'issue 5'),
];
