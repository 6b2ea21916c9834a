import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['proxy-core/**/*.test.ts', 'app/**/*.test.ts', 'main/**/*.test.ts', 'renderer/**/*.test.ts', 'e2e/**/*.test.ts', 'scripts/**/*.test.ts', 'deploy/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    reporters: ['default', './scripts/summary-reporter.ts'],
    // Tests never reach for a registry (the demo image is built from the host's Node).
    env: { PINLAB_OFFLINE: '1' },
    // Tests spawn real Redis servers, MCP pods and proxy processes: give them room.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: files in parallel would only fight over them and make process starts slow.
    fileParallelism: false,
  },
});
