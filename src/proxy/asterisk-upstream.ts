import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';

/**
 * The upstream side of an asterisk-form request (`OPTIONS *`, RFC 9112 §3.2.4): undici
 * refuses any path that is not `/…` or an absolute URI, so such a request goes up through
 * Node's HTTP client instead, on its own connection dialled as the pool dials (--connect-to,
 * guarded DNS, verified TLS, parent proxy: UpstreamPools.dial) and closed after the answer.
 * It speaks the dispatch-handler protocol relay.ts drives (start, head, data with
 * pause/resume, end with trailers, error), so the answer is relayed, captured and
 * recorded like any other. An upstream silent for `silenceMs` (the upstream headers
 * timeout) is cut as undici's would be: upstream_timeout before the head, the answer cut after.
 */
export function asteriskUpstream(dial: () => Promise<Socket>, silenceMs: number): Pick<Dispatcher, 'dispatch'> {
  return {
    dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      let request: ClientRequest | undefined;
      let response: IncomingMessage | undefined;
      let socket: Socket | undefined;
      let done = false;
      const controller = {
        aborted: false, paused: false, reason: null as Error | null,
        rawHeaders: null as Buffer[] | null, rawTrailers: null as Buffer[] | null,
        abort(reason: Error) {
          if (done) return;
          done = true;
          controller.aborted = true;
          controller.reason = reason;
          request?.destroy();
          socket?.destroy();
        },
        pause() {
          controller.paused = true;
          response?.pause();
        },
        resume() {
          controller.paused = false;
          response?.resume();
        },
      };
      const c = controller as unknown as Dispatcher.DispatchController;
      const fail = (err: Error): void => {
        if (done) return;
        done = true;
        socket?.destroy();
        handler.onResponseError?.(c, err);
      };
      handler.onRequestStart?.(c, {});
      if (done) return true;
      const headers = (opts.headers ?? []) as string[];
      dial().then((dialled) => {
        socket = dialled;
        if (done) return void dialled.destroy();
        request = httpRequest({ method: opts.method, path: opts.path, headers, setHost: false, createConnection: () => dialled });
        request.on('information', (info) => {
          controller.rawHeaders = info.rawHeaders.map((v) => Buffer.from(v, 'latin1'));
          handler.onResponseStart?.(c, info.statusCode, {}, info.statusMessage);
        });
        request.on('response', (res) => {
          response = res;
          controller.rawHeaders = res.rawHeaders.map((v) => Buffer.from(v, 'latin1'));
          handler.onResponseStart?.(c, res.statusCode ?? 502, {}, res.statusMessage);
          res.on('data', (chunk: Buffer) => handler.onResponseData?.(c, chunk));
          res.on('end', () => {
            if (done) return;
            done = true;
            controller.rawTrailers = res.rawTrailers.map((v) => Buffer.from(v, 'latin1'));
            handler.onResponseEnd?.(c, {});
            dialled.destroy();
          });
          res.on('error', fail);
        });
        request.on('error', fail);
        request.setTimeout(silenceMs, () => request?.destroy(Object.assign(new Error('the upstream sent nothing in time'), { code: 'UND_ERR_HEADERS_TIMEOUT' })));
        const body = opts.body as Buffer | Readable | null | undefined;
        if (body && typeof (body as Readable).pipe === 'function') (body as Readable).pipe(request);
        else request.end(body ?? undefined);
      }, fail);
      return true;
    },
  };
}
