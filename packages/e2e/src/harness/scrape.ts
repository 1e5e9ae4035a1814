import { parseExposition, sampleValue, type MetricFamily } from '@kv/protocol';
import { addressOf, type Endpoint } from './endpoint';

/** One scrape of a `/metrics` endpoint, parsed strictly. */
export class Scrape {
  private constructor(readonly families: Map<string, MetricFamily>) {}

  /** GETs `http://<endpoint>/metrics` and parses it; throws on any format error. */
  static async of(endpoint: Endpoint | undefined): Promise<Scrape> {
    if (endpoint === undefined) throw new Error('this process serves no metrics');
    const res = await fetch(`http://${addressOf(endpoint)}/metrics`);
    if (!res.ok) throw new Error(`GET /metrics of ${addressOf(endpoint)}: HTTP ${res.status}`);
    return new Scrape(parseExposition(await res.text()));
  }

  /** The sample's value, 0 when the series is absent (a labelled counter never incremented). */
  value(name: string, labels: Record<string, string> = {}): number {
    return sampleValue(this.families, name, labels) ?? 0;
  }
}
