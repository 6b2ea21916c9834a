import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { LabEvent } from '../events.ts';
import { LabService } from '../api/lab-service.ts';
import { startWebServer, type WebServer } from './server.ts';

describe('web mode: the API over HTTP and WebSocket', () => {
  const service = new LabService({ runtime: 'process', ingressPort: 0, pods: 2, replicas: 1 });
  let web: WebServer;
  let base: string;
  const auth = () => ({ authorization: `Bearer ${web.token}` });

  beforeAll(async () => {
    web = await startWebServer({ service, port: 0, host: '127.0.0.1', rendererDir: '/nonexistent' });
    base = `http://127.0.0.1:${web.port}`;
  });
  afterAll(async () => {
    await web?.close();
    await service.close();
  });

  it('prints a URL with the token, and answers 401 without it', async () => {
    expect(web.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${web.port}/\\?token=[\\w-]{32}$`));
    const response = await request(`${base}/api/snapshot`);
    expect(response.statusCode).toBe(401);
    expect(await response.body.json()).toEqual({ error: { message: 'missing or wrong token: open the URL pinlab serve printed' } });
    expect((await request(`${base}/api/snapshot`, { headers: { authorization: 'Bearer nope' } })).statusCode).toBe(401);
  });

  it('refuses other origins and other host names (DNS rebinding), and non-loopback hosts unless asked', async () => {
    expect((await request(`${base}/api/snapshot`, { headers: { ...auth(), origin: 'https://evil.example' } })).statusCode).toBe(403);
    expect((await request(`${base}/api/snapshot`, { headers: { ...auth(), host: 'evil.example' } })).statusCode).toBe(403);
    expect((await request(`${base}/api/snapshot`, { headers: { ...auth(), origin: base } })).statusCode).toBe(200);
    await expect(startWebServer({ service, port: 0, host: '0.0.0.0' })).rejects.toThrow(/refusing to listen on 0\.0\.0\.0.*--dangerously-allow-remote/);
  });

  it('serves the snapshot and runs commands, validating their arguments', async () => {
    const snapshot = await request(`${base}/api/snapshot`, { headers: auth() });
    expect(await snapshot.body.json()).toMatchObject({ version: 0, pods: {} });
    const bad = await request(`${base}/api/commands/pods.scale`, { method: 'POST', headers: auth(), body: JSON.stringify({ count: 0 }) });
    expect(bad.statusCode).toBe(400);
    expect(await bad.body.json()).toMatchObject({ error: { message: expect.stringMatching(/^pods.scale: count/) } });
    const unknown = await request(`${base}/api/commands/pods.explode`, { method: 'POST', headers: auth() });
    expect(unknown.statusCode).toBe(404);
    const junk = await request(`${base}/api/commands/lab.start`, { method: 'POST', headers: auth(), body: '{nope' });
    expect(junk.statusCode).toBe(400);
    const page = await request(`${base}/`);
    expect(await page.body.text()).toMatch(/The UI is not built yet: run <code>npm run build<\/code>/);
  });

  it('streams the snapshot and then event batches over the WebSocket', async () => {
    await expect(new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${web.port}/api/events`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode));
      ws.on('open', () => reject(new Error('opened without a token')));
    })).resolves.toBe(401);

    const ws = new WebSocket(`ws://127.0.0.1:${web.port}/api/events?token=${web.token}`);
    const messages: { snapshot?: unknown; events?: LabEvent[] }[] = [];
    ws.on('message', (data) => messages.push(JSON.parse(String(data))));
    await new Promise((resolve) => ws.once('open', resolve));
    const started = await request(`${base}/api/commands/lab.start`, { method: 'POST', headers: auth(), body: '{}' });
    expect(started.statusCode).toBe(200);
    await expect.poll(() => messages.flatMap((m) => m.events ?? []).filter((e) => e.type === 'pod.changed').length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    expect(messages[0]).toHaveProperty('snapshot');
    const status = await request(`${base}/api/status`, { headers: auth() });
    expect(await status.body.json()).toMatchObject({ result: { pods: [{ name: 'pod-1' }, { name: 'pod-2' }] } });
    expect((await request(`${base}/api/commands/lab.stop`, { method: 'POST', headers: auth() })).statusCode).toBe(200);
    // A new lab starts from an empty snapshot: the client gets it, not events for its old view.
    const before = messages.length;
    expect((await request(`${base}/api/commands/lab.start`, { method: 'POST', headers: auth(), body: '{}' })).statusCode).toBe(200);
    await expect.poll(() => messages.slice(before).some((m) => m.snapshot !== undefined), { timeout: 10_000 }).toBe(true);
    ws.close();
    expect((await request(`${base}/api/commands/lab.stop`, { method: 'POST', headers: auth() })).statusCode).toBe(200);
  });
});
