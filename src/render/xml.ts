// XML text ↔ the object tree fast-xml-parser uses. Entities are left as written on both sides:
// every value flakevirt adds goes through escape/xml.ts, and template text stays as the user wrote it.
import { XMLBuilder, XMLParser } from 'fast-xml-parser';

export type XmlNode = { [key: string]: unknown };

/** Elements that may repeat; always parsed as arrays so code can append to them. */
const REPEATED = new Set([
  'domain.devices.disk', 'domain.devices.controller', 'domain.devices.interface', 'domain.devices.serial',
  'domain.devices.console', 'domain.devices.channel', 'domain.devices.rng', 'domain.devices.filesystem',
  'domain.devices.hostdev', 'domain.devices.input', 'domain.devices.graphics', 'domain.devices.video',
  'domain.devices.memballoon', 'domain.devices.watchdog', 'domain.devices.tpm', 'domain.devices.sound',
  'domain.os.boot', 'domain.sysinfo', 'domain.qemu:commandline.qemu:arg', 'domain.sysinfo.oemStrings.entry',
]);

const common = { ignoreAttributes: false, attributeNamePrefix: '@_', processEntities: false } as const;

const parser = new XMLParser({
  ...common,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  commentPropName: false,
  isArray: (_name: string, jpath: unknown) => REPEATED.has(String(jpath)),
});

const builder = new XMLBuilder({ ...common, format: true, indentBy: '  ', suppressEmptyNode: true, suppressBooleanAttributes: false });

export function parseXml(xml: string): XmlNode {
  return parser.parse(xml) as XmlNode;
}

export function buildXml(tree: XmlNode): string {
  return builder.build(tree) as string;
}
