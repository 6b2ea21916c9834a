// What the proxy reads of a client's request and writes on its response: node:http's
// IncomingMessage and ServerResponse serve it, and so do the lean front's own objects
// (lean-front.ts). Typing the proxy against these, not node's classes, keeps that honest.
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * What the proxy, `Drain`, the relay and the ops routes read of a request: the lean request
 * serves exactly this (an IncomingMessage does too: see the checks at the end of this file).
 */
export interface ProxyRequest {
  readonly method?: string;
  readonly url?: string;
  readonly httpVersion: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly socket: Socket;
  readonly complete: boolean;
  /** The body, as `readBoundedBody` reads it. */
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'end', listener: () => void): this;
  once(event: 'error', listener: (error: Error) => void): this;
  off(event: 'data', listener: (chunk: Buffer) => void): this;
  off(event: 'end', listener: () => void): this;
  off(event: 'error', listener: (error: Error) => void): this;
  resume(): this;
  destroy(error?: Error): this;
}

/**
 * What the proxy, `RelayHandler`, `Drain` and the ops routes call on a response; a writable
 * stream besides, as `pipeline` ends in it (an initialize answer's rest).
 */
export interface ProxyResponse extends NodeJS.WritableStream {
  statusCode: number;
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  readonly writableFinished: boolean;
  readonly destroyed: boolean;
  readonly socket: Socket | null;
  setHeader(name: string, value: number | string | readonly string[]): this;
  getHeader(name: string): number | string | string[] | undefined;
  removeHeader(name: string): void;
  hasHeader(name: string): boolean;
  writeHead(statusCode: number, headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this;
  writeHead(statusCode: number, statusMessage?: string, headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this;
  flushHeaders(): void;
  write(chunk: string | Uint8Array, callback?: (error?: Error | null) => void): boolean;
  write(chunk: string | Uint8Array, encoding: BufferEncoding, callback?: (error?: Error | null) => void): boolean;
  end(callback?: () => void): this;
  end(chunk: string | Uint8Array, callback?: () => void): this;
  end(chunk: string | Uint8Array, encoding: BufferEncoding, callback?: () => void): this;
  destroy(error?: Error): this;
  on(event: 'close' | 'finish' | 'drain', listener: () => void): this;
  once(event: 'close' | 'finish' | 'drain', listener: () => void): this;
  off(event: 'close' | 'finish' | 'drain', listener: () => void): this;
}

// Node's own objects serve everything the interfaces name: the lean ones stand in for them.
type Satisfies<T, U extends T> = U;
export type NodeServesRequest = Satisfies<ProxyRequest, IncomingMessage>;
export type NodeServesResponse = Satisfies<ProxyResponse, ServerResponse>;
