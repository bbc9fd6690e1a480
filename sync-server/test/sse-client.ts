/** A minimal Server-Sent Events reader over fetch, for tests and the benchmark. */
export interface SseMessage {
  readonly event: string;
  readonly id: string | undefined;
  readonly data: string;
  /** performance.now() when the message was parsed. */
  readonly receivedAt: number;
}

export class SseClient {
  readonly messages: SseMessage[] = [];
  private readonly controller = new AbortController();
  onMessage: ((m: SseMessage) => void) | undefined;
  closed: Promise<void> = Promise.resolve();

  static async open(url: string, token: string, lastEventId?: string): Promise<SseClient> {
    const client = new SseClient();
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${token}`, ...(lastEventId ? { "last-event-id": lastEventId } : {}) },
      signal: client.controller.signal,
    });
    if (!response.ok || !response.body) throw new Error(`SSE: HTTP ${response.status}`);
    client.closed = client.read(response.body);
    return client;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = "";
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value: chunk } = await reader.read();
        if (done) break;
        buffer += decoder.decode(chunk, { stream: true });
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf("\n\n");
          let event = "message";
          let id: string | undefined;
          const data: string[] = [];
          for (const line of block.split("\n")) {
            if (line.startsWith("event: ")) event = line.slice(7);
            else if (line.startsWith("id: ")) id = line.slice(4);
            else if (line.startsWith("data: ")) data.push(line.slice(6));
          }
          if (data.length === 0) continue;
          const message = { event, id, data: data.join("\n"), receivedAt: performance.now() };
          this.messages.push(message);
          this.onMessage?.(message);
        }
      }
    } catch {
      // aborted
    }
  }

  lastId(): string | undefined {
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const id = this.messages[i]?.id;
      if (id !== undefined) return id;
    }
    return undefined;
  }

  close(): void {
    this.controller.abort();
  }
}
