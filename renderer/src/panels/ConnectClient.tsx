import { useState } from 'react';

/** The ingress URL, to point MCP Inspector or an agent at: their sessions show up like the simulated ones. */
export function ConnectClient({ url }: { url: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(url);
    } catch {
      // No clipboard permission (a plain browser page may lack it): select the text for the person to copy.
      const range = document.createRange();
      range.selectNodeContents(document.querySelector('[data-testid="ingress-url"]')!);
      getSelection()?.removeAllRanges();
      getSelection()?.addRange(range);
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  };
  return (
    <section className="panel connect-panel" aria-label="Connect your own client">
      <header className="panel-header">
        <h2>Connect your own client</h2>
      </header>
      <div className="connect-row">
        <code className="mono selectable" data-testid="ingress-url">{url}</code>
        <button type="button" className="btn btn-small" onClick={() => void copy()} data-testid="copy-ingress-url">
          {copied ? 'copied' : 'copy'}
        </button>
      </div>
      <p className="panel-hint">Point MCP Inspector or an agent at this Streamable HTTP URL: its session appears in the topology like the simulated ones.</p>
    </section>
  );
}
