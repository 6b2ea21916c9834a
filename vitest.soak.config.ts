import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

// npm run test:soak: the one-minute soak of app/soak, with the suite's settings.
export default defineConfig({ ...base, test: { ...base.test, include: ['app/soak/**/*.test.ts'], exclude: ['**/node_modules/**'] } });
