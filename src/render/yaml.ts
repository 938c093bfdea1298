// YAML text for the outputs that offer it (inventory --format yaml), in a module of its own so the
// commands that print JSON or INI (inventory --list, on every Ansible call) never load the yaml
// package. Imported with import(); a static import here keeps yaml's CommonJS exports named.
import { stringify } from 'yaml';

export function yamlText(value: unknown): string {
  return stringify(value);
}
