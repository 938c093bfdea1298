// A guest that boots a prebuilt image the spec names (`image:`): flakevirt puts a qcow2 overlay on it.
import type { Boot } from '../model.js';
import type { BootKind } from './kind.js';

type ImageBoot = Extract<Boot, { kind: 'image' }>;

export const image: BootKind<ImageBoot> = {
  name: 'image',
  nixBuilt: false,
  rootDisk: true,
  image: (b) => b.image,
  ownKernel: () => undefined,
  describe: (b) => `image ${b.image}`,
  consoleParams: [],
  inventoryVars: {},
  renderBase: (b) => ({ path: b.image, id: b.image }),
};
