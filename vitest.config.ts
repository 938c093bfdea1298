import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 600_000,
    // End-to-end files share one test libvirt host per file; run files one at a time so guests
    // don't compete for the two cores.
    fileParallelism: false,
    reporters: ['default'],
  },
});
